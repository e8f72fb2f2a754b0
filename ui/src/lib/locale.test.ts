import { describe, expect, it } from "vitest";
import { safeLocale } from "./locale";

describe("safeLocale", () => {
  it("keeps a tag Intl accepts and replaces the C locale with en-US", () => {
    expect(safeLocale("de-DE")).toBe("de-DE");
    expect(safeLocale("C")).toBe("en-US");
    expect(safeLocale("")).toBe("en-US");
    expect(() => new Intl.DateTimeFormat(safeLocale("C"))).not.toThrow();
  });
});
