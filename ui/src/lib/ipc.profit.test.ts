// The profit-share commands' names and arguments (src-tauri `profit_share`, `profit_share_set`).
import { describe, expect, it, vi } from "vitest";
import { tauriBackend } from "./ipc";

describe("tauriBackend profit share", () => {
  it("maps profitShare and setProfitShare to their commands with camelCase arguments", async () => {
    const calls: [string, Record<string, unknown> | undefined][] = [];
    const inv = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
      calls.push([cmd, args]);
      return null;
    });
    const b = tauriBackend(inv, vi.fn());
    await b.profitShare("steady");
    await b.setProfitShare("steady", "0.2");
    await b.setProfitShare("steady", null);
    expect(calls).toEqual([
      ["profit_share", { name: "steady" }],
      ["profit_share_set", { name: "steady", ratio: "0.2" }],
      ["profit_share_set", { name: "steady", ratio: null }],
    ]);
  });

  it("rejects with the core's error on the ratio field", async () => {
    const inv = vi.fn(async () => {
      throw { code: "invalid_input", message: "0.5 is outside the allowed range", field: "profitShareRatio" };
    });
    const b = tauriBackend(inv, vi.fn());
    await expect(b.setProfitShare("steady", "0.5")).rejects.toEqual({
      code: "invalid_input",
      message: "0.5 is outside the allowed range",
      field: "profitShareRatio",
    });
  });
});
