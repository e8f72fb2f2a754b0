import { describe, expect, it } from "vitest";
import { add, compare, duration, group, isDecimal, money, num, pct, percentOf, precise, round, sign, signed, signedPct, sub } from "./decimal";

describe("decimal strings", () => {
  it("recognises plain decimals only", () => {
    expect(isDecimal("1000")).toBe(true);
    expect(isDecimal("-0.25")).toBe(true);
    expect(isDecimal("1e3")).toBe(false);
    expect(isDecimal("abc")).toBe(false);
    expect(isDecimal("")).toBe(false);
  });

  it("adds and compares exactly where floating point would not", () => {
    expect(add("0.1", "0.2")).toBe("0.3");
    expect(compare("1000.000000000000000001", "1000")).toBe(1);
    expect(compare("x", "1")).toBeNull();
  });

  it("rounds half up and groups thousands", () => {
    expect(round("2.345", 2)).toBe("2.35");
    expect(round("-2.345", 2)).toBe("-2.35");
    expect(group("1234567.891")).toBe("1,234,567.891");
    expect(group("-1000")).toBe("−1,000");
  });

  it("shows money with its asset and PnL with a sign", () => {
    expect(money("1000")).toBe("1,000 USDT");
    expect(money("1000.5")).toBe("1,000.5 USDT");
    expect(money(null)).toBe("—");
    expect(signed("12.5")).toBe("+12.50");
    expect(signed("-3.1")).toBe("−3.10");
    expect(signed("0")).toBe("0.00");
    expect(sign("-0.01")).toBe(-1);
  });

  it("computes a share in percent", () => {
    expect(percentOf("1000", "10000")).toBe("10.0");
    expect(percentOf("1", "3", 2)).toBe("33.33");
    expect(percentOf("1", "0")).toBeNull();
  });

  it("formats every figure with the typographic minus and grouping", () => {
    expect(num("-11.5123")).toBe("−11.51");
    expect(num("1234.5")).toBe("1,234.50");
    expect(num("-0.001")).toBe("0.00");
    expect(num(null)).toBe("—");
    expect(pct("44")).toBe("44.00 %");
    expect(pct("-8.544", 1)).toBe("−8.5 %");
    expect(signedPct("2.654")).toBe("+2.65 %");
    expect(signedPct("-8.54")).toBe("−8.54 %");
    expect(duration(45 * 60_000)).toBe("45 min");
    expect(duration(3.5 * 3_600_000)).toBe("3.5 h");
    expect(duration(50 * 3_600_000)).toBe("2.1 d");
  });
});

describe("precise", () => {
  it("shows a price or quantity with its symbol's decimals, exactly", () => {
    expect(precise("50000.5", 2)).toBe("50,000.50");
    expect(precise("0.01", 3)).toBe("0.010");
    expect(precise("3000.255", 2)).toBe("3,000.26");
    expect(precise("-0.01", 3)).toBe("−0.010");
    expect(precise("20", 0)).toBe("20");
  });
  it("keeps the core's string when the precision is unknown, and a dash for nothing", () => {
    expect(precise("1234.5678", null)).toBe("1,234.5678");
    expect(precise(null, 2)).toBe("—");
    expect(precise("abc", 2)).toBe("—");
  });
});

describe("sub", () => {
  it("subtracts exactly", () => {
    expect(sub("12.5", "0.8")).toBe("11.7");
    expect(sub("0.1", "-0.2")).toBe("0.3");
    expect(sub("0", "0.30000000000000001")).toBe("-0.30000000000000001");
  });
});
