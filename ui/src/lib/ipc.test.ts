import { describe, expect, it, vi } from "vitest";
import { EVENT_NAME, isApiError, tauriBackend, toApiError } from "./ipc";
import { defaultSettings } from "./settings";

function recording(reply: unknown = null) {
  const calls: [string, Record<string, unknown> | undefined][] = [];
  const inv = vi.fn(async (cmd: string, args?: Record<string, unknown>) => {
    calls.push([cmd, args]);
    return reply;
  });
  return { calls, inv };
}

describe("toApiError", () => {
  it("keeps a {code, message, field} error as it is", () => {
    expect(toApiError({ code: "invalid_input", message: "at least 100 USDT", field: "investment" })).toEqual({
      code: "invalid_input",
      message: "at least 100 USDT",
      field: "investment",
    });
  });

  it("fills a missing field with null and an unknown code with internal", () => {
    expect(toApiError({ code: "not_found", message: "no copy named x" })).toEqual({
      code: "not_found",
      message: "no copy named x",
      field: null,
    });
    expect(toApiError({ code: "weird", message: "m" }).code).toBe("internal");
  });

  it("wraps Tauri's plain-string failures as an internal error with their text", () => {
    expect(toApiError("command copy_create not found")).toEqual({
      code: "internal",
      message: "command copy_create not found",
      field: null,
    });
    expect(toApiError(new Error("boom")).message).toBe("boom");
    expect(isApiError(toApiError("x"))).toBe(true);
  });
});

describe("tauriBackend", () => {
  it("maps each method to its command name and camelCase arguments (FACADE.md)", async () => {
    const { calls, inv } = recording();
    const b = tauriBackend(inv, vi.fn());
    const settings = defaultSettings();
    await b.appInfo();
    await b.accounts();
    await b.addAccount({ name: "main", exchange: "binance-usdm", environment: "demo", endpoint: null, apiKey: "k", apiSecret: "s", passphrase: null });
    await b.removeAccount("main");
    await b.checkKey("main");
    await b.paperStatus();
    await b.startPaper();
    await b.leaders();
    await b.leader("demo-1");
    await b.validateSettings(settings);
    await b.preview({ leader: "demo-1", follower: "paper", settings });
    await b.createCopy({ name: "c", leader: "demo-1", follower: "paper", settings });
    await b.pause("c");
    await b.resume("c");
    await b.stop("c", "keep");
    await b.modify("c", { settings: { ...settings, investment: "200" } });
    await b.panic();
    await b.status();
    await b.exportData();
    await b.engineState();
    await b.autostartEnabled();
    await b.setAutostart(true);
    await b.setPositionMode("main", "hedge");
    await b.addLeader({ name: "fund", exchange: "binance-usdm", environment: "mainnet", endpoint: null, apiKey: "k", apiSecret: "s", passphrase: null });
    expect(calls.map(([c]) => c)).toEqual([
      "app_info",
      "accounts_list",
      "account_add",
      "account_remove",
      "key_check",
      "paper_status",
      "paper_start",
      "leaders_list",
      "leader_detail",
      "settings_validate",
      "sizing_preview",
      "copy_create",
      "copy_pause",
      "copy_resume",
      "copy_stop",
      "copy_modify",
      "panic",
      "status",
      "export",
      "engine_state",
      "autostart_enabled",
      "autostart_set",
      "account_set_position_mode",
      "leader_add",
    ]);
    expect(calls[23][1]).toEqual({ req: expect.objectContaining({ name: "fund", environment: "mainnet" }) });
    expect(calls[22][1]).toEqual({ name: "main", mode: "hedge" });
    expect(calls[21][1]).toEqual({ enabled: true });
    expect(calls[2][1]).toEqual({ req: expect.objectContaining({ name: "main", apiSecret: "s" }) });
    expect(calls[8][1]).toEqual({ id: "demo-1" });
    expect(calls[9][1]).toEqual({ settings });
    expect(calls[10][1]).toEqual({ req: { leader: "demo-1", follower: "paper", settings } });
    expect(calls[14][1]).toEqual({ name: "c", action: "keep" });
  });

  it("maps the dashboard's position, chart and activity calls to their commands", async () => {
    const { calls, inv } = recording();
    const b = tauriBackend(inv, vi.fn());
    await b.closePosition("c", "BTCUSDT", "long");
    await b.unlinkPosition("c", "ETHUSDT", "short");
    await b.copyPnl("c");
    await b.activity(null);
    await b.activity("c");
    await b.activity(null, 1000);
    expect(calls).toEqual([
      ["position_close", { copy: "c", symbol: "BTCUSDT", side: "long" }],
      ["position_unlink", { copy: "c", symbol: "ETHUSDT", side: "short" }],
      ["copy_pnl", { name: "c" }],
      ["activity", { copy: null, limit: null }],
      ["activity", { copy: "c", limit: null }],
      ["activity", { copy: null, limit: 1000 }],
    ]);
  });

  it("rejects with an ApiError carrying the field the core named", async () => {
    const inv = vi.fn(async () => {
      throw { code: "invalid_input", message: "At least 100 USDT for Smart Sync.", field: "investment" };
    });
    const b = tauriBackend(inv, vi.fn());
    await expect(b.validateSettings(defaultSettings())).rejects.toEqual({
      code: "invalid_input",
      message: "At least 100 USDT for Smart Sync.",
      field: "investment",
    });
  });

  it("hands each copydesk://event payload to the handler and returns the unlisten", async () => {
    let registered: ((e: { payload: unknown }) => void) | null = null;
    const unlisten = vi.fn();
    const lis = vi.fn(async (name: string, h: (e: { payload: unknown }) => void) => {
      expect(name).toBe(EVENT_NAME);
      registered = h;
      return unlisten;
    });
    const b = tauriBackend(vi.fn(), lis);
    const seen: unknown[] = [];
    const stop = await b.onEvent((e) => seen.push(e));
    const ev = { tsMs: 1, copy: "c", level: "info", kind: "fill", message: "bought 0.010 BTC" };
    registered!({ payload: ev });
    expect(seen).toEqual([ev]);
    stop();
    expect(unlisten).toHaveBeenCalledOnce();
  });
});
