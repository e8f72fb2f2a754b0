// The frame around every screen: mode badge, engine state, panic, sidebar, copy cards.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { tick } from "svelte";
import { createMockBackend, DEMO_LEADERS } from "../lib/mock";
import { defaultSettings } from "../lib/settings";
import { AppStore } from "../lib/store.svelte";
import type { CopyStatusDto } from "../lib/types";
import CopyCard from "./CopyCard.svelte";
import EngineState from "./EngineState.svelte";
import PanicButton from "./PanicButton.svelte";
import Sidebar from "./Sidebar.svelte";
import TopBar from "./TopBar.svelte";

const MAIN = { name: "main", exchange: "binance-usdm", environment: "mainnet" as const, endpoint: null, keyHint: "…a1b2", paper: false, createdAtMs: 1 };

function copyStatus(name: string, over: Partial<CopyStatusDto["copy"]> = {}, positions = 0): CopyStatusDto {
  return {
    copy: {
      name,
      leader: "demo-steady",
      follower: "paper",
      paper: true,
      settings: defaultSettings(),
      state: "running",
      reason: null,
      holds: [],
      t0Ms: 1,
      ...over,
    },
    figures: { realizedPnl: "10", unrealizedPnl: "2.5", fees: "0.4", funding: "0.1", roi: "1.25", maxDrawdown: "0.5" },
    positions: Array.from({ length: positions }, (_, i) => ({
      symbol: `SYM${i}USDT`,
      side: "long" as const,
      leaderQty: "0.1",
      followerQty: "0.010",
      ratio: "0.1",
      entryPrice: "50000",
      margin: "100",
      leverage: 5,
      stopPrice: null,
      stopConfirmed: true,
      drift: null,
    })),
    decisions: [],
    fills: [],
    ordersJournaled: 0,
    unknownOrders: [],
    latency: null,
    precision: [],
  };
}

describe("PanicButton", () => {
  it("confirms once, naming the copies and the positions it closes", async () => {
    const onPanic = vi.fn(async () => {});
    render(PanicButton, { copies: [copyStatus("a", {}, 2), copyStatus("b", {}, 1), copyStatus("old", { state: "stopped" })], onPanic });
    await fireEvent.click(screen.getByRole("button", { name: "Panic" }));
    const dialog = screen.getByRole("alertdialog", { name: "Stop everything?" });
    expect(dialog.textContent).toContain("Stops all 2 copies (a, b) and closes 3 open positions at market.");
    expect(document.activeElement?.textContent).toBe("Cancel");
    await fireEvent.click(screen.getByRole("button", { name: "Stop all copies and close positions" }));
    expect(onPanic).toHaveBeenCalledOnce();
  });

  it("cancel closes the confirm without acting", async () => {
    const onPanic = vi.fn(async () => {});
    render(PanicButton, { copies: [copyStatus("a")], onPanic });
    await fireEvent.click(screen.getByRole("button", { name: "Panic" }));
    await fireEvent.click(screen.getByRole("button", { name: "Cancel" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    expect(onPanic).not.toHaveBeenCalled();
  });
});

describe("EngineState", () => {
  it("shows running copies, the last event's age and the weight gauge", () => {
    render(EngineState, {
      status: { copies: [copyStatus("a"), copyStatus("b", { state: "paused" })], recent: [], weight: [{ venue: "paper", used: 120, limit: 2400, waits: 0, longestWaitMs: 0 }] },
      lastEventMs: 10_000,
      now: 15_400,
    });
    const el = screen.getByLabelText("Engine state");
    expect(el.textContent).toContain("1 copy running");
    expect(el.textContent).toContain("last event 5 s ago");
    expect((screen.getByLabelText("paper request weight") as HTMLMeterElement).value).toBe(120);
  });
});

describe("TopBar", () => {
  it("says PAPER plainly in paper mode", async () => {
    const store = new AppStore(createMockBackend());
    await store.start();
    render(TopBar, { store });
    expect(screen.getByText("PAPER")).toBeTruthy();
    expect(screen.getByText("Paper trading: simulated money, no real orders.")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Panic" })).toBeTruthy();
  });

  it("says LIVE in live mode, with a small PAPER badge while paper runs alongside", async () => {
    const store = new AppStore(createMockBackend({ mode: "live", accounts: [MAIN] }));
    await store.start();
    render(TopBar, { store });
    expect(screen.getByText("LIVE")).toBeTruthy();
    expect(screen.getByText("PAPER")).toBeTruthy();
    expect(screen.queryByText("Paper trading: simulated money, no real orders.")).toBeNull();
  });
});

describe("TopBar with a leader-only account", () => {
  const leaderKey = {
    name: "fund",
    exchange: "binance-usdm",
    environment: "custom" as const,
    endpoint: "http://127.0.0.1:8790",
    apiKey: "ro-key-1234",
    apiSecret: "ro-secret",
    passphrase: null,
  };

  it("stays PAPER when a read-only leader on a custom endpoint is added and every copy is paper", async () => {
    const b = createMockBackend({ copies: [copyStatus("steady")] });
    const store = new AppStore(b);
    await store.start();
    render(TopBar, { store });
    const added = await store.addLeader(leaderKey);
    expect(added.leaderId).toBe("fund");
    // The leader's account is a real (not paper) account with a key hint: it only leads.
    expect(store.accounts.find((a) => a.name === "fund")).toMatchObject({ paper: false, keyHint: "…1234" });
    await tick();
    expect(screen.queryByText("LIVE")).toBeNull();
    expect(screen.getAllByText("PAPER")).toHaveLength(1);
    expect(screen.getByText("Paper trading: simulated money, no real orders.")).toBeTruthy();
  });

  it("stays PAPER with only a leader-only account and no copy, even when the core said live at start", async () => {
    const leaderAccount = { name: "fund", exchange: "binance-usdm", environment: "custom" as const, endpoint: "http://127.0.0.1:8790", keyHint: "…1234", paper: false, createdAtMs: 1 };
    const b = createMockBackend({ mode: "live", accounts: [leaderAccount] });
    const store = new AppStore(b);
    await store.start();
    // The mock lists account leaders it added itself; this one was stored before the start.
    store.leaders = [...(store.leaders ?? []), { ...DEMO_LEADERS[0], id: "fund", name: "fund", source: "account" }];
    render(TopBar, { store });
    expect(screen.queryByText("LIVE")).toBeNull();
    expect(screen.getByText("PAPER")).toBeTruthy();
  });

  it("lights LIVE when a copy follows a real account, the leader's account notwithstanding", async () => {
    const b = createMockBackend({ accounts: [MAIN], copies: [copyStatus("real", { follower: "main", paper: false })] });
    const store = new AppStore(b);
    await store.start();
    await store.addLeader(leaderKey);
    render(TopBar, { store });
    expect(screen.getByText("LIVE")).toBeTruthy();
  });
});

describe("Sidebar", () => {
  it("lists the five sections and marks the current one", async () => {
    const onSelect = vi.fn();
    render(Sidebar, { view: "copies", onSelect });
    const buttons = screen.getAllByRole("button").map((b) => b.textContent);
    expect(buttons).toEqual(["Copies", "Leaders", "Accounts", "Activity", "Settings"]);
    expect(screen.getByRole("button", { name: "Copies" }).getAttribute("aria-current")).toBe("page");
    await fireEvent.click(screen.getByRole("button", { name: "Leaders" }));
    expect(onSelect).toHaveBeenCalledWith("leaders");
  });
});

describe("CopyCard", () => {
  it("shows leader, amount, state, PnL with sign, and pause", async () => {
    const onAction = vi.fn();
    render(CopyCard, { status: copyStatus("steady", {}, 1), leaderName: "Steady Trend", onAction });
    const card = screen.getByRole("article", { name: "Copy steady" });
    expect(card.textContent).toContain("Steady Trend → paper · Smart Sync 1,000 USDT");
    expect(screen.getByRole("status").textContent).toBe("running");
    // After costs: 10 realized + 2.5 unrealized + 0.1 funding − 0.4 fees.
    expect(screen.getByLabelText("PnL: +12.20 USDT")).toBeTruthy();
    expect(card.textContent).toContain("PAPER");
    expect(card.textContent).toContain("Positions1");
    await fireEvent.click(screen.getByRole("button", { name: "Pause steady" }));
    expect(onAction).toHaveBeenCalledWith("steady", "pause");
  });

  it("a live copy carries the LIVE badge, a held one its reason", () => {
    render(CopyCard, {
      status: copyStatus("real", { paper: false, state: "held", holds: [{ kind: "unprotected", reason: "stop not confirmed" }] }),
      leaderName: "X",
      onAction: vi.fn(),
    });
    expect(screen.getByText("LIVE")).toBeTruthy();
    expect(screen.getByRole("status").textContent).toBe("on hold: stop not confirmed");
  });
});
