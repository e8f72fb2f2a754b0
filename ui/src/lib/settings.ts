// Copy settings on the UI side: the safe defaults the wizard starts from (copy-rules §4), the
// strict-mirror preset (§4), which wizard step owns which field, and the plain sentences that
// describe modes and start actions. Whether settings are valid is decided by the core
// (`settings_validate`); nothing here refuses anything.
import type { CopySettingsDto, SizingMode } from "./types";
import { money } from "./decimal";

export function defaultSettings(): CopySettingsDto {
  return {
    mode: "smart-sync",
    investment: "1000",
    amountPerOrder: null,
    ratio: null,
    copyOngoingPositions: false,
    preset: "none",
    start: { cleanSlate: false, resetFigures: false, singleAssetMode: false },
    risk: {
      maxLeverage: 5,
      allowedQuoteAssets: ["USDT", "USDC"],
      symbolAllowlist: [],
      symbolBlocklist: [],
      maxPositionNotional: null,
      maxSlippagePct: null,
      slippageAction: "skip",
      maxSignalAgeSecs: 60,
      totalStopLoss: null,
      takeProfitTotal: null,
      stopAction: "close-all",
      offlineProtection: true,
      closeIndependentTrades: false,
      maxFollowerAccountValue: null,
    },
  };
}

/** Strict mirror (copy-rules §4): clean slate, reset figures, single-asset mode, fixed
 * amount, max leverage 5, USDT/USDC only, close independent trades. */
export function applyStrictMirror(s: CopySettingsDto): CopySettingsDto {
  return {
    ...s,
    preset: "strict-mirror",
    mode: "fixed-amount",
    amountPerOrder: s.amountPerOrder ?? "50",
    start: { cleanSlate: true, resetFigures: true, singleAssetMode: true },
    risk: {
      ...s.risk,
      maxLeverage: 5,
      allowedQuoteAssets: ["USDT", "USDC"],
      closeIndependentTrades: true,
    },
  };
}

export const STEPS = ["Account", "Leader", "Mode", "Risk", "Review"] as const;
export type StepName = (typeof STEPS)[number];

/** The wizard step where the input named by an `ApiError.field` lives. */
export function stepOfField(field: string | null): StepName {
  if (!field) return "Review";
  if (field.startsWith("risk.")) return "Risk";
  if (field === "profitShareRatio") return "Risk";
  if (["apiKey", "apiSecret", "passphrase", "endpoint", "environment", "exchange", "follower", "account"].includes(field))
    return "Account";
  if (field === "leader") return "Leader";
  if (field === "name") return "Review";
  return "Mode";
}

export const MODE_NAMES: Record<SizingMode, string> = {
  "smart-sync": "Smart Sync",
  "fixed-amount": "Fixed amount",
  "fixed-ratio": "Fixed ratio",
};

/** The amount that names a copy's size, as the user reads it ("1,000 USDT", "×0.1"). */
export function amountOf(s: CopySettingsDto): string {
  switch (s.mode) {
    case "smart-sync":
      return money(s.investment);
    case "fixed-amount":
      return `${money(s.amountPerOrder)} per order`;
    case "fixed-ratio":
      return `ratio ×${s.ratio ?? "—"}`;
  }
}

/** What each start action will do to this account now. `openPositions`/`openOrders` are
 * the follower's current counts when known. */
export function startActionSentences(
  s: Pick<CopySettingsDto, "start" | "copyOngoingPositions">,
  openPositions: number | null,
  openOrders: number | null,
): string[] {
  const out: string[] = [];
  if (s.start.cleanSlate) {
    const pos =
      openPositions === null
        ? "every open position"
        : openPositions === 0
          ? "no positions (none are open)"
          : `your ${openPositions} open position${openPositions === 1 ? "" : "s"}`;
    const ord =
      openOrders === null ? "every open order" : `${openOrders} open order${openOrders === 1 ? "" : "s"}`;
    out.push(`Clean slate: closes ${pos} and cancels ${ord} on this account, conditional orders included.`);
  }
  if (s.start.resetFigures) out.push("Reset figures: this copy's PnL and ROI start from zero at the start.");
  if (s.start.singleAssetMode)
    out.push("Single-asset mode: switches this account's multi-assets margin mode off.");
  if (s.copyOngoingPositions)
    out.push("Copy ongoing positions: opens the leader's current positions now, at market, sized by the mode.");
  if (out.length === 0) out.push("No start actions: nothing on this account changes when the copy starts.");
  return out;
}

/** "BTCUSDT, ETHUSDT" ↔ ["BTCUSDT", "ETHUSDT"] for the symbol list inputs. */
export function parseList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((x) => x.trim().toUpperCase())
    .filter((x) => x !== "");
}
