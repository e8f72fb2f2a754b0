// What the copy wizard holds while the user goes through it: the inputs of every step as
// typed (so Back keeps them), the core's complaints per field, and whether each step may be
// left. Secrets are held only until the account is added, and dropped on Back.
import type { AppStore } from "./store.svelte";
import type { ApiError, CopySettingsDto, Environment, KeyCheckDto, PreviewDto, SizingMode } from "./types";
import { compare, add, toScaled } from "./decimal";
import { STEPS, applyStrictMirror, defaultSettings, parseList, stepOfField, type StepName } from "./settings";

export const NEW_ACCOUNT = "__new__";

/** The inputs as strings, exactly as typed. */
export type RiskForm = {
  maxLeverage: string;
  maxSignalAgeSecs: string;
  stopLossOn: boolean;
  stopLossKind: "percent" | "amount";
  stopLoss: string;
  takeProfit: string;
  stopAction: "close-all" | "keep";
  maxSlippagePct: string;
  slippageAction: "skip" | "ioc-limit";
  maxPositionNotional: string;
  maxFollowerAccountValue: string;
  allowlist: string;
  blocklist: string;
  quoteUSDT: boolean;
  quoteUSDC: boolean;
  offlineProtection: boolean;
  closeIndependentTrades: boolean;
};

export class WizardState {
  readonly store: AppStore;
  step = $state(0);

  // Account
  exchange = $state<"binance-usdm">("binance-usdm");
  environment = $state<Environment>("paper");
  advanced = $state(false);
  accountChoice = $state<string>(NEW_ACCOUNT);
  accountName = $state("");
  endpoint = $state("");
  apiKey = $state("");
  apiSecret = $state("");
  /** The account the copy will trade, once its key check has run. */
  follower = $state<string | null>(null);
  busy = $state<"" | "adding" | "checking" | "validating" | "starting">("");
  /** The newest settings check; an older one's answer is dropped. */
  private validation = 0;

  // Leader
  leaderId = $state<string | null>(null);

  // Mode
  mode = $state<SizingMode>("smart-sync");
  investment = $state("1000");
  amountPerOrder = $state("");
  ratio = $state("");
  copyOngoingPositions = $state(false);
  strictMirror = $state(false);
  cleanSlate = $state(false);
  resetFigures = $state(false);
  singleAssetMode = $state(false);
  preview = $state<PreviewDto | null>(null);

  // Risk
  risk = $state<RiskForm>({
    maxLeverage: "5",
    maxSignalAgeSecs: "60",
    stopLossOn: false,
    stopLossKind: "percent",
    stopLoss: "",
    takeProfit: "",
    stopAction: "close-all",
    maxSlippagePct: "",
    slippageAction: "skip",
    maxPositionNotional: "",
    maxFollowerAccountValue: "",
    allowlist: "",
    blocklist: "",
    quoteUSDT: true,
    quoteUSDC: true,
    offlineProtection: true,
    closeIndependentTrades: false,
  });

  // Review
  copyName = $state("");

  /** The profit-share ratio as typed (Risk step, optional; empty: off). */
  profitShareRatio = $state("");

  /** The core's message per field (`investment`, `risk.maxLeverage`, `apiSecret`, …). */
  errors = $state<Record<string, string>>({});
  /** A failure that belongs to no field (shown in the step, above its buttons). */
  stepError = $state<ApiError | null>(null);

  constructor(store: AppStore) {
    this.store = store;
    this.environment = store.info?.paper.running ? "paper" : "demo";
  }

  get stepName(): StepName {
    return STEPS[this.step];
  }

  get isPaper(): boolean {
    return this.environment === "paper" || (this.follower !== null && !!this.store.account(this.follower)?.paper);
  }

  get keyCheck(): KeyCheckDto | null {
    return this.follower ? (this.store.keyChecks[this.follower] ?? null) : null;
  }

  /** USDT the follower account holds (wallet), as the key check or the paper status said. */
  get accountBalance(): string | null {
    const usdt = this.keyCheck?.balances.find((b) => b.asset === "USDT");
    if (usdt) return usdt.wallet;
    if (this.isPaper) return this.store.info?.paper.balance ?? null;
    return null;
  }

  /** What the other live copies of this follower already reserve (Smart Sync investments). */
  get reservedByOthers(): string {
    return (this.store.status?.copies ?? [])
      .filter((c) => c.copy.follower === this.follower && c.copy.state !== "stopped" && c.copy.settings.mode === "smart-sync")
      .reduce((sum, c) => add(sum, c.copy.settings.investment ?? "0"), "0");
  }

  /** The amount this copy ties up, for the balance and 5 % checks. */
  get committed(): string | null {
    if (this.mode === "smart-sync") return this.investment.trim() || null;
    if (this.mode === "fixed-amount") return this.amountPerOrder.trim() || null;
    return null;
  }

  setError(e: ApiError) {
    if (e.field) this.errors = { ...this.errors, [e.field]: e.message };
    else this.stepError = e;
  }

  clearErrors(prefixes: string[]) {
    this.errors = Object.fromEntries(Object.entries(this.errors).filter(([k]) => !prefixes.some((p) => k === p || k.startsWith(p))));
  }

  /** Integer inputs are numbers in the DTO: text that is not a whole number is refused here,
   * with the same kind of message the core gives (the DTO could not carry it). */
  #integer(text: string, field: string, what: string): number | null {
    const t = text.trim();
    if (/^\d+$/.test(t)) return Number(t);
    this.errors = { ...this.errors, [field]: `The ${what} must be a whole number, like ${field.endsWith("maxLeverage") ? "5" : "60"}.` };
    return null;
  }

  /** The settings as the core receives them; null when an integer input is not one. */
  settings(): CopySettingsDto | null {
    this.clearErrors(["risk.maxLeverage", "risk.maxSignalAgeSecs"]);
    const lev = this.#integer(this.risk.maxLeverage, "risk.maxLeverage", "max leverage");
    const age = this.#integer(this.risk.maxSignalAgeSecs, "risk.maxSignalAgeSecs", "max signal age");
    if (lev === null || age === null) return null;
    const opt = (s: string) => (s.trim() === "" ? null : s.trim());
    const base = defaultSettings();
    return {
      ...base,
      mode: this.mode,
      investment: this.mode === "smart-sync" ? this.investment.trim() : null,
      amountPerOrder: this.mode === "fixed-amount" ? this.amountPerOrder.trim() : null,
      ratio: this.mode === "fixed-ratio" ? this.ratio.trim() : null,
      copyOngoingPositions: this.copyOngoingPositions,
      preset: this.strictMirror ? "strict-mirror" : "none",
      start: { cleanSlate: this.cleanSlate, resetFigures: this.resetFigures, singleAssetMode: this.singleAssetMode },
      risk: {
        maxLeverage: lev,
        maxSignalAgeSecs: age,
        allowedQuoteAssets: [this.risk.quoteUSDT ? "USDT" : "", this.risk.quoteUSDC ? "USDC" : ""].filter(Boolean),
        symbolAllowlist: parseList(this.risk.allowlist),
        symbolBlocklist: parseList(this.risk.blocklist),
        maxPositionNotional: opt(this.risk.maxPositionNotional),
        maxSlippagePct: opt(this.risk.maxSlippagePct),
        slippageAction: this.risk.slippageAction,
        totalStopLoss: this.risk.stopLossOn ? { kind: this.risk.stopLossKind, value: this.risk.stopLoss.trim() } : null,
        takeProfitTotal: opt(this.risk.takeProfit),
        stopAction: this.risk.stopAction,
        offlineProtection: this.risk.offlineProtection,
        closeIndependentTrades: this.risk.closeIndependentTrades,
        maxFollowerAccountValue: opt(this.risk.maxFollowerAccountValue),
      },
      ...(opt(this.profitShareRatio) === null ? {} : { profitShareRatio: this.profitShareRatio.trim() }),
    };
  }

  /** Turns the strict-mirror preset on (copy-rules §4) or off (back to what was there). */
  setStrictMirror(on: boolean) {
    this.strictMirror = on;
    if (!on) return;
    const s = applyStrictMirror(defaultSettings());
    this.mode = "fixed-amount";
    if (this.amountPerOrder.trim() === "") this.amountPerOrder = s.amountPerOrder ?? "";
    this.cleanSlate = this.resetFigures = this.singleAssetMode = true;
    this.risk.maxLeverage = "5";
    this.risk.quoteUSDT = this.risk.quoteUSDC = true;
    this.risk.closeIndependentTrades = true;
  }

  /** Asks the core about the settings; records its complaint on the field it names. Returns
   * the complaint's step, or null when the settings are valid. */
  async validate(): Promise<StepName | null> {
    const s = this.settings();
    if (!s) return "Risk";
    // Checks overlap (a field's blur and the settle timer): the messages change only when
    // an answer arrives, and only the newest check's answer counts, so a field's message
    // never blinks away (and Next never turns on) while a check of the same value runs.
    const ticket = ++this.validation;
    const e = await this.store.validate(s);
    if (ticket === this.validation) {
      this.clearErrors(["mode", "investment", "amountPerOrder", "ratio", "copyOngoingPositions", "preset", "start", "risk.", "profitShareRatio"]);
      this.stepError = null;
      if (e) this.setError(e);
    }
    return e ? stepOfField(e.field) : null;
  }

  /** The live preview of the sizing (runs after the inputs settle; not a polling loop). */
  async refreshPreview(): Promise<void> {
    const s = this.settings();
    if (!s || !this.leaderId || !this.follower) return;
    try {
      this.preview = await this.store.preview({ leader: this.leaderId, follower: this.follower, settings: s });
    } catch (e) {
      this.preview = null;
      this.setError(e as ApiError);
    }
  }

  /** Why the current step cannot be left yet, in words; null when Next may go on. */
  get blocker(): string | null {
    switch (this.stepName) {
      case "Account": {
        if (this.busy) return "Checking the key…";
        if (!this.follower) return this.environment === "paper" ? "Check the paper account first." : "Add the key and check it first.";
        const k = this.keyCheck;
        if (!k) return "Check the key first.";
        const failed = k.findings.find((f) => f.status === "fail");
        if (failed) return `The key check failed: ${failed.message}`;
        if (!k.ok) return "The key check did not pass.";
        return null;
      }
      case "Leader": {
        if (!this.leaderId) return "Pick a leader to copy.";
        const l = this.store.leaders?.find((x) => x.id === this.leaderId);
        if (l && !l.copyable) return `${l.name} cannot be copied: ${l.notCopyableReason ?? "no reason given"}.`;
        return null;
      }
      case "Mode": {
        const own = ["investment", "amountPerOrder", "ratio", "mode", "preset", "copyOngoingPositions"];
        const e = Object.entries(this.errors).find(([k]) => own.includes(k) || k.startsWith("start"));
        if (e) return e[1];
        const over = this.overBalance;
        if (over) return over;
        return null;
      }
      case "Risk": {
        const e = Object.entries(this.errors).find(([k]) => k.startsWith("risk.") || k === "profitShareRatio");
        return e ? e[1] : null;
      }
      case "Review":
        if (this.copyName.trim() === "") return "Name the copy.";
        return this.errors["name"] ?? null;
    }
  }

  /** A sentence when this copy's investment plus the others' does not fit the balance. */
  get overBalance(): string | null {
    if (this.mode !== "smart-sync") return null;
    const bal = this.accountBalance;
    const inv = this.investment.trim();
    if (!bal || toScaled(inv) === null) return null;
    const total = add(this.reservedByOthers, inv);
    if (compare(total, bal)! <= 0) return null;
    return `The investments of all copies on ${this.follower} must fit its balance of ${bal} USDT: the others reserve ${this.reservedByOthers} USDT, so at most ${add(bal, "-" + this.reservedByOthers)} USDT is free.`;
  }

  async next(): Promise<void> {
    if (this.blocker) return;
    if (this.stepName === "Mode" || this.stepName === "Risk") {
      this.busy = "validating";
      const at = await this.validate();
      this.busy = "";
      if (at !== null && STEPS.indexOf(at) <= this.step) return;
    }
    if (this.stepName === "Leader" && this.copyName.trim() === "") this.copyName = this.suggestName();
    this.step = Math.min(this.step + 1, STEPS.length - 1);
  }

  back(): void {
    // Back keeps every input except secrets.
    this.apiSecret = "";
    this.step = Math.max(this.step - 1, 0);
  }

  goTo(i: number): void {
    if (i >= this.step) return;
    this.apiSecret = "";
    this.step = i;
  }

  suggestName(): string {
    const l = this.store.leaders?.find((x) => x.id === this.leaderId);
    const base = (l?.name ?? "copy").toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const taken = new Set((this.store.status?.copies ?? []).map((c) => c.copy.name));
    if (!taken.has(base)) return base;
    let n = 2;
    while (taken.has(`${base}-${n}`)) n++;
    return `${base}-${n}`;
  }

  /** Paper: checks the paper account. Otherwise adds the key (to the keychain, in the core)
   * when it is new, then checks it. The secret is dropped as soon as the core has it. */
  async checkAccount(): Promise<void> {
    this.stepError = null;
    this.clearErrors(["name", "apiKey", "apiSecret", "endpoint", "environment", "exchange", "account"]);
    let name: string;
    if (this.environment === "paper") {
      const p = this.store.info?.paper;
      if (!p?.account) {
        this.stepError = { code: "not_found", message: "The paper simulator is not running, so there is no paper account.", field: null };
        return;
      }
      name = p.account;
    } else if (this.accountChoice !== NEW_ACCOUNT) {
      name = this.accountChoice;
    } else {
      this.busy = "adding";
      try {
        const a = await this.store.addAccount({
          name: this.accountName.trim(),
          exchange: this.exchange,
          environment: this.environment,
          endpoint: this.environment === "custom" ? this.endpoint.trim() : null,
          apiKey: this.apiKey.trim(),
          apiSecret: this.apiSecret,
          passphrase: null,
        });
        name = a.name;
        this.apiSecret = "";
        this.apiKey = "";
        this.accountChoice = a.name;
      } catch (e) {
        this.busy = "";
        this.setError(e as ApiError);
        return;
      }
    }
    this.busy = "checking";
    try {
      await this.store.checkKey(name);
      this.follower = name;
    } catch (e) {
      this.follower = null;
      this.setError(e as ApiError);
    } finally {
      this.busy = "";
    }
  }

  /** Starts the copy; on a complaint about a field, goes to that field's step. */
  async start(): Promise<boolean> {
    const s = this.settings();
    if (!s || !this.leaderId || !this.follower) return false;
    this.busy = "starting";
    this.stepError = null;
    this.clearErrors(["name"]);
    try {
      await this.store.createCopy({ name: this.copyName.trim(), leader: this.leaderId, follower: this.follower, settings: s });
      return true;
    } catch (e) {
      const err = e as ApiError;
      this.setError(err);
      const at = stepOfField(err.field);
      if (err.field && STEPS.indexOf(at) < this.step) this.step = STEPS.indexOf(at);
      return false;
    } finally {
      this.busy = "";
    }
  }
}
