import { describe, expect, it } from "vitest";
import { dateOnly, dateTime, listTime, timeOnly, utcDateTime } from "./time";

// Monday 7 December 2026, 00:00 UTC: a profit-share settlement boundary.
const MONDAY = Date.UTC(2026, 11, 7);

describe("time", () => {
  it("shows a UTC boundary in UTC, 24-hour, with the month as a word", () => {
    expect(utcDateTime(MONDAY, "en-US")).toBe("Mon, Dec 7, 2026, 00:00 UTC");
    expect(utcDateTime(MONDAY, "en-GB")).toBe("Mon, 7 Dec 2026, 00:00 UTC");
  });

  it("never reads as a 12-hour clock or a numeric date", () => {
    const text = dateTime(MONDAY + 13 * 3_600_000, "en-US");
    expect(text).not.toMatch(/AM|PM|\d+\/\d+\/\d+/);
    expect(text).toMatch(/Dec/);
    expect(timeOnly(MONDAY, "en-US")).toMatch(/^\d\d:\d\d:\d\d$/);
    expect(dateOnly(MONDAY, "en-US")).toMatch(/Dec \d+, 2026/);
  });

  it("says so for an unknown time instead of 'Invalid Date'", () => {
    expect(dateTime(Number.NaN)).toBe("—");
    expect(listTime(Number.NaN, MONDAY)).toBe("—");
  });

  it("shortens a list's time to what tells it apart from today", () => {
    // Local times, whatever the machine's zone: noon on a Monday, 7 December 2026.
    const now = new Date(2026, 11, 7, 12, 0, 0).getTime();
    const earlier = new Date(2026, 11, 7, 9, 5, 9).getTime();
    expect(listTime(earlier, now, "en-US")).toBe("09:05:09");
    const lastWeek = new Date(2026, 10, 30, 15, 13).getTime();
    expect(listTime(lastWeek, now, "en-US")).toBe("Nov 30, 15:13");
    expect(listTime(lastWeek, now, "en-GB")).toBe("30 Nov, 15:13");
    const lastYear = new Date(2025, 11, 31, 23, 59).getTime();
    expect(listTime(lastYear, now, "en-US")).toBe("Dec 31, 2025, 23:59");
  });
});
