// The profit-share section on the mock backend: statements as the core reports them
// (copy-rules §7 numbers), the ratio field with the core's message, and its tab in the copy
// detail.
import { cleanup, fireEvent, render, screen, within } from "@testing-library/svelte";
import { afterEach, describe, expect, it, vi } from "vitest";
import ProfitShare from "./ProfitShare.svelte";
import SettingsView from "../views/SettingsView.svelte";
import CopiesView from "../views/CopiesView.svelte";
import { createMockBackend } from "../lib/mock";
import { defaultSettings } from "../lib/settings";
import { AppStore } from "../lib/store.svelte";
import type { ProfitShareDto, StatementDto } from "../lib/types";

const DAY = 86_400_000;
const MON = Date.UTC(2026, 10, 2);

function statement(week: number, over: Partial<StatementDto>): StatementDto {
  return {
    kind: "weekly",
    periodStartMs: MON + (week - 1) * 7 * DAY,
    periodEndMs: MON + week * 7 * DAY,
    ratio: "0.25",
    realizedPnl: "0",
    fees: "0",
    funding: "0",
    unrealizedPnl: "0",
    pnl: "0",
    alreadyPaid: "0",
    owed: "0",
    outcome: "nothing",
    text: "",
    computedAtMs: MON + week * 7 * DAY,
    caughtUp: false,
    ...over,
  };
}

const SHARE: ProfitShareDto = {
  copy: "steady",
  ratio: "0.3",
  nextSettlementMs: MON + 35 * DAY,
  totalPaid: "300",
  statements: [
    statement(1, { pnl: "400", owed: "100", outcome: "settled", text: "owed 100: (410 realized + -10 unrealized) × 0.25 − 0 already paid = 100" }),
    statement(2, { pnl: "240", alreadyPaid: "100", text: "nothing owed: (408 realized + -168 unrealized) × 0.25 − 100 already paid = -40", caughtUp: true, computedAtMs: MON + 22 * DAY }),
    statement(3, { pnl: "350", alreadyPaid: "100", text: "nothing owed: (478 realized + -128 unrealized) × 0.25 − 100 already paid = -12.5", caughtUp: true, computedAtMs: MON + 22 * DAY }),
    statement(4, { ratio: "0.3", pnl: "1000", alreadyPaid: "100", owed: "200", outcome: "settled", text: "owed 200: (800 realized + 200 unrealized) × 0.3 − 100 already paid = 200" }),
  ],
};

describe("ProfitShare", () => {
  afterEach(cleanup);

  it("lists the statements: owed, nothing owed after a loss and below the level paid on, caught up", async () => {
    const b = createMockBackend({ profitShare: { steady: SHARE } });
    render(ProfitShare, { backend: b, copy: "steady" });
    const rows = await screen.findAllByTestId("statement");
    expect(rows).toHaveLength(4);
    const outcomes = rows.map((r) => within(r).getByTestId("outcome").textContent);
    expect(outcomes).toEqual(["owed", "nothing owed", "nothing owed", "owed"]);
    expect(rows[0].textContent).toContain("100 USDT");
    expect(rows[1].textContent).toContain("nothing owed");
    expect(rows[1].textContent).toContain("+240.00");
    expect(within(rows[1]).getByText("caught up")).toBeTruthy();
    expect(rows[2].textContent).toContain("nothing owed");
    expect(within(rows[3]).queryByText("caught up")).toBeNull();
    expect(rows[3].textContent).toContain("30 %");
    expect(rows[3].textContent).toContain("(800 realized + 200 unrealized) × 0.3 − 100 already paid = 200");
    expect(screen.getByTestId("share-paid").textContent).toBe("300 USDT");
    expect(screen.getByTestId("share-ratio").textContent).toBe("30 %");
    // The weekly boundary is Monday 00:00 UTC and reads so, whatever the user's locale.
    expect(screen.getByTestId("share-next").textContent).toMatch(/^Mon, (Dec 7|7 Dec), 2026, 00:00 UTC$/);
  });

  it("shows the core's message under the ratio field and saves a valid ratio", async () => {
    const b = createMockBackend({ profitShare: { steady: { ...SHARE, ratio: null, statements: [], totalPaid: "0", nextSettlementMs: null } } });
    render(ProfitShare, { backend: b, copy: "steady" });
    expect(await screen.findByText(/set a ratio to start them/)).toBeTruthy();
    const input = screen.getByLabelText("Profit-share ratio") as HTMLInputElement;
    await fireEvent.input(input, { target: { value: "0.5" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save ratio" }));
    await vi.waitFor(() => expect(document.getElementById("profit-share-ratio-steady-error")).not.toBeNull());
    const msg = document.getElementById("profit-share-ratio-steady-error")!;
    expect(msg.textContent).toContain("at most 0.3 (30 %)");
    expect(msg.className).toContain("field-error");
    expect(input.getAttribute("aria-invalid")).toBe("true");

    await fireEvent.input(input, { target: { value: "0.2" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save ratio" }));
    expect(await screen.findByRole("status")).toBeTruthy();
    expect(screen.getByTestId("share-ratio").textContent).toBe("20 %");
    expect(input.getAttribute("aria-invalid")).toBeNull();
    expect(b.calls.filter((c) => c.method === "setProfitShare").map((c) => c.args)).toEqual([
      ["steady", "0.5"],
      ["steady", "0.2"],
    ]);
  });

  it("turns profit share off with an empty ratio", async () => {
    const b = createMockBackend({ profitShare: { steady: SHARE } });
    render(ProfitShare, { backend: b, copy: "steady" });
    const input = (await screen.findByLabelText("Profit-share ratio")) as HTMLInputElement;
    expect(input.value).toBe("0.3");
    await fireEvent.input(input, { target: { value: "" } });
    await fireEvent.click(screen.getByRole("button", { name: "Save ratio" }));
    await screen.findByRole("status");
    expect(screen.getByTestId("share-ratio").textContent).toBe("off");
    expect(b.calls.at(-1)).toEqual({ method: "setProfitShare", args: ["steady", null] });
  });

  it("says when the statements cannot be read, instead of showing none", async () => {
    const b = createMockBackend({ profitShare: { steady: SHARE } });
    b.failNext("profitShare", { code: "storage", message: "database error: invalid decimal in owed", field: null });
    render(ProfitShare, { backend: b, copy: "steady" });
    expect((await screen.findByRole("alert")).textContent).toContain("invalid decimal");
    expect(screen.queryByText(/No statements yet/)).toBeNull();
  });

  it("sits in the copy detail as a tab, no longer in Settings", async () => {
    const b = createMockBackend({ profitShare: { steady: SHARE } });
    const store = new AppStore(b);
    await store.start();
    await b.createCopy({ name: "steady", leader: "demo-steady", follower: "paper", settings: defaultSettings() });
    await store.refreshStatus();
    const settings = render(SettingsView, { store });
    expect(screen.queryByRole("heading", { name: "Profit share · steady" })).toBeNull();
    settings.unmount();
    render(CopiesView, { store });
    await fireEvent.click(screen.getByRole("button", { name: "Details of steady" }));
    await fireEvent.click(screen.getByRole("tab", { name: "Profit share" }));
    expect(await screen.findByRole("heading", { name: "Profit share · steady" })).toBeTruthy();
    expect(await screen.findAllByTestId("statement")).toHaveLength(4);
  });
});
