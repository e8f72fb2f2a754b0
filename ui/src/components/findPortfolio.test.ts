// Finding a public lead portfolio by its id (live mode's way to a public leader): the
// portfolio is read through the core before it can be chosen; a hidden one is not chosen
// and says why; bad input shows under its field with the fix; a 429 or a geo-blocked 403
// is shown as the core words it.
import { fireEvent, render, screen } from "@testing-library/svelte";
import { describe, expect, it, vi } from "vitest";
import { createMockBackend } from "../lib/mock";
import { AppStore } from "../lib/store.svelte";
import FindPortfolioForm from "./FindPortfolioForm.svelte";
import LeaderStep from "./wizard/LeaderStep.svelte";
import { WizardState } from "../lib/wizard.svelte";

async function setup() {
  const b = createMockBackend({ mode: "live" });
  const store = new AppStore(b);
  await store.start();
  const onFound = vi.fn();
  render(FindPortfolioForm, { store, onFound });
  await fireEvent.click(screen.getByRole("button", { name: "Find a public portfolio…" }));
  return { b, store, onFound };
}
const type = (label: string, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });
const read = () => fireEvent.click(screen.getByRole("button", { name: "Read the portfolio" }));

describe("FindPortfolioForm", () => {
  it("says before the search that a public portfolio is polled, in seconds", async () => {
    const b = createMockBackend({ mode: "live" });
    const store = new AppStore(b);
    await store.start();
    render(FindPortfolioForm, { store });
    expect(screen.getByText(/copies follow seconds after the leader, not milliseconds/)).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Find a public portfolio…" }));
    expect(screen.getByText(/copies follow seconds after the leader, not milliseconds/)).toBeTruthy();
  });

  it("reads a portfolio from its page address, lists it and chooses it, with its delay", async () => {
    const { b, store, onFound } = await setup();
    await type("Portfolio id or page address", "https://www.binance.com/en/copy-trading/lead-details/4012345678901234567?timeRange=30D");
    await read();
    await screen.findByText("Whale Desk (public portfolio) found and chosen: copy delay ~4 s, polled. It is in the list above.");
    expect(onFound).toHaveBeenCalledWith("portfolio:binance:4012345678901234567");
    expect(store.leaders?.some((l) => l.id === "portfolio:binance:4012345678901234567" && l.copyable)).toBe(true);
    const call = b.calls.find((c) => c.method === "findPortfolio")!;
    expect(call.args[0]).toEqual({
      source: "binance",
      endpoint: null,
      portfolio: "https://www.binance.com/en/copy-trading/lead-details/4012345678901234567?timeRange=30D",
    });
  });

  it("does not choose a portfolio that hides its positions, and says why", async () => {
    const { store, onFound } = await setup();
    await type("Portfolio id or page address", "4000000000000000001");
    await read();
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toBe("Quiet Book (public portfolio) cannot be copied: this portfolio hides its positions, so they cannot be copied");
    expect(onFound).not.toHaveBeenCalled();
    expect(store.leaders?.find((l) => l.id === "portfolio:binance:4000000000000000001")?.copyable).toBe(false);
  });

  it("shows the core's message under the field it names, with the fix", async () => {
    await setup();
    await type("Portfolio id or page address", "40123x");
    await read();
    const msg = await screen.findByText(/a portfolio id is digits only \(`x` is not\)/);
    expect(screen.getByLabelText("Portfolio id or page address").getAttribute("aria-describedby") ?? "").toContain(msg.id || "");
    await fireEvent.click(screen.getByLabelText(/Custom source/));
    await type("Portfolio id or page address", "4012345678901234567");
    await read();
    await screen.findByText("a custom source needs its address; type the source's base URL, e.g. http://127.0.0.1:8900");
    expect(screen.getByLabelText("Source address")).toBeTruthy();
  });

  it("shows a geo-block and a refusal as the core words them, choosing nothing", async () => {
    const { b, onFound } = await setup();
    b.failNext("findPortfolio", {
      code: "exchange",
      field: null,
      message:
        "Binance's copy-trading pages are not available from this address (HTTP 403, geo-blocked): a public portfolio cannot be followed from here. Follow an account leader with a read-only key instead, or connect from a region where the pages are available",
    });
    await type("Portfolio id or page address", "4012345678901234567");
    await read();
    expect((await screen.findByRole("alert")).textContent).toContain("HTTP 403, geo-blocked");
    b.failNext("findPortfolio", {
      code: "exchange",
      field: null,
      message: "Binance's copy-trading pages refused: too many requests from this address (HTTP 429); nothing was chosen. Try again in 30 s",
    });
    await read();
    await screen.findByText(/HTTP 429\); nothing was chosen. Try again in 30 s/);
    expect(onFound).not.toHaveBeenCalled();
  });
});

describe("LeaderStep in live mode", () => {
  it("offers to find a public portfolio, and a found one becomes the wizard's leader", async () => {
    const b = createMockBackend({ mode: "live" });
    const store = new AppStore(b);
    await store.start();
    await store.refreshLeaders();
    const wiz = new WizardState(store);
    render(LeaderStep, { wiz });
    await fireEvent.click(screen.getByRole("button", { name: "Find a public portfolio…" }));
    await type("Portfolio id or page address", "4012345678901234567");
    await read();
    await screen.findByText(/found and chosen/);
    expect(wiz.leaderId).toBe("portfolio:binance:4012345678901234567");
    expect(screen.getByRole("article", { name: "Whale Desk (public portfolio)" })).toBeTruthy();
  });
});
