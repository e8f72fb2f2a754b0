// The small display components: each shows what it is given, in words as well as colour.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import EmptyState from "./EmptyState.svelte";
import FigureTile from "./FigureTile.svelte";
import ModeBadge from "./ModeBadge.svelte";
import MoneyCell from "./MoneyCell.svelte";
import StateChip from "./StateChip.svelte";
import Stepper from "./Stepper.svelte";
import TextField from "./TextField.svelte";

describe("MoneyCell", () => {
  it("groups thousands and names the asset", () => {
    const { container } = render(MoneyCell, { value: "1234567.891" });
    expect(container.textContent).toBe("1,234,567.89 USDT");
  });

  it("signs PnL in text, not colour alone", () => {
    const { container } = render(MoneyCell, { value: "-3.1", pnl: true });
    const span = container.querySelector("span")!;
    expect(span.textContent).toBe("−3.10 USDT");
    expect(span.className).toContain("loss");
  });

  it("shows a dash for a missing value", () => {
    const { container } = render(MoneyCell, { value: null });
    expect(container.textContent).toBe("—");
  });
});

describe("StateChip", () => {
  it("says on hold with its reason", () => {
    render(StateChip, { state: "held", reason: "position unprotected" });
    expect(screen.getByRole("status").textContent).toBe("on hold: position unprotected");
  });

  it("says running without a reason", () => {
    render(StateChip, { state: "running", reason: "ignored" });
    expect(screen.getByRole("status").textContent).toBe("running");
  });
});

describe("FigureTile", () => {
  it("carries its definition as the tile's description", () => {
    render(FigureTile, { label: "Sharpe", value: "2.4", definition: "Steadiness of returns." });
    const tile = screen.getByRole("group", { name: "Sharpe" });
    expect(tile.textContent).toContain("2.4");
    const desc = document.getElementById(tile.getAttribute("aria-describedby")!);
    expect(desc?.textContent).toBe("Steadiness of returns.");
  });
});

describe("ModeBadge", () => {
  it("says PAPER or LIVE", () => {
    const { container, unmount } = render(ModeBadge, { paper: true });
    expect(container.textContent).toBe("PAPER");
    expect(container.querySelector(".paper")).not.toBeNull();
    unmount();
    const live = render(ModeBadge, { paper: false });
    expect(live.container.textContent).toBe("LIVE");
    expect(live.container.querySelector(".paper")).toBeNull();
  });
});

describe("Stepper", () => {
  it("marks the current step and lets only earlier ones be revisited", async () => {
    const onSelect = vi.fn();
    render(Stepper, { steps: ["Account", "Leader", "Mode"], current: 1, onSelect });
    const current = screen.getByRole("button", { name: /Leader/ });
    expect(current.getAttribute("aria-current")).toBe("step");
    expect((screen.getByRole("button", { name: /Mode/ }) as HTMLButtonElement).disabled).toBe(true);
    await fireEvent.click(screen.getByRole("button", { name: /Account/ }));
    expect(onSelect).toHaveBeenCalledWith(0);
  });
});

describe("TextField", () => {
  it("labels its input and ties the core's message to it", () => {
    render(TextField, { id: "investment", label: "Investment", suffix: "USDT", value: "50", error: "At least 100 USDT for Smart Sync." });
    const input = screen.getByLabelText("Investment");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    const msg = document.getElementById(input.getAttribute("aria-describedby")!.split(" ").pop()!);
    expect(msg?.textContent).toBe("At least 100 USDT for Smart Sync.");
  });
});

describe("EmptyState", () => {
  it("offers one action: start a paper copy", async () => {
    const onStart = vi.fn();
    render(EmptyState, { paper: true, onStart });
    expect(screen.getByRole("heading").textContent).toBe("No copies yet");
    await fireEvent.click(screen.getByRole("button", { name: "Start a paper copy" }));
    expect(onStart).toHaveBeenCalledOnce();
  });
});
