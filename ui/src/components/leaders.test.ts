// Leader components: the card's figures, the list's sort and filters, the detail's chart and
// positions.
import { fireEvent, render, screen, within } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import * as charts from "lightweight-charts";
import { DEMO_LEADERS, createMockBackend } from "../lib/mock";
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
    expect(card.textContent).toContain("Sharpe-0.3");
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
