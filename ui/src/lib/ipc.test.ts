import { describe, expect, it } from "vitest";
import { toApiError } from "./ipc";

describe("toApiError", () => {
  it("keeps a {code, message} error as it is", () => {
    expect(toApiError({ code: "not_found", message: "no copy named x" })).toEqual({
      code: "not_found",
      message: "no copy named x",
    });
  });

  it("wraps anything else as an internal error with its text", () => {
    expect(toApiError("boom")).toEqual({ code: "internal", message: "boom", field: null });
  });
});
