import { describe, expect, it } from "vitest";
import { chartLocale } from "./locale";

describe("chartLocale", () => {
  it("keeps a language tag Intl accepts", () => {
    expect(chartLocale("de-DE")).toBe("de-DE");
    expect(chartLocale("en")).toBe("en");
  });

  it("falls back to en-US for the POSIX C locale, which Intl refuses", () => {
    expect(() => new Intl.NumberFormat("C")).toThrow(RangeError);
    expect(chartLocale("C")).toBe("en-US");
    expect(chartLocale("")).toBe("en-US");
    expect(chartLocale(undefined)).toBe("en-US");
  });
});
