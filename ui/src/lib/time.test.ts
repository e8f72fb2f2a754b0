import { describe, expect, it } from "vitest";
import { dateOnly, dateTime, timeOnly, utcDateTime } from "./time";

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
  });
});
