// lightweight-charts draws on a canvas, which jsdom lacks: tests get a recording stand-in.
import { vi } from "vitest";
import "@testing-library/svelte/vitest";
import { configure } from "@testing-library/svelte";

// Debounced checks (300 ms) and a busy shared machine: give findBy/waitFor room.
configure({ asyncUtilTimeout: 5000 });

vi.mock("lightweight-charts", () => {
  const series = { setData: vi.fn() };
  const chart = {
    addSeries: vi.fn(() => series),
    timeScale: () => ({ fitContent: vi.fn() }),
    remove: vi.fn(),
  };
  return {
    createChart: vi.fn(() => chart),
    AreaSeries: "Area",
    BaselineSeries: "Baseline",
    ColorType: { Solid: "solid" },
    __chart: chart,
    __series: series,
  };
});
