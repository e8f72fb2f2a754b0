import { describe, expect, it, vi } from "vitest";
import { AppStore } from "./store.svelte";
import { createMockBackend, demoCopy } from "./mock";
import { defaultSettings } from "./settings";

describe("AppStore", () => {
  it("loads info, accounts, leaders and status on start", async () => {
    const b = createMockBackend();
    const s = new AppStore(b);
    await s.start();
    expect(s.info?.mode).toBe("paper");
    expect(s.accounts.map((a) => a.name)).toEqual(["paper"]);
    expect(s.leaders?.length).toBe(3);
    expect(s.status?.copies).toEqual([]);
  });

  it("re-reads the status when an event arrives, with no polling", async () => {
    const b = createMockBackend();
    const s = new AppStore(b);
    await s.start();
    const before = b.calls.filter((c) => c.method === "status").length;
    b.emit({ tsMs: 5, copy: "c", level: "info", kind: "fill", notice: null, message: "bought" });
    await s.idle();
    expect(b.calls.filter((c) => c.method === "status").length).toBe(before + 1);
    expect(s.events[0].message).toBe("bought");
    expect(s.lastEventMs).toBe(5);
  });

  it("re-reads only the PnL series of the copy an event is about", async () => {
    const b = createMockBackend({ copies: [demoCopy("a"), demoCopy("b"), demoCopy("c")] });
    const s = new AppStore(b);
    await s.start();
    await Promise.all([s.loadPnl("a"), s.loadPnl("b"), s.loadPnl("c")]);
    expect(Object.keys(s.pnl).sort()).toEqual(["a", "b", "c"]);
    const reads = () => b.calls.filter((c) => c.method === "copyPnl").map((c) => c.args[0]);
    const before = reads().length;
    b.emit({ tsMs: 5, copy: "b", level: "info", kind: "fill", notice: null, message: "bought" });
    await s.idle();
    expect(reads().slice(before)).toEqual(["b"]);
    b.emit({ tsMs: 6, copy: null, level: "warning", kind: "notice", notice: null, message: "venue slow" });
    await s.idle();
    expect(reads().slice(before + 1).sort()).toEqual(["a", "b", "c"]);
  });

  it("coalesces events that arrive during a status read into one more read", async () => {
    const b = createMockBackend();
    const s = new AppStore(b);
    await s.start();
    const before = b.calls.filter((c) => c.method === "status").length;
    for (let i = 0; i < 5; i++) b.emit({ tsMs: i, copy: null, level: "info", kind: "notice", notice: null, message: `n${i}` });
    await s.idle();
    expect(b.calls.filter((c) => c.method === "status").length).toBe(before + 2);
    expect(s.events.length).toBe(5);
  });

  it("says why it could not start (another engine holds the data directory)", async () => {
    const b = createMockBackend();
    b.failNext("appInfo", { code: "locked", message: "another CopyDesk uses this data directory", field: null });
    const s = new AppStore(b);
    await s.start();
    expect(s.info).toBeNull();
    expect(s.startError?.code).toBe("locked");
  });

  it("returns the core's complaint with its field from validate", async () => {
    const s = new AppStore(createMockBackend());
    const bad = { ...defaultSettings(), investment: "50" };
    expect(await s.validate(bad)).toEqual({ code: "invalid_input", message: "At least 100 USDT for Smart Sync.", field: "investment" });
    expect(await s.validate(defaultSettings())).toBeNull();
  });

  it("creating a copy refreshes the status and lands on Copies", async () => {
    const s = new AppStore(createMockBackend());
    await s.start();
    s.view = "wizard";
    await s.createCopy({ name: "steady", leader: "demo-steady", follower: "paper", settings: defaultSettings() });
    expect(s.view).toBe("copies");
    expect(s.status?.copies.map((c) => c.copy.name)).toEqual(["steady"]);
  });

  it("keeps a failed copy action's error for the screen, then refreshes", async () => {
    const b = createMockBackend();
    const s = new AppStore(b);
    await s.start();
    await s.copyAction("nope", "pause");
    expect(s.actionError?.code).toBe("not_found");
  });

  it("lists the leaders again when the core says a leader's figures are in, and never on a timer", async () => {
    vi.useFakeTimers();
    try {
      const b = createMockBackend({ pendingListings: 1 });
      const s = new AppStore(b);
      await s.start();
      const reads = () => b.calls.filter((c) => c.method === "leaders").length;
      const statusReads = () => b.calls.filter((c) => c.method === "status").length;
      expect(s.leaders?.every((l) => l.figuresPending && l.figures.length === 0)).toBe(true);
      // Nothing lists again while the figures are read: no polling.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(reads()).toBe(1);
      const before = statusReads();
      b.emit({ tsMs: 1, copy: null, level: "info", kind: "leader_figures", notice: null, message: "figures of leader `demo-steady` are ready" });
      await vi.advanceTimersByTimeAsync(0);
      expect(reads()).toBe(2);
      expect(s.leaders?.every((l) => !l.figuresPending && l.figures.length === 3)).toBe(true);
      // Not a copy's event: the status is not re-read and the event is not listed.
      expect(statusReads()).toBe(before);
      expect(s.events.some((e) => e.kind === "leader_figures")).toBe(false);
      s.stop();
    } finally {
      vi.useRealTimers();
    }
  });

});
