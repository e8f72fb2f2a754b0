// The facade's DTOs as FACADE.md states them (plus the few fields the facade's DTOs add),
// written by hand until the Rust side's ts-rs export (`./generated/api.ts`) is on main. Every other module imports these names through
// `./types`, so switching to the generated file is a one-import change there.
// JSON is camelCase; decimals are strings; times are milliseconds since the epoch (`…Ms`).

export type ErrorCode =
  | "invalid_input"
  | "not_found"
  | "conflict"
  | "exchange"
  | "keychain"
  | "storage"
  | "locked"
  | "internal";

/** The one error that crosses IPC. `field` names the input it is about (e.g. `investment`,
 * `risk.maxLeverage`, `apiSecret`), so the UI shows `message` under that field. */
export type ApiError = { code: ErrorCode; message: string; field: string | null };

export type PaperDto = {
  running: boolean;
  endpoint: string | null;
  account: string | null;
  balance: string | null;
};

export type AppInfo = {
  name: string;
  version: string;
  mode: "paper" | "live";
  dataDir: string;
  paper: PaperDto;
};

export type Environment = "paper" | "demo" | "mainnet" | "custom";
export type Exchange = "binance-usdm";

export type AccountDto = {
  name: string;
  exchange: Exchange;
  environment: Environment;
  endpoint: string | null;
  keyHint: string | null;
  paper: boolean;
  createdAtMs: number;
};

export type NewAccountRequest = {
  name: string;
  exchange: Exchange;
  environment: Environment;
  endpoint: string | null;
  apiKey: string;
  apiSecret: string;
  passphrase: string | null;
};

export type KeyCheckName =
  | "valid"
  | "futures"
  | "trade"
  | "withdrawals"
  | "ipRestriction"
  | "expiry"
  | "balances"
  | "positionMode";

export type KeyFinding = {
  check: KeyCheckName;
  status: "pass" | "warn" | "fail" | "unknown";
  message: string;
  fix: string | null;
};

export type BalanceDto = { asset: string; wallet: string; available: string };

export type KeyCheckDto = {
  account: string;
  ok: boolean;
  findings: KeyFinding[];
  balances: BalanceDto[];
  positionMode: "one-way" | "hedge" | null;
};

export type FiguresDto = {
  days: 7 | 30 | 90;
  roi: string | null;
  pnl: string | null;
  maxDrawdown: string | null;
  sharpe: string | null;
  sortino: string | null;
  winRate: string | null;
  trades: number;
};

export type LeaderSource = "demo" | "account" | "portfolio";

export type LeaderDto = {
  id: string;
  name: string;
  source: LeaderSource;
  style: string | null;
  figures: FiguresDto[];
  copyable: boolean;
  notCopyableReason: string | null;
  expectedDelay: string;
  equity: string | null;
};

export type EquityPoint = { tsMs: number; value: string };

export type LeaderPositionDto = {
  symbol: string;
  side: string;
  qty: string;
  /** Null when the source does not publish it (the facade's DTO has it optional). */
  entryPrice: string | null;
  leverage: number;
  marginMode: string;
};

export type LeaderDetailDto = {
  leader: LeaderDto;
  equityCurve: EquityPoint[];
  positions: LeaderPositionDto[];
};

export type SizingMode = "smart-sync" | "fixed-amount" | "fixed-ratio";
export type Preset = "none" | "strict-mirror";

export type StartActionsDto = { cleanSlate: boolean; resetFigures: boolean; singleAssetMode: boolean };

export type TotalStopLossDto = { kind: "percent" | "amount"; value: string };

export type RiskDto = {
  maxLeverage: number;
  allowedQuoteAssets: string[];
  symbolAllowlist: string[];
  symbolBlocklist: string[];
  maxPositionNotional: string | null;
  maxSlippagePct: string | null;
  slippageAction: "skip" | "ioc-limit";
  maxSignalAgeSecs: number;
  totalStopLoss: TotalStopLossDto | null;
  takeProfitTotal: string | null;
  stopAction: "close-all" | "keep";
  offlineProtection: boolean;
  closeIndependentTrades: boolean;
  maxFollowerAccountValue: string | null;
};

export type CopySettingsDto = {
  mode: SizingMode;
  investment: string | null;
  amountPerOrder: string | null;
  ratio: string | null;
  copyOngoingPositions: boolean;
  preset: Preset;
  start: StartActionsDto;
  risk: RiskDto;
};

export type PreviewRequest = { leader: string; follower: string; settings: CopySettingsDto };

export type LastOpenDto = {
  symbol: string;
  qty: string;
  price: string;
  leverage: number;
  /** Null when the leader's equity at that open is unknown. */
  marginPct: string | null;
};

export type PreviewDto = {
  lastOpen: LastOpenDto | null;
  followerQty: string | null;
  sentence: string;
  consideredOpens: number;
  skippedBelowMin: number;
  /** The follower's open positions and orders now (what a clean slate would close). */
  followerOpenPositions: number | null;
  followerOpenOrders: number | null;
};

export type NewCopyRequest = { name: string; leader: string; follower: string; settings: CopySettingsDto };

export type CopyState = "running" | "paused" | "held" | "stopping" | "stopped";

export type HoldDto = { kind: string; reason: string };

export type CopyDto = {
  name: string;
  leader: string;
  follower: string;
  paper: boolean;
  settings: CopySettingsDto;
  state: CopyState;
  reason: string | null;
  holds: HoldDto[];
  t0Ms: number | null;
};

export type PositionDto = {
  symbol: string;
  side: "long" | "short";
  leaderQty: string;
  followerQty: string;
  ratio: string;
  entryPrice: string | null;
  /** Margin and leverage of the follower's position (in the facade's DTO). */
  margin: string;
  leverage: number;
  stopPrice: string | null;
  stopConfirmed: boolean;
  drift: string | null;
};

export type CopyFiguresDto = {
  realizedPnl: string | null;
  unrealizedPnl: string | null;
  fees: string | null;
  funding: string | null;
  roi: string | null;
  maxDrawdown: string | null;
};

export type DecisionDto = { tsMs: number; kind: string; symbol: string | null; reason: string };

export type FillDto = {
  tsMs: number;
  symbol: string;
  side: string;
  qty: string;
  price: string;
  delayMs: number | null;
  slippagePct: string | null;
};

export type CopyStatusDto = {
  copy: CopyDto;
  figures: CopyFiguresDto;
  positions: PositionDto[];
  decisions: DecisionDto[];
  fills: FillDto[];
  /** Orders written to the journal for this copy (in the facade's DTO). */
  ordersJournaled: number;
};

export type WeightDto = { venue: string; used: number; limit: number };

export type EventKind =
  | "started"
  | "watching"
  | "fill"
  | "skip"
  | "paused"
  | "resumed"
  | "held"
  | "released"
  | "stopping"
  | "stopped"
  | "disconnected"
  | "reconnected"
  | "reconciled"
  | "unprotected"
  | "protected"
  | "funding"
  | "error"
  | "notice"
  | (string & {});

export type EventDto = {
  tsMs: number;
  copy: string | null;
  level: "info" | "warning" | "error";
  kind: EventKind;
  /** The engine notice's kind when `kind` is `notice` (in the facade's DTO). */
  notice: string | null;
  message: string;
};

export type StatusDto = { copies: CopyStatusDto[]; recent: EventDto[]; weight: WeightDto[] };

export type StopActionDto = "close-all" | "keep";

/** FACADE.md names `copy_modify {name, req}` without its fields; the facade's DTO carries
 * the new settings (only the investment / amount per order may differ, copy-rules §1.6). */
export type ModifyRequest = { settings: CopySettingsDto };

export type ExportDto = { dir: string; files: string[]; copies: number; fills: number; figures: number };
