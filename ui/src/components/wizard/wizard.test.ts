// The copy wizard against the mock backend: each step's inputs, the core's messages under
// their fields, Next's reason, Back keeping values (not secrets), and Start.
import { fireEvent, render, screen, waitFor, within } from "@testing-library/svelte";
import { describe, expect, it } from "vitest";
import { createMockBackend, PAPER_PORTFOLIO, passingKeyCheck, type MockBackend } from "../../lib/mock";
import { AppStore } from "../../lib/store.svelte";
import { WizardState } from "../../lib/wizard.svelte";
import type { CopySettingsDto, NewCopyRequest } from "../../lib/types";
import AccountStep from "./AccountStep.svelte";
import KeyCheckResults from "./KeyCheckResults.svelte";
import ModeStep from "./ModeStep.svelte";
import ReviewStep from "./ReviewStep.svelte";
import RiskStep from "./RiskStep.svelte";
import Wizard from "./Wizard.svelte";

async function setup(b: MockBackend = createMockBackend()) {
  const store = new AppStore(b);
  await store.start();
  const wiz = new WizardState(store);
  return { b, store, wiz };
}

const next = () => screen.getByRole("button", { name: "Next" }) as HTMLButtonElement;
const type = (label: string | RegExp, value: string) => fireEvent.input(screen.getByLabelText(label), { target: { value } });

const withdrawalsOn = {
  ...passingKeyCheck("risky"),
  ok: false,
  findings: [
    { check: "valid" as const, status: "pass" as const, message: "The key is valid.", fix: null },
    {
      check: "withdrawals" as const,
      status: "fail" as const,
      message: "Withdrawals are enabled on this key.",
      fix: "Untick 'Enable Withdrawals' for this key on the API-management page, or create a key without it.",
    },
  ],
};

describe("KeyCheckResults", () => {
  it("lists each finding with what to do", () => {
    render(KeyCheckResults, { check: withdrawalsOn });
    expect(screen.getByRole("heading").textContent).toContain("Key check for risky: failed");
    expect(screen.getByText("Withdrawals are enabled on this key.")).toBeTruthy();
    expect(screen.getByText(/What to do: Untick 'Enable Withdrawals'/)).toBeTruthy();
  });
});

const oneWay = {
  ...passingKeyCheck("paper"),
  findings: [
    { check: "valid" as const, status: "pass" as const, message: "The key is valid.", fix: null },
    {
      check: "positionMode" as const,
      status: "warn" as const,
      message: "position mode one-way: a leader that trades in hedge mode cannot be copied here",
      fix: "switch the account to hedge mode",
    },
  ],
  switchPositionMode: "hedge" as const,
};

describe("position mode switch", () => {
  it("no switch is offered when the core asks for none", async () => {
    const { wiz } = await setup();
    render(AccountStep, { wiz });
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    await screen.findByText("Key check for paper: passed");
    expect(screen.queryByRole("button", { name: /Switch to/ })).toBeNull();
  });

  it("offers the switch the core names, calls the backend with it and checks the key again", async () => {
    const { b, wiz } = await setup(createMockBackend({ keyChecks: { paper: oneWay } }));
    render(AccountStep, { wiz });
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    const button = await screen.findByRole("button", { name: "Switch to hedge mode" });
    const checks = b.calls.filter((c) => c.method === "checkKey").length;
    await fireEvent.click(button);
    await waitFor(() => expect(screen.queryByRole("button", { name: /Switch to/ })).toBeNull());
    expect(b.calls.filter((c) => c.method === "setPositionMode").map((c) => c.args)).toEqual([["paper", "hedge"]]);
    expect(b.calls.filter((c) => c.method === "checkKey").length).toBe(checks + 1);
    expect(screen.getByText("position mode hedge: fits every leader")).toBeTruthy();
    expect(wiz.keyCheck?.positionMode).toBe("hedge");
  });

  it("shows progress while switching", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    render(KeyCheckResults, { check: oneWay, onSwitchPositionMode: () => gate });
    await fireEvent.click(screen.getByRole("button", { name: "Switch to hedge mode" }));
    const busy = screen.getByRole("button", { name: "Switching to hedge mode…" }) as HTMLButtonElement;
    expect(busy.disabled).toBe(true);
    release();
    await screen.findByRole("button", { name: "Switch to hedge mode" });
  });

  it("a refusal is shown under the finding and the mode is unchanged", async () => {
    const { b, wiz } = await setup(createMockBackend({ keyChecks: { paper: oneWay } }));
    render(AccountStep, { wiz });
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    b.failNext("setPositionMode", {
      code: "conflict",
      message: "the exchange keeps account `paper` in its position mode while it has open positions; close them on the exchange, then switch to hedge mode",
      field: null,
    });
    await fireEvent.click(await screen.findByRole("button", { name: "Switch to hedge mode" }));
    const alert = await screen.findByRole("alert");
    expect(alert.textContent).toContain("while it has open positions; close them");
    expect(alert.closest("li")?.textContent).toContain("Position mode");
    expect(wiz.keyCheck?.positionMode).toBe("one-way");
    expect(screen.getByRole("button", { name: "Switch to hedge mode" })).toBeTruthy();
  });
});

describe("AccountStep", () => {
  it("paper: checks the paper account and lets Next go on", async () => {
    const { wiz } = await setup();
    render(AccountStep, { wiz });
    expect(wiz.blocker).toBe("Check the paper account first.");
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    await screen.findByText("Key check for paper: passed");
    expect(wiz.follower).toBe("paper");
    expect(wiz.blocker).toBeNull();
  });

  it("the custom endpoint is behind the Advanced toggle", async () => {
    const { wiz } = await setup();
    render(AccountStep, { wiz });
    expect(screen.queryByLabelText(/Custom endpoint/)).toBeNull();
    await fireEvent.click(screen.getByLabelText(/Advanced/));
    await fireEvent.click(screen.getByLabelText(/Custom endpoint/));
    expect(screen.getByLabelText("Endpoint URL")).toBeTruthy();
  });

  it("shows the core's complaint under the field it names", async () => {
    const { wiz } = await setup();
    render(AccountStep, { wiz });
    await fireEvent.click(screen.getByLabelText(/Demo/));
    await type("Account name", "main");
    await type("API key", "abcd1234");
    await fireEvent.click(screen.getByRole("button", { name: "Save and check the key" }));
    const secret = screen.getByLabelText("API secret");
    await waitFor(() => expect(secret.getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByText("Paste the API secret.")).toBeTruthy();
    expect(wiz.follower).toBeNull();
  });

  it("refuses a key with withdrawals enabled, with the reason and the fix", async () => {
    const { wiz } = await setup(createMockBackend({ keyChecks: { risky: withdrawalsOn } }));
    render(AccountStep, { wiz });
    await fireEvent.click(screen.getByLabelText(/Advanced/));
    await fireEvent.click(screen.getByLabelText(/Custom endpoint/));
    await type("Account name", "risky");
    await type("Endpoint URL", "http://127.0.0.1:9999");
    await type("API key", "key-with-withdrawals");
    await type("API secret", "s3cret");
    await fireEvent.click(screen.getByRole("button", { name: "Save and check the key" }));
    await screen.findByText("Withdrawals are enabled on this key.");
    expect(wiz.blocker).toBe("The key check failed: Withdrawals are enabled on this key.");
    // The secret went to the core once and is not kept, nor shown.
    expect(wiz.apiSecret).toBe("");
    expect(document.body.textContent).not.toContain("s3cret");
  });
});

describe("ModeStep", () => {
  async function atMode() {
    const s = await setup();
    s.wiz.follower = "paper";
    await s.store.checkKey("paper");
    s.wiz.leaderId = "demo-steady";
    s.wiz.step = 2;
    render(ModeStep, { wiz: s.wiz });
    return s;
  }

  it("shows the core's message under the investment and the live preview once valid", async () => {
    const { wiz } = await atMode();
    await type("Investment", "50");
    await screen.findByText("At least 100 USDT for Smart Sync.");
    expect(wiz.blocker).toBe("At least 100 USDT for Smart Sync.");
    await type("Investment", "abc");
    await screen.findByText("The investment must be a number, like 1000.");
    await type("Investment", "100.123");
    await screen.findByText("The investment has too many decimals: at most 2.");
    await type("Investment", "-5");
    await screen.findByText("The investment must be above zero.");
    await type("Investment", "1000");
    await screen.findByText(/becomes 0\.010 BTC for you/);
    expect(screen.getByText(/0 of the leader's last 100 opens would have been skipped/)).toBeTruthy();
    expect(wiz.blocker).toBeNull();
  });

  it("says when the investment does not fit the account's balance", async () => {
    const { wiz } = await atMode();
    await type("Investment", "20000");
    await screen.findByText(/must fit its balance of 10000 USDT/);
    expect(wiz.blocker).toMatch(/must fit its balance/);
  });

  it("the strict-mirror preset switches to fixed amount with its start actions", async () => {
    const { wiz } = await atMode();
    await fireEvent.click(screen.getByLabelText(/Strict mirror preset/));
    expect(wiz.mode).toBe("fixed-amount");
    expect(screen.getByLabelText("Amount per order")).toBeTruthy();
    const said = screen.getByRole("list", { name: "What starting will do" }).textContent ?? "";
    expect(said).toMatch(/Clean slate: closes .* and cancels/);
    expect(said).toContain("Reset figures");
    expect(said).toContain("Single-asset mode");
    expect(wiz.risk.closeIndependentTrades).toBe(true);
  });
});

describe("ModeStep start actions", () => {
  it("say what a clean slate does to this account now, from the preview's counts", async () => {
    const s = await setup(createMockBackend({ followerOpen: { positions: 2, orders: 3 } }));
    s.wiz.follower = "paper";
    await s.store.checkKey("paper");
    s.wiz.leaderId = "demo-steady";
    s.wiz.step = 2;
    render(ModeStep, { wiz: s.wiz });
    await fireEvent.click(screen.getByLabelText(/^Clean slate: close this account/));
    await screen.findByText(/0 of the leader's last 100 opens/);
    const said = screen.getByRole("list", { name: "What starting will do" }).textContent ?? "";
    expect(said).toContain("Clean slate: closes your 2 open positions and cancels 3 open orders on this account");
  });
});

describe("WizardState.validate", () => {
  it("keeps a field's message while a second check of the same value runs, and drops a stale answer", async () => {
    const b = createMockBackend();
    const inner = b.validateSettings;
    // Answers are held back until the test lets them through, one by one.
    const held: (() => void)[] = [];
    b.validateSettings = (settings) =>
      new Promise((resolve, reject) => held.push(() => inner(settings).then(resolve, reject)));
    const { wiz } = await setup(b);
    wiz.follower = "paper";
    wiz.leaderId = "demo-steady";
    wiz.step = 2;
    wiz.investment = "50";
    const first = wiz.validate();
    held.shift()!();
    expect(await first).toBe("Mode");
    const message = wiz.errors["investment"];
    expect(message).toMatch(/100/);
    // The settle timer checks the same value again: until its answer comes, the message
    // stays and Next stays off.
    const second = wiz.validate();
    expect(wiz.errors["investment"]).toBe(message);
    expect(wiz.blocker).toBe(message);
    // Meanwhile the user types a good amount; its check answers first, then the stale one.
    wiz.investment = "1000";
    const third = wiz.validate();
    held[1]();
    expect(await third).toBeNull();
    expect(wiz.errors["investment"]).toBeUndefined();
    held[0]();
    expect(await second).toBe("Mode");
    expect(wiz.errors["investment"]).toBeUndefined();
    expect(wiz.blocker).toBeNull();
  });
});

describe("RiskStep", () => {
  it("warns when the copy would hold more than 5 % of the capital", async () => {
    const { wiz } = await setup();
    wiz.follower = "paper";
    await wiz.store.checkKey("paper");
    wiz.investment = "1000";
    render(RiskStep, { wiz });
    expect(screen.getByRole("status").textContent).toContain("This copy would hold 10.0 % of the account's capital");
  });

  it("explains each field and starts from the safe defaults", async () => {
    const { wiz } = await setup();
    render(RiskStep, { wiz });
    expect((screen.getByLabelText("Max leverage") as HTMLInputElement).value).toBe("5");
    expect((screen.getByLabelText("Max signal age") as HTMLInputElement).value).toBe("60");
    expect((screen.getByLabelText(/Offline protection/) as HTMLInputElement).checked).toBe(true);
    expect((screen.getByLabelText(/Close independent trades/) as HTMLInputElement).checked).toBe(false);
    expect(screen.getByText(/Caps the leverage of every copied position \(default 5\)/)).toBeTruthy();
  });

  it("shows messages under max leverage and the stop loss", async () => {
    const { wiz } = await setup();
    wiz.step = 3;
    render(RiskStep, { wiz });
    await type("Max leverage", "abc");
    await screen.findByText("The max leverage must be a whole number, like 5.");
    await type("Max leverage", "500");
    await screen.findByText("Max leverage must be between 1 and 125.");
    await type("Max leverage", "5");
    await fireEvent.click(screen.getByLabelText(/Stop the copy when its loss reaches a limit/));
    await type("Stop loss", "120");
    await screen.findByText("A stop loss in percent is at most 100 %.");
    expect(wiz.blocker).toBe("A stop loss in percent is at most 100 %.");
  });
});

describe("ReviewStep", () => {
  it("lists every setting and the start actions in sentences", async () => {
    const { wiz } = await setup();
    wiz.follower = "paper";
    wiz.leaderId = "demo-steady";
    wiz.risk.stopLossOn = true;
    wiz.risk.stopLoss = "20";
    wiz.cleanSlate = true;
    render(ReviewStep, { wiz });
    const table = screen.getByRole("table", { name: "Copy settings" });
    const row = (k: string) => within(table).getByText(k).closest("tr")!.textContent;
    expect(row("Leader")).toContain("Steady Trend");
    expect(row("Amount")).toContain("1,000 USDT");
    expect(row("Total stop loss")).toContain("20 % of the investment");
    expect(row("Max leverage")).toContain("5x");
    expect(screen.getByText(/Clean slate: closes every open position/)).toBeTruthy();
  });
});

describe("Wizard", () => {
  it("goes Account → Leader → Mode → Risk → Review, keeps values on Back, and starts the copy", async () => {
    const { b, store, wiz } = await setup();
    store.view = "wizard";
    render(Wizard, { wiz, onCancel: () => {} });

    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 1 of 5: Account");
    expect(next().disabled).toBe(true);
    expect(screen.getByText("Check the paper account first.")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());

    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 2 of 5: Leader");
    expect(screen.getByText("Pick a leader to copy.")).toBeTruthy();
    await fireEvent.click(screen.getByRole("button", { name: "Choose Steady Trend" }));
    await screen.findByRole("heading", { name: "Steady Trend: last 30 days" });
    await fireEvent.click(next());

    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 3 of 5: Mode");
    await type("Investment", "50");
    await screen.findByText("At least 100 USDT for Smart Sync.", { selector: "#investment-error" });
    expect(screen.getByText("At least 100 USDT for Smart Sync.", { selector: "#next-reason" })).toBeTruthy();
    expect(next().disabled).toBe(true);
    await type("Investment", "1000");
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());

    await screen.findByRole("heading", { level: 2, name: "Step 4 of 5: Risk" });
    await fireEvent.click(screen.getByLabelText(/Stop the copy when its loss reaches a limit/));
    await type("Stop loss", "20");
    await fireEvent.click(screen.getByRole("button", { name: "Back" }));
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 3 of 5: Mode");
    expect((screen.getByLabelText("Investment") as HTMLInputElement).value).toBe("1000");
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());
    await screen.findByRole("heading", { level: 2, name: "Step 4 of 5: Risk" });
    expect((screen.getByLabelText("Stop loss") as HTMLInputElement).value).toBe("20");
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());

    await screen.findByRole("heading", { level: 2, name: "Step 5 of 5: Review" });
    const start = screen.getByRole("button", { name: "Start copying Steady Trend on paper with 1,000 USDT" });
    await fireEvent.click(start);
    await waitFor(() => expect(store.view).toBe("copies"));
    const req = b.calls.find((c) => c.method === "createCopy")!.args[0] as NewCopyRequest;
    expect(req.name).toBe("steady-trend");
    expect(req.leader).toBe("demo-steady");
    expect(req.follower).toBe("paper");
    const s: CopySettingsDto = req.settings;
    expect(s.mode).toBe("smart-sync");
    expect(s.investment).toBe("1000");
    expect(s.risk.totalStopLoss).toEqual({ kind: "percent", value: "20" });
    expect(s.risk.maxLeverage).toBe(5);
  });

  it("Back drops the secret but keeps the other account inputs", async () => {
    const { wiz } = await setup();
    wiz.environment = "demo";
    wiz.accountName = "main";
    wiz.apiKey = "abcd";
    wiz.apiSecret = "s3cret";
    wiz.step = 1;
    wiz.back();
    expect(wiz.step).toBe(0);
    expect(wiz.apiSecret).toBe("");
    expect(wiz.accountName).toBe("main");
    expect(wiz.apiKey).toBe("abcd");
  });

  it("a start refused on a field goes back to that field's step with the message", async () => {
    const { b, wiz } = await setup();
    wiz.follower = "paper";
    await wiz.store.checkKey("paper");
    wiz.leaderId = "demo-steady";
    wiz.copyName = "x";
    wiz.step = 4;
    render(Wizard, { wiz, onCancel: () => {} });
    b.failNext("createCopy", { code: "invalid_input", message: "The investments on paper exceed its balance.", field: "investment" });
    await fireEvent.click(screen.getByRole("button", { name: /Start copying/ }));
    await screen.findByRole("heading", { level: 2, name: "Step 3 of 5: Mode" });
    expect(screen.getByText("The investments on paper exceed its balance.", { selector: "#investment-error" })).toBeTruthy();
  });

  it("a refusal that names no field is shown in the step, as a sentence", async () => {
    const { b, wiz } = await setup();
    wiz.follower = "paper";
    await wiz.store.checkKey("paper");
    wiz.leaderId = "demo-steady";
    wiz.copyName = "x";
    wiz.step = 4;
    render(Wizard, { wiz, onCancel: () => {} });
    b.failNext("createCopy", { code: "exchange", message: "The exchange refused the leverage change: try again.", field: null });
    await fireEvent.click(screen.getByRole("button", { name: /Start copying/ }));
    expect((await screen.findByRole("alert")).textContent).toBe("The exchange refused the leverage change: try again.");
  });
});

describe("Wizard: a public portfolio leader", () => {
  it("shows each leader's copy delay (seconds, polled, against milliseconds, stream) before the choice, and creates the copy with the portfolio's leader id", async () => {
    const { b, store, wiz } = await setup(createMockBackend({ extraLeaders: [PAPER_PORTFOLIO] }));
    store.view = "wizard";
    render(Wizard, { wiz, onCancel: () => {} });
    await fireEvent.click(screen.getByRole("button", { name: "Check the paper account" }));
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());
    expect(screen.getByRole("heading", { level: 2 }).textContent).toBe("Step 2 of 5: Leader");

    // Before anything is chosen, every card says how fast its trades arrive.
    expect(wiz.leaderId).toBeNull();
    const portfolio = screen.getByRole("article", { name: PAPER_PORTFOLIO.name });
    expect(within(portfolio).getByText("public portfolio")).toBeTruthy();
    expect(within(portfolio).getByText(/Copy delay:/).textContent).toContain("~4 s, polled");
    expect(within(portfolio).getByText(/seconds: polled, not streamed/)).toBeTruthy();
    expect(within(portfolio).getByText(/about 20 requests a minute per address/)).toBeTruthy();
    const account = screen.getByRole("article", { name: "Steady Trend" });
    expect(within(account).getByText(/Copy delay:/).textContent).toContain("~2 ms, stream");

    await fireEvent.click(within(portfolio).getByRole("button", { name: `Choose ${PAPER_PORTFOLIO.name}` }));
    expect(wiz.leaderId).toBe(PAPER_PORTFOLIO.id);
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());
    await screen.findByRole("heading", { level: 2, name: "Step 3 of 5: Mode" });
    await type("Investment", "1000");
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());
    await screen.findByRole("heading", { level: 2, name: "Step 4 of 5: Risk" });
    await waitFor(() => expect(next().disabled).toBe(false));
    await fireEvent.click(next());
    await screen.findByRole("heading", { level: 2, name: "Step 5 of 5: Review" });
    await fireEvent.click(screen.getByRole("button", { name: `Start copying ${PAPER_PORTFOLIO.name} on paper with 1,000 USDT` }));
    await waitFor(() => expect(store.view).toBe("copies"));
    const req = b.calls.find((c) => c.method === "createCopy")!.args[0] as NewCopyRequest;
    expect(req.leader).toBe(PAPER_PORTFOLIO.id);
  });

  it("keeps Next disabled for a portfolio that hides its positions, with the reason", async () => {
    const { store, wiz } = await setup();
    wiz.step = 1;
    store.view = "wizard";
    render(Wizard, { wiz, onCancel: () => {} });
    const hidden = screen.getByRole("article", { name: "Hidden Book" });
    expect(within(hidden).getByText(/Not copyable: positions hidden by the leader/)).toBeTruthy();
    await fireEvent.click(within(hidden).getByRole("button", { name: "Choose Hidden Book" }));
    expect(next().disabled).toBe(true);
    expect(screen.getByText("Hidden Book cannot be copied: positions hidden by the leader.", { selector: "#next-reason" })).toBeTruthy();
  });
});
