// The copy detail's profit-share tab and orders of unknown outcome, the card's sparkline,
// its "updated N s ago" on the screen's 1 s clock and its unknown-orders hint, and the
// activity's "load more" paging, on the mock backend.
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createMockBackend, demoCopy } from "../../lib/mock";
import { AppStore, ACTIVITY_PAGE } from "../../lib/store.svelte";
import type { CopyStatusDto, DecisionDto } from "../../lib/types";
import CopiesView from "../../views/CopiesView.svelte";
import ActivityView from "../../views/ActivityView.svelte";
import CopyCard from "../CopyCard.svelte";
import Sparkline from "./Sparkline.svelte";
import UnknownOrders from "./UnknownOrders.svelte";

async function started(b = createMockBackend({ copies: [demoCopy()] })) {
  const store = new AppStore(b);
  await store.start();
  return { b, store };
}

const unknownOrder = (since: number) => ({
  clientOrderId: "cd-steady-7f3a-open",
  symbol: "BTCUSDT",
  side: "buy",
  qty: "0.010",
  sinceMs: since,
});

afterEach(() => vi.useRealTimers());

describe("Profit share tab", () => {
  it("shows the copy's ratio and statements in its detail and saves a new ratio there", async () => {
    const b = createMockBackend({
      copies: [demoCopy()],
      profitShare: { steady: { copy: "steady", ratio: "0.1", nextSettlementMs: Date.UTC(2026, 11, 7), totalPaid: "0", statements: [] } },
    });
    const { store } = await started(b);
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Details of steady" }));
    await fireEvent.click(screen.getByRole("tab", { name: "Profit share" }));
    expect((await screen.findByTestId("share-ratio")).textContent).toBe("10 %");
    // The tab names its panel by an id without spaces (an id list splits on them).
    const tab = screen.getByRole("tab", { name: "Profit share" });
    expect(tab.id).toBe("tab-steady-Profit-share");
    expect(document.getElementById(tab.getAttribute("aria-controls")!)?.getAttribute("aria-labelledby")).toBe(tab.id);
    const input = screen.getByLabelText("Profit-share ratio");
    await fireEvent.input(input, { target: { value: "0.5" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save ratio" }));
    expect(await screen.findByText(/0.5 is outside the allowed range; set a ratio above 0 and at most 0.3/)).toBeTruthy();
    await fireEvent.input(input, { target: { value: "0.2" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save ratio" }));
    expect(await screen.findByText("Saved: 20 %")).toBeTruthy();
    expect(b.calls.filter((c) => c.method === "setProfitShare").map((c) => c.args)).toEqual([
      ["steady", "0.5"],
      ["steady", "0.2"],
    ]);
  });
});

describe("Unknown orders", () => {
  it("lists them on the copy detail with what the engine does about them", () => {
    const now = Date.UTC(2026, 10, 30, 10, 0, 0);
    render(UnknownOrders, { orders: [unknownOrder(now - 42_000)], copy: "steady", now });
    expect(screen.getByRole("heading", { name: "1 order with an unknown outcome" })).toBeTruthy();
    expect(screen.getByText(/looks each one up by its client id at every reconciliation/)).toBeTruthy();
    const row = within(screen.getByRole("table", { name: "Orders of steady with an unknown outcome" })).getAllByRole("row")[1];
    expect(row.textContent).toContain("BTCUSDT");
    expect(row.textContent).toContain("0.010");
    expect(row.textContent).toContain("42 s ago");
    expect(row.textContent).toContain("cd-steady-7f3a-open");
  });

  it("shows nothing when every order's outcome is known", () => {
    const { container } = render(UnknownOrders, { orders: [], copy: "steady", now: 0 });
    expect(container.querySelector("section")).toBeNull();
  });

  it("hints on the card and lists them in the detail that opens from it", async () => {
    const c = demoCopy();
    c.unknownOrders = [unknownOrder(Date.now() - 5_000)];
    const { store } = await started(createMockBackend({ copies: [c] }));
    render(CopiesView, { store });
    const card = screen.getByRole("article", { name: "Copy steady" });
    expect(card.textContent).toMatch(/1 order has an unknown outcome: the engine looks it up at every reconciliation/);
    await fireEvent.click(screen.getByRole("button", { name: "Details of steady" }));
    expect(screen.getByRole("table", { name: "Orders of steady with an unknown outcome" })).toBeTruthy();
  });
});

describe("Card sparkline and age", () => {
  it("draws the PnL series as a line, says it in words, and colours by the last point", () => {
    render(Sparkline, {
      points: [
        { tsMs: 3000, value: "-4.5" },
        { tsMs: 1000, value: "0" },
        { tsMs: 2000, value: "2.25" },
      ],
      label: "PnL of steady over time",
    });
    const svg = screen.getByRole("img");
    expect(svg.getAttribute("aria-label")).toBe("PnL of steady over time: from 0.00 to −4.50 USDT, low −4.50, high +2.25");
    expect(svg.getAttribute("data-points")).toBe("3");
    expect(svg.classList.contains("loss")).toBe(true);
    expect(svg.querySelector("polyline")?.getAttribute("points")?.split(" ")).toHaveLength(3);
  });

  it("says when there are too few points to draw", () => {
    render(Sparkline, { points: [{ tsMs: 1, value: "1" }], label: "PnL of a" });
    expect(screen.getByRole("img").getAttribute("aria-label")).toBe("PnL of a: not enough points yet");
  });

  it("shows the card's sparkline from the store and its age, which the screen's 1 s clock advances", async () => {
    vi.useFakeTimers({ toFake: ["setInterval", "clearInterval", "Date"] });
    vi.setSystemTime(Date.UTC(2026, 10, 30, 10, 0, 0));
    const b = createMockBackend({ copies: [demoCopy()], pnl: { steady: [{ tsMs: 1000, value: "0" }, { tsMs: 2000, value: "9.35" }] } });
    const { store } = await started(b);
    b.emit({ tsMs: Date.now() - 3_000, copy: "steady", level: "info", kind: "fill", notice: null, message: "filled" });
    render(CopiesView, { store });
    await vi.waitFor(() => expect(screen.getByRole("img", { name: /PnL of steady over time: from 0.00 to \+9.35 USDT/ })).toBeTruthy());
    expect(screen.getByTestId("updated").textContent).toBe("· updated 3 s ago");
    await vi.advanceTimersByTimeAsync(2_000);
    expect(screen.getByTestId("updated").textContent).toBe("· updated 5 s ago");
    // Only the text moved: the clock read nothing from the backend.
    const reads = b.calls.filter((c) => c.method === "status").length;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(b.calls.filter((c) => c.method === "status").length).toBe(reads);
    expect(screen.getByTestId("updated").textContent).toBe("· updated 15 s ago");
  });

  it("falls back to the last status read for a copy with no event yet", () => {
    const s: CopyStatusDto = demoCopy();
    render(CopyCard, { status: s, leaderName: "L", onAction: vi.fn(), updatedMs: 1_000, now: 61_000, pnlPoints: [] });
    expect(screen.getByTestId("updated").textContent).toBe("· updated 1 min ago");
    expect(screen.getByRole("img").getAttribute("aria-label")).toContain("not enough points yet");
  });
});

describe("Activity paging", () => {
  it("lists the newest page and loads older rows on request", async () => {
    const c = demoCopy();
    const many: DecisionDto[] = Array.from({ length: ACTIVITY_PAGE + 20 }, (_, i) => ({
      tsMs: 1_000_000 - i,
      kind: "notice",
      symbol: "BTCUSDT",
      reason: `decision ${i}`,
      notice: null,
    }));
    c.decisions = many;
    const { b, store } = await started(createMockBackend({ copies: [c] }));
    render(ActivityView, { store });
    const table = await screen.findByRole("table", { name: "Activity" });
    expect(within(table).queryByText(`decision ${ACTIVITY_PAGE - 1}`)).toBeTruthy();
    expect(within(table).queryByText(`decision ${ACTIVITY_PAGE}`)).toBeNull();
    await fireEvent.click(screen.getByRole("button", { name: "Load older activity" }));
    expect(await within(table).findByText(`decision ${ACTIVITY_PAGE + 19}`)).toBeTruthy();
    expect(b.calls.filter((x) => x.method === "activity").map((x) => x.args)).toEqual([
      [null, ACTIVITY_PAGE],
      [null, 2 * ACTIVITY_PAGE],
    ]);
    // Everything is listed now: no more to load.
    expect(screen.queryByRole("button", { name: "Load older activity" })).toBeNull();
  });
});
