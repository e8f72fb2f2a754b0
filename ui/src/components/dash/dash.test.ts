// The dashboard's components on the mock backend: each shows what the core sent, in words as
// well as colour, and sends the user's actions to the store.
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import * as charts from "lightweight-charts";
import { createMockBackend, demoCopy } from "../../lib/mock";
import { AppStore } from "../../lib/store.svelte";
import CopiesView from "../../views/CopiesView.svelte";
import ActivityView from "../../views/ActivityView.svelte";
import CopyCard from "../CopyCard.svelte";
import ActivityList from "./ActivityList.svelte";
import EditAmounts from "./EditAmounts.svelte";
import PnlChart from "./PnlChart.svelte";
import PositionsTable from "./PositionsTable.svelte";
import StopDialog from "./StopDialog.svelte";

async function started(b = createMockBackend({ copies: [demoCopy()] })) {
  const store = new AppStore(b);
  await store.start();
  return { b, store };
}

describe("CopyCard", () => {
  it("shows the state with the hold's reason, PnL after costs, drawdown, costs and the delay", () => {
    const s = demoCopy("steady", { state: "held", reason: "held: BTCUSDT has no protective stop", holds: [{ kind: "unprotected", reason: "BTCUSDT has no protective stop" } as never] });
    s.latency = { orders: 3, engineP50Us: 150, engineMaxUs: 400, fillDelayP50Ms: 12, fillDelayMaxMs: 30 };
    render(CopyCard, { status: s, leaderName: "Steady Trend", onAction: vi.fn() });
    expect(screen.getByRole("status").textContent).toBe("on hold: held: BTCUSDT has no protective stop");
    // 12.5 realized − 2.25 unrealized − 0.1 funding paid − 0.8 fees.
    expect(screen.getByLabelText("PnL: +9.35 USDT")).toBeTruthy();
    const card = screen.getByRole("article", { name: "Copy steady" });
    expect(card.textContent).toContain("Max drawdown4.75 USDT");
    expect(card.textContent).toContain("Fees + funding paid0.9 USDT");
    expect(card.textContent).toContain("Copy delay12 ms median");
    expect(card.textContent).toContain("Steady Trend → paper · Smart Sync 1,000 USDT");
  });

  it("offers resume on a paused copy and no stop or edit on a stopped one", () => {
    const onAction = vi.fn();
    const { unmount } = render(CopyCard, { status: demoCopy("p", { state: "paused" }), leaderName: "L", onAction });
    expect(screen.getByRole("button", { name: "Resume p" })).toBeTruthy();
    unmount();
    render(CopyCard, { status: demoCopy("s", { state: "stopped", reason: "stopped by panic" }), leaderName: "L", onAction });
    expect(screen.getByRole("status").textContent).toBe("stopped: stopped by panic");
    expect(screen.queryByRole("button", { name: /Stop s/ })).toBeNull();
    expect(screen.queryByRole("button", { name: /Edit amounts/ })).toBeNull();
  });
});

describe("StopDialog", () => {
  it("asks keep or close, starting from the copy's own stop action", async () => {
    const onStop = vi.fn(async () => {});
    const onClose = vi.fn();
    render(StopDialog, { status: demoCopy(), onStop, onClose });
    const dialog = screen.getByRole("alertdialog", { name: "Stop steady?" });
    expect(within(dialog).getByText(/2 open positions/)).toBeTruthy();
    expect((screen.getByLabelText("Close them at market") as HTMLInputElement).checked).toBe(true);
    await fireEvent.click(screen.getByLabelText(/Keep them open as your own/));
    await fireEvent.click(screen.getByRole("button", { name: "Stop steady and keep positions" }));
    expect(onStop).toHaveBeenCalledWith("keep");
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled());
  });
});

describe("EditAmounts", () => {
  it("puts the core's message under the field, on blur and on save, and closes once taken", async () => {
    const { b, store } = await started();
    const onClose = vi.fn();
    render(EditAmounts, {
      status: demoCopy(),
      validate: (s) => store.validate(s),
      onSave: (s) => store.modifyCopy("steady", { settings: s }),
      onClose,
    });
    const input = screen.getByLabelText("Investment") as HTMLInputElement;
    expect(input.value).toBe("1000");
    await fireEvent.input(input, { target: { value: "50" } });
    await fireEvent.blur(input);
    expect(await screen.findByText("At least 100 USDT for Smart Sync.")).toBeTruthy();
    expect(input.getAttribute("aria-invalid")).toBe("true");

    b.failNext("modify", { code: "invalid_input", message: "2000 USDT is more than the free balance", field: "settings.investment" });
    await fireEvent.input(input, { target: { value: "2000" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save amounts" }));
    expect(await screen.findByText("2000 USDT is more than the free balance")).toBeTruthy();
    expect(onClose).not.toHaveBeenCalled();

    await fireEvent.input(input, { target: { value: "1500" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save amounts" }));
    await vi.waitFor(() => expect(onClose).toHaveBeenCalled());
    const modify = b.calls.filter((c) => c.method === "modify").at(-1)!;
    expect(modify.args[0]).toBe("steady");
    expect((modify.args[1] as { settings: { investment: string } }).settings.investment).toBe("1500");
  });
});

describe("PositionsTable", () => {
  it("shows leader beside follower with the symbol's precision, the stop's confirmation and drift", () => {
    render(PositionsTable, { status: demoCopy(), onRelease: vi.fn() });
    const rows = screen.getAllByRole("row").slice(1);
    const btc = rows[0].textContent!;
    expect(btc).toContain("0.100"); // leader 0.1 with BTCUSDT's 3 quantity decimals
    expect(btc).toContain("0.010");
    expect(btc).toContain("50,000.5");
    expect(btc).toContain("42,000.5 confirmed on the exchange");
    expect(btc).toContain("in step");
    const eth = rows[1];
    expect(eth.textContent).toContain("3,000.25");
    expect(eth.textContent).toContain("3,450.30 not confirmed yet");
    expect(eth.textContent).toContain("drift −0.010 (less than the ratio)");
    expect(eth.className).toContain("drifted");
  });

  it("reads drift under one lot step as in step, and shortens a long ratio", () => {
    const s = demoCopy();
    s.positions = [{ ...s.positions[0], symbol: "ETHUSDT", ratio: "0.0098960910440376051459673429", drift: "-0.0001" }];
    render(PositionsTable, { status: s, onRelease: vi.fn() });
    const row = screen.getAllByRole("row")[1];
    expect(row.textContent).toContain("in step (off by less than one lot step)");
    expect(row.textContent).toContain("0.00989609");
    expect(row.textContent).not.toContain("0.0098960910440376");
    expect(row.className).not.toContain("drifted");
  });

  it("closes one position after a confirm that says the copy keeps running, and shows a refusal on its row", async () => {
    const onRelease = vi.fn(async () => {});
    const s = demoCopy();
    const { rerender } = render(PositionsTable, { status: s, onRelease });
    await fireEvent.click(screen.getByRole("button", { name: "Close ETHUSDT short" }));
    const dialog = screen.getByRole("alertdialog", { name: "Close ETHUSDT short?" });
    expect(dialog.textContent).toContain("The copy keeps running");
    await fireEvent.click(within(dialog).getByRole("button", { name: "Close ETHUSDT at market" }));
    expect(onRelease).toHaveBeenCalledWith(s.positions[1], "close");
    await rerender({ status: s, onRelease, error: { key: "steady/ETHUSDT/short", error: { code: "not_found", message: "copy `steady` holds no short ETHUSDT position", field: null } } });
    expect(screen.getByRole("alert").textContent).toBe("copy `steady` holds no short ETHUSDT position");
  });
});

describe("PnlChart", () => {
  it("draws one point per second, oldest first, and says the curve in words", () => {
    const series = (charts as unknown as { __series: { setData: ReturnType<typeof vi.fn> } }).__series;
    series.setData.mockClear();
    render(PnlChart, {
      name: "steady",
      points: [
        { tsMs: 3_000, value: "-1.5" },
        { tsMs: 1_000, value: "0" },
        { tsMs: 3_400, value: "-2.25" },
        { tsMs: 5_000, value: "4" },
      ],
    });
    expect(series.setData).toHaveBeenCalledWith([
      { time: 1, value: 0 },
      { time: 3, value: -2.25 },
      { time: 5, value: 4 },
    ]);
    expect(screen.getByText("PnL of steady from 0.00 to +4.00 USDT over 3 points; lowest −2.25, highest +4.00.")).toBeTruthy();
    // A locale Intl accepts, whatever the environment's LANG (C makes the chart throw).
    const options = vi.mocked(charts.createChart).mock.calls.at(-1)![1] as { localization: { locale: string } };
    expect(() => new Intl.NumberFormat(options.localization.locale)).not.toThrow();
  });

  it("says when there is nothing to draw yet", () => {
    render(PnlChart, { name: "new", points: [] });
    expect(screen.getByText(/PnL of new: no points yet/)).toBeTruthy();
  });
});

describe("ActivityList", () => {
  const two = () => {
    const a = demoCopy("a");
    const b = demoCopy("b");
    b.decisions = [{ tsMs: 1, kind: "place-order", symbol: "ETHUSDT", reason: "leader closed ETHUSDT", notice: null }];
    b.fills = [];
    return [a, b].map((c) => ({ copy: c.copy.name, decisions: c.decisions, fills: c.fills }));
  };

  it("lists skips with their reason and fills with delay and slippage against the leader", () => {
    render(ActivityList, { activity: two(), precisionOf: () => ({ priceDp: 1, qtyDp: 3 }) });
    const rows = screen.getAllByRole("row").map((r) => r.textContent ?? "");
    const skip = rows.find((r) => r.includes("DOGEUSDT"))!;
    expect(skip).toContain("skipped");
    expect(skip).toContain("below the minimum order of 5 USDT");
    const fill = rows.find((r) => r.includes("Bought"))!;
    expect(fill).toContain("Bought 0.010 at 50,000.5");
    expect(fill).toContain("12 ms after the leader");
    expect(fill).toContain("+0.001 %");
  });

  it("filters by copy, kind and symbol", async () => {
    render(ActivityList, { activity: two() });
    const body = () => screen.getAllByRole("row").slice(1).map((r) => r.textContent ?? "");
    expect(body()).toHaveLength(4);
    await fireEvent.change(screen.getByLabelText("Copy"), { target: { value: "b" } });
    expect(body()).toHaveLength(1);
    expect(body()[0]).toContain("leader closed ETHUSDT");
    await fireEvent.change(screen.getByLabelText("Copy"), { target: { value: "" } });
    await fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "skip" } });
    expect(body()).toHaveLength(1);
    expect(body()[0]).toContain("DOGEUSDT");
    await fireEvent.change(screen.getByLabelText("Kind"), { target: { value: "" } });
    await fireEvent.change(screen.getByLabelText("Symbol"), { target: { value: "BTCUSDT" } });
    expect(body().every((r) => r.includes("BTCUSDT"))).toBe(true);
    expect(body()).toHaveLength(2);
    expect(screen.getByRole("status").textContent).toBe("2 of 4 shown");
  });
});

describe("CopiesView dashboard", () => {
  it("opens a copy's detail; closing one position leaves the copy running", async () => {
    const { b, store } = await started();
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Details of steady" }));
    const table = screen.getByRole("table", { name: "Positions of steady" });
    await fireEvent.click(within(table).getByRole("button", { name: "Close BTCUSDT long" }));
    await fireEvent.click(screen.getByRole("button", { name: "Close BTCUSDT at market" }));
    await vi.waitFor(() => expect(screen.getAllByRole("row").some((r) => r.textContent?.includes("BTCUSDT"))).toBe(false));
    expect(b.calls.some((c) => c.method === "closePosition" && c.args.join() === "steady,BTCUSDT,long")).toBe(true);
    expect(store.copyStatus("steady")?.copy.state).toBe("running");
    expect(screen.getByRole("table", { name: "Positions of steady" }).textContent).toContain("ETHUSDT");
  });

  it("shows the chart and the activity tabs, read once and re-read on events", async () => {
    const b = createMockBackend({ copies: [demoCopy()], pnl: { steady: [{ tsMs: 1000, value: "0" }, { tsMs: 2000, value: "9.35" }] } });
    const { store } = await started(b);
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Details of steady" }));
    await fireEvent.click(screen.getByRole("tab", { name: "Chart" }));
    expect(await screen.findByText(/PnL of steady from 0.00 to \+9.35 USDT over 2 points/)).toBeTruthy();
    await fireEvent.click(screen.getByRole("tab", { name: "Activity" }));
    expect(await screen.findByRole("table", { name: "Activity of steady" })).toBeTruthy();
    const reads = (m: string) => b.calls.filter((c) => c.method === m).length;
    const [pnl, act] = [reads("copyPnl"), reads("activity")];
    b.emit({ tsMs: 5, copy: "steady", level: "info", kind: "fill", notice: null, message: "filled" });
    await vi.waitFor(() => expect(reads("copyPnl")).toBe(pnl + 1));
    await vi.waitFor(() => expect(reads("activity")).toBe(act + 1));
  });

  it("stops a copy with the action chosen in the dialog", async () => {
    const { b, store } = await started();
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Stop steady…" }));
    await fireEvent.click(screen.getByRole("button", { name: "Stop steady and close positions" }));
    await vi.waitFor(() => expect(b.calls.some((c) => c.method === "stop" && c.args.join() === "steady,close-all")).toBe(true));
    expect(await screen.findByText("stopped")).toBeTruthy();
  });
});

describe("ActivityView", () => {
  it("lists decisions and fills of every copy and exports", async () => {
    const { b, store } = await started(createMockBackend({ copies: [demoCopy("a"), demoCopy("b")] }));
    render(ActivityView, { store });
    const table = await screen.findByRole("table", { name: "Activity" });
    expect(within(table).getAllByText("skipped")).toHaveLength(2);
    await fireEvent.click(screen.getByRole("button", { name: "Export copies, fills and figures" }));
    expect(await screen.findByText(/Exported 2 copies, 0 fills and 0 figure points/)).toBeTruthy();
    expect(b.calls.some((c) => c.method === "exportData")).toBe(true);
  });
});
