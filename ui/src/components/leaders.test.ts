// Leader components: the card's figures, the list's sort and filters, the detail's chart and
// positions.
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import * as charts from "lightweight-charts";
import { DEMO_LEADERS, createMockBackend } from "../lib/mock";
import { AppStore } from "../lib/store.svelte";
import AddLeaderForm from "./AddLeaderForm.svelte";
import EquityChart from "./EquityChart.svelte";
import LeaderCard from "./LeaderCard.svelte";
import LeaderDetail from "./LeaderDetail.svelte";
import LeaderList from "./LeaderList.svelte";

const names = () => screen.getAllByRole("article").map((a) => a.getAttribute("aria-label"));

describe("LeaderCard", () => {
  it("shows the range's ROI with its sign and the other figures", () => {
    render(LeaderCard, { leader: DEMO_LEADERS[1], days: 90, onSelect: vi.fn() });
    const card = screen.getByRole("article", { name: "Fast Scalper" });
    expect(card.textContent).toContain("−4.00 %");
    expect(card.textContent).toContain("ROI 90D");
    // Every number through one formatter: a negative Sharpe has the typographic minus.
    expect(card.textContent).toContain("Sharpe−0.30");
    expect(card.textContent).not.toMatch(/-\d/);
  });

  it("says when its figures are still being read", () => {
    render(LeaderCard, { leader: { ...DEMO_LEADERS[0], figures: [], figuresPending: true }, days: 30, onSelect: vi.fn() });
    expect(screen.getByRole("status").textContent).toBe("Reading this leader's history for its figures…");
    expect(screen.getByRole("article", { name: "Steady Trend" }).textContent).toContain("—");
  });

  it("says why a leader cannot be copied", () => {
    render(LeaderCard, { leader: DEMO_LEADERS[2], days: 30, onSelect: vi.fn() });
    expect(screen.getByText("Not copyable: positions hidden by the leader")).toBeTruthy();
  });

  it("is chosen with its button", async () => {
    const onSelect = vi.fn();
    render(LeaderCard, { leader: DEMO_LEADERS[0], days: 30, onSelect });
    await fireEvent.click(screen.getByRole("button", { name: "Choose Steady Trend" }));
    expect(onSelect).toHaveBeenCalledWith("demo-steady");
  });
});

describe("LeaderList", () => {
  it("sorts by Sharpe by default, best first", () => {
    render(LeaderList, { leaders: DEMO_LEADERS, onSelect: vi.fn() });
    expect(names()).toEqual(["Hidden Book", "Steady Trend", "Fast Scalper"]);
  });

  it("re-sorts by ROI for the chosen range", async () => {
    render(LeaderList, { leaders: DEMO_LEADERS, onSelect: vi.fn() });
    await fireEvent.click(screen.getByLabelText("90D"));
    await fireEvent.change(screen.getByLabelText("Sort by"), { target: { value: "roi" } });
    expect(names()).toEqual(["Hidden Book", "Steady Trend", "Fast Scalper"]);
    await fireEvent.click(screen.getByLabelText("7D"));
    expect(names()).toEqual(["Hidden Book", "Fast Scalper", "Steady Trend"]);
  });

  it("puts the smallest drawdown first when sorting by drawdown", async () => {
    const leaders = DEMO_LEADERS.map((l, i) => ({
      ...l,
      figures: l.figures.map((f) => ({ ...f, maxDrawdown: ["12", "3", "7"][i] })),
    }));
    render(LeaderList, { leaders, onSelect: vi.fn() });
    await fireEvent.change(screen.getByLabelText("Sort by"), { target: { value: "maxDrawdown" } });
    expect(names()).toEqual(["Fast Scalper", "Hidden Book", "Steady Trend"]);
  });

  it("filters by name, source and copyable", async () => {
    render(LeaderList, { leaders: DEMO_LEADERS, onSelect: vi.fn() });
    await fireEvent.click(screen.getByLabelText("Copyable only"));
    expect(names()).toEqual(["Steady Trend", "Fast Scalper"]);
    await fireEvent.input(screen.getByLabelText("Filter by name"), { target: { value: "fast" } });
    expect(names()).toEqual(["Fast Scalper"]);
    await fireEvent.input(screen.getByLabelText("Filter by name"), { target: { value: "" } });
    await fireEvent.click(screen.getByLabelText("Copyable only"));
    await fireEvent.change(screen.getByLabelText("Source"), { target: { value: "portfolio" } });
    expect(names()).toEqual(["Hidden Book"]);
    await fireEvent.input(screen.getByLabelText("Filter by name"), { target: { value: "zzz" } });
    expect(screen.getByText("No leader matches these filters.")).toBeTruthy();
  });
});

describe("LeaderDetail and EquityChart", () => {
  it("draws the equity curve in time order and states it in words", () => {
    const createChart = vi.mocked(charts.createChart);
    createChart.mockClear();
    render(EquityChart, {
      points: [
        { tsMs: 2000, value: "11000" },
        { tsMs: 1000, value: "10000" },
      ],
    });
    expect(createChart).toHaveBeenCalledOnce();
    const series = (charts as unknown as { __series: { setData: ReturnType<typeof vi.fn> } }).__series;
    expect(series.setData).toHaveBeenLastCalledWith([
      { time: 1, value: 10000 },
      { time: 2, value: 11000 },
    ]);
    expect(screen.getByText("Equity from 10,000 USDT to 11,000 USDT over 2 points.")).toBeTruthy();
  });

  it("shows figure tiles, the chart and current positions", async () => {
    const detail = await createMockBackend().leader("demo-steady");
    render(LeaderDetail, { detail });
    expect(screen.getByRole("heading", { name: "Steady Trend: last 30 days" })).toBeTruthy();
    expect(screen.getByRole("group", { name: "Sharpe" }).textContent).toContain("2.4");
    const table = screen.getByRole("table");
    const row = within(table).getAllByRole("row")[1];
    expect(row.textContent).toContain("BTCUSDT");
    expect(row.textContent).toContain("50,000");
    expect(row.textContent).toContain("5x");
  });
});

describe("LeaderDetail range", () => {
  it("switches the figures and the equity curve between 7, 30 and 90 days", async () => {
    const base = await createMockBackend().leader("demo-steady");
    const DAY = 86_400_000;
    // The core's curve: 91 daily points (the last 90 days and today).
    const detail = { ...base, equityCurve: Array.from({ length: 91 }, (_, i) => ({ tsMs: Date.UTC(2026, 8, 1) + i * DAY, value: String(10000 + i) })) };
    const series = (charts as unknown as { __series: { setData: ReturnType<typeof vi.fn> } }).__series;
    series.setData.mockClear();
    render(LeaderDetail, { detail });
    const lastData = () => series.setData.mock.calls[series.setData.mock.calls.length - 1][0] as { value: number }[];
    expect(screen.getByRole("heading", { name: "Steady Trend: last 30 days" })).toBeTruthy();
    expect(screen.getByRole("group", { name: "ROI" }).textContent).toContain("+8.40 %");
    expect(lastData()).toHaveLength(31);

    await fireEvent.click(screen.getByRole("radio", { name: "7D" }));
    expect(screen.getByRole("heading", { name: "Steady Trend: last 7 days" })).toBeTruthy();
    expect(screen.getByRole("group", { name: "ROI" }).textContent).toContain("+2.10 %");
    expect(lastData().map((p) => p.value)).toEqual([10083, 10084, 10085, 10086, 10087, 10088, 10089, 10090]);
    expect(screen.getByText(/equity over the last 7 days from 10,083 USDT to 10,090 USDT over 8 points/)).toBeTruthy();

    await fireEvent.click(screen.getByRole("radio", { name: "90D" }));
    expect(screen.getByRole("group", { name: "ROI" }).textContent).toContain("+21.00 %");
    expect(lastData()).toHaveLength(91);
  });
});

describe("EquityChart time axis", () => {
  it("fixes both edges, so the chart keeps the first month's label inside the axis", () => {
    const createChart = vi.mocked(charts.createChart);
    createChart.mockClear();
    render(EquityChart, { points: [{ tsMs: Date.UTC(2026, 8, 1), value: "1" }, { tsMs: Date.UTC(2026, 10, 30), value: "2" }] });
    const opts = createChart.mock.calls[0][1] as { timeScale?: { fixLeftEdge?: boolean; fixRightEdge?: boolean } };
    expect(opts.timeScale).toMatchObject({ fixLeftEdge: true, fixRightEdge: true });
  });
});

describe("EquityChart locale", () => {
  it("gives the chart a locale Intl accepts when the web view reports C", () => {
    const lang = vi.spyOn(navigator, "language", "get").mockReturnValue("C");
    const createChart = vi.mocked(charts.createChart);
    createChart.mockClear();
    render(EquityChart, { points: [{ tsMs: 1000, value: "1" }] });
    const opts = createChart.mock.calls[0][1] as { localization?: { locale?: string } };
    expect(opts.localization?.locale).toBe("en-US");
    const fmt = (opts.localization as { priceFormatter?: (p: number) => string }).priceFormatter!;
    expect(fmt(-98621.4)).toBe("−98,621.40");
    expect(() => new Intl.DateTimeFormat(opts.localization?.locale)).not.toThrow();
    lang.mockReturnValue("de-DE");
    render(EquityChart, { points: [{ tsMs: 1000, value: "1" }] });
    expect((createChart.mock.calls[1][1] as { localization?: { locale?: string } }).localization?.locale).toBe("de-DE");
    lang.mockRestore();
  });
});

describe("LeaderDetail figures", () => {
  it("shows Sortino, trades, hold time, leverage and the top symbol, numbers formatted", async () => {
    const detail = await createMockBackend().leader("demo-scalper");
    render(LeaderDetail, { detail, days: 90 });
    expect(screen.getByRole("group", { name: "Sharpe" }).textContent).toContain("−0.30");
    expect(screen.getByRole("group", { name: "Sortino" }).textContent).toContain("−0.30");
    expect(screen.getByRole("group", { name: "ROI" }).textContent).toContain("−4.00 %");
    expect(screen.getByRole("group", { name: "Average hold" }).textContent).toContain("4.0 h");
    expect(screen.getByRole("group", { name: "Leverage" }).textContent).toContain("4.5x avg, 10.0x max");
    expect(screen.getByRole("group", { name: "Top symbol" }).textContent).toContain("BTCUSDT (60 %)");
  });
});

describe("AddLeaderForm", () => {
  async function setup() {
    const b = createMockBackend();
    const store = new AppStore(b);
    await store.start();
    const onAdded = vi.fn();
    render(AddLeaderForm, { store, onAdded });
    await fireEvent.click(screen.getByRole("button", { name: "Add an account leader…" }));
    return { b, store, onAdded };
  }
  const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

  it("adds a read-only leader: the check says read-only, the list has it, the secret is cleared", async () => {
    const { b, store, onAdded } = await setup();
    await type("Leader name", "fund");
    await type("Leader API key", "readonlykey1234");
    await type("Leader API secret", "s3cret-value");
    await fireEvent.click(screen.getByRole("button", { name: "Check the key and add the leader" }));
    await screen.findByText("Leader fund added: it is in the list above with its figures.");
    expect(onAdded).toHaveBeenCalledWith("fund");
    expect(screen.getByText("Read-only")).toBeTruthy();
    expect(screen.getByText("the key is read-only")).toBeTruthy();
    expect(store.leaders?.some((l) => l.id === "fund" && l.source === "account")).toBe(true);
    expect((screen.getByLabelText("Leader API secret") as HTMLInputElement).value).toBe("");
    const call = b.calls.find((c) => c.method === "addLeader")!;
    expect(call.args[0]).toMatchObject({ name: "fund", environment: "mainnet", apiKey: "readonlykey1234" });
  });

  it("warns about a trading key and refuses one that can withdraw, keeping nothing", async () => {
    const { store, onAdded } = await setup();
    await type("Leader name", "friend");
    await type("Leader API key", "tradekey");
    await type("Leader API secret", "x");
    await fireEvent.click(screen.getByRole("button", { name: "Check the key and add the leader" }));
    await screen.findByText("the key can trade; a read-only key is enough to follow a leader");
    expect(onAdded).toHaveBeenCalledWith("friend");

    await type("Leader name", "risky");
    await type("Leader API key", "withdrawkey");
    await type("Leader API secret", "x");
    await fireEvent.click(screen.getByRole("button", { name: "Check the key and add the leader" }));
    await screen.findByText("Nothing was stored: change the key as the check says, then add it again.");
    expect(screen.getByText(/untick “Enable Withdrawals”/)).toBeTruthy();
    expect(store.leaders?.some((l) => l.id === "risky")).toBe(false);
    expect(onAdded).toHaveBeenCalledTimes(1);
  });

  it("shows the core's message under the field it names", async () => {
    await setup();
    await type("Leader name", "fund");
    await type("Leader API key", "k");
    await fireEvent.click(screen.getByRole("button", { name: "Check the key and add the leader" }));
    const field = await screen.findByText("api secret is empty");
    expect(screen.getByLabelText("Leader API secret").getAttribute("aria-describedby") ?? "").toContain(field.id || "");
    await fireEvent.click(screen.getByLabelText(/Custom endpoint/));
    await type("Leader API secret", "s");
    await fireEvent.click(screen.getByRole("button", { name: "Check the key and add the leader" }));
    await screen.findByText("a custom environment needs its base URL, like http://127.0.0.1:8790");
  });
});
