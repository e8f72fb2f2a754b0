import { describe, expect, it } from "vitest";
import { curveForDays } from "./range";

const DAY = 86_400_000;
const daily = (n: number) => Array.from({ length: n }, (_, i) => ({ tsMs: 1_000 + i * DAY, value: String(i) }));

describe("curveForDays", () => {
  it("keeps a window's start and each day's end, counted back from the newest point", () => {
    const curve = daily(91);
    expect(curveForDays(curve, 7).map((p) => p.value)).toEqual(["83", "84", "85", "86", "87", "88", "89", "90"]);
    expect(curveForDays(curve, 30)).toHaveLength(31);
    expect(curveForDays(curve, 30)[0].value).toBe("60");
    expect(curveForDays(curve, 90)).toHaveLength(91);
  });

  it("orders the points and keeps a shorter history whole", () => {
    const curve = daily(5).reverse();
    expect(curveForDays(curve, 30).map((p) => p.value)).toEqual(["0", "1", "2", "3", "4"]);
    expect(curveForDays([], 7)).toEqual([]);
  });
});
