// The sections, each on the mock backend through the one store.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { createMockBackend } from "../lib/mock";
import { defaultSettings } from "../lib/settings";
import { AppStore } from "../lib/store.svelte";
import AccountsView from "./AccountsView.svelte";
import ActivityView from "./ActivityView.svelte";
import CopiesView from "./CopiesView.svelte";
import LeadersView from "./LeadersView.svelte";
import SettingsView from "./SettingsView.svelte";

async function started(b = createMockBackend()) {
  const store = new AppStore(b);
  await store.start();
  return { b, store };
}

describe("CopiesView", () => {
  it("shows the empty state, whose action opens the wizard", async () => {
    const { store } = await started();
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Start a paper copy" }));
    expect(store.view).toBe("wizard");
  });

  it("lists copies, and pausing one goes through the store", async () => {
    const { b, store } = await started();
    await b.createCopy({ name: "steady", leader: "demo-steady", follower: "paper", settings: defaultSettings() });
    await store.refreshStatus();
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Pause steady" }));
    expect(await screen.findByText("paused")).toBeTruthy();
    expect(b.calls.some((c) => c.method === "pause" && c.args[0] === "steady")).toBe(true);
  });

  it("says when the copies cannot be read", async () => {
    const b = createMockBackend();
    b.failNext("status", { code: "storage", message: "the database cannot be read", field: null });
    const { store } = await started(b);
    render(CopiesView, { store });
    expect(screen.getByRole("alert").textContent).toBe("The copies could not be read: the database cannot be read");
  });
});

describe("LeadersView", () => {
  it("opens a leader's detail through the store", async () => {
    const { store } = await started();
    render(LeadersView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Choose Fast Scalper" }));
    expect(await screen.findByRole("heading", { name: "Fast Scalper: last 30 days" })).toBeTruthy();
  });
});

describe("AccountsView", () => {
  it("lists accounts with their PAPER/LIVE badge and only a key hint", async () => {
    const { store } = await started(
      createMockBackend({
        accounts: [{ name: "main", exchange: "binance-usdm", environment: "mainnet", endpoint: null, keyHint: "…a1b2", paper: false, createdAtMs: 1 }],
      }),
    );
    render(AccountsView, { store });
    const rows = screen.getAllByRole("row").map((r) => r.textContent);
    expect(rows[1]).toContain("paper");
    expect(rows[1]).toContain("PAPER");
    expect(rows[2]).toContain("LIVE");
    expect(rows[2]).toContain("…a1b2");
  });
});

describe("ActivityView", () => {
  it("shows events newest first as they arrive", async () => {
    const { b, store } = await started();
    render(ActivityView, { store });
    expect(screen.getByText("Nothing has happened yet.")).toBeTruthy();
    b.emit({ tsMs: 1, copy: "a", level: "info", kind: "started", notice: null, message: "first" });
    b.emit({ tsMs: 2, copy: "a", level: "warning", kind: "skip", notice: null, message: "second" });
    await store.idle();
    const rows = (await screen.findAllByRole("row")).slice(1).map((r) => r.textContent);
    expect(rows[0]).toContain("second");
    expect(rows[1]).toContain("first");
  });
});

describe("SettingsView", () => {
  it("shows the data directory and the paper simulator's address", async () => {
    const { store } = await started();
    render(SettingsView, { store });
    expect(screen.getByText("/home/user/.local/share/copydesk")).toBeTruthy();
    expect(screen.getByText("running at http://127.0.0.1:40000")).toBeTruthy();
  });

  it("offers start at login only once a copy has started, and turns it on", async () => {
    const { b, store } = await started();
    const { unmount } = render(SettingsView, { store });
    expect(screen.queryByTestId("start-at-login")).toBeNull();
    expect(b.calls.some((c) => c.method === "autostartEnabled")).toBe(false);
    unmount();
    await b.createCopy({ name: "steady", leader: "demo-steady", follower: "paper", settings: defaultSettings() });
    await store.refreshStatus();
    render(SettingsView, { store });
    const box = (await screen.findByTestId("start-at-login")) as HTMLInputElement;
    await vi.waitFor(() => expect(box.disabled).toBe(false));
    expect(box.checked).toBe(false);
    await fireEvent.click(box);
    await vi.waitFor(() => expect(box.checked).toBe(true));
    expect(b.calls.some((c) => c.method === "setAutostart" && c.args[0] === true)).toBe(true);
  });

  it("opens paper mode beside live accounts", async () => {
    const { b, store } = await started(createMockBackend({ mode: "live", paperRunning: false }));
    render(SettingsView, { store });
    expect(screen.getByText("not running")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Open paper mode" }));
    expect(await screen.findByText("running at http://127.0.0.1:40000")).toBeTruthy();
    expect(b.calls.some((c) => c.method === "startPaper")).toBe(true);
  });
});
