// Dates and times for the screens, one way everywhere: the user's local time, 24-hour,
// the month as a word, so "12/7/2026, 12:00:00 AM" (what `toLocaleString()` gives under a
// C or en-US environment) never appears and a date cannot be read day-for-month. Times the
// rules fix in UTC (the weekly profit-share settlement) are shown in UTC and say so.

import { safeLocale } from "./locale";

const DATE_TIME: Intl.DateTimeFormatOptions = {
  weekday: "short",
  day: "numeric",
  month: "short",
  year: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  hourCycle: "h23",
};
const DATE: Intl.DateTimeFormatOptions = { day: "numeric", month: "short", year: "numeric" };
const TIME: Intl.DateTimeFormatOptions = { hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" };

function format(ms: number, options: Intl.DateTimeFormatOptions, locale: string): string {
  if (!Number.isFinite(ms)) return "—";
  return new Intl.DateTimeFormat(locale, options).format(new Date(ms));
}

/** "Mon, Dec 7, 2026, 14:05" in the user's time zone. */
export function dateTime(ms: number, locale: string = safeLocale()): string {
  return format(ms, DATE_TIME, locale);
}

/** "Dec 7, 2026" in the user's time zone. */
export function dateOnly(ms: number, locale: string = safeLocale()): string {
  return format(ms, DATE, locale);
}

/** "14:05:09" in the user's time zone. */
export function timeOnly(ms: number, locale: string = safeLocale()): string {
  return format(ms, TIME, locale);
}

/**
 * A time in a list, as short as it can be read unambiguously: "14:05:09" today,
 * "Dec 7, 14:05" earlier this year, "Dec 7, 2025, 14:05" before it (the user's time
 * zone). Pair it with the full [`dateTime`] as the cell's title.
 */
export function listTime(ms: number, now: number, locale: string = safeLocale()): string {
  if (!Number.isFinite(ms)) return "—";
  const at = new Date(ms);
  const today = new Date(now);
  if (at.toDateString() === today.toDateString()) return timeOnly(ms, locale);
  const { weekday: _weekday, ...withYear } = DATE_TIME;
  if (at.getFullYear() === today.getFullYear()) {
    const { year: _year, ...thisYear } = withYear;
    return format(ms, thisYear, locale);
  }
  return format(ms, withYear, locale);
}

/** "Mon, Dec 7, 2026, 00:00 UTC": a time the rules define in UTC. */
export function utcDateTime(ms: number, locale: string = safeLocale()): string {
  return `${format(ms, { ...DATE_TIME, timeZone: "UTC" }, locale)} UTC`;
}

/** "Dec 7, 2026": a day the rules define in UTC (a statement's period). */
export function utcDateOnly(ms: number, locale: string = safeLocale()): string {
  return format(ms, { ...DATE, timeZone: "UTC" }, locale);
}
