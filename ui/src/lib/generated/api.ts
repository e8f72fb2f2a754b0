// Generated from the Rust DTOs in `copydesk::api` by `src/api/ts_bindings.rs`.
// Do not edit: run `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings`.

export type ErrorCode = "invalid_input" | "not_found" | "conflict" | "exchange" | "keychain" | "storage" | "locked" | "internal";

export type ApiError = { code: ErrorCode, message: string, 
/**
 * The input the error is about, as a camelCase path (`risk.maxLeverage`), if any.
 */
field: string | null, };

export type AppInfo = { name: string, version: string, 
/**
 * `paper` until the user connects a real account, then `live`.
 */
mode: string, dataDir: string, paper: PaperDto, };

export type PaperDto = { running: boolean, 
/**
 * The simulator's loopback URL.
 */
endpoint: string | null, 
/**
 * The funded paper account's name.
 */
account: string | null, 
/**
 * Its USDT balance.
 */
balance: string | null, };

export type Environment = "paper" | "demo" | "mainnet" | "custom";

export type AccountDto = { name: string, exchange: string, environment: Environment, 
/**
 * The URL of a custom endpoint.
 */
endpoint: string | null, 
/**
 * `abcd…wxyz`, when a key is stored.
 */
keyHint: string | null, paper: boolean, createdAtMs: number, };

export type NewAccountRequest = { name: string, exchange: string, environment: Environment, 
/**
 * Required for `custom`: the base URL.
 */
endpoint: string | null, apiKey: string, apiSecret: string, passphrase: string | null, };

export type KeyCheckKind = "valid" | "futures" | "trade" | "withdrawals" | "ipRestriction" | "expiry" | "balances" | "positionMode";

export type FindingStatus = "pass" | "warn" | "fail" | "unknown";

export type KeyFindingDto = { check: KeyCheckKind, status: FindingStatus, message: string, fix: string | null, };

export type BalanceDto = { asset: string, wallet: string, available: string, };

export type PositionModeDto = "one-way" | "hedge";

export type KeyCheckDto = { account: string, ok: boolean, findings: Array<KeyFindingDto>, balances: Array<BalanceDto>, 
/**
 * The account's position mode, when the account could be read.
 */
positionMode: PositionModeDto | null, 
/**
 * The position mode the check offers to switch to (copy-rules §1.1: a hedge-mode
 * leader needs a hedge-mode follower, so a one-way account is offered hedge), if any.
 */
switchPositionMode: PositionModeDto | null, };

export type LeaderAddedDto = { check: KeyCheckDto, leaderId: string | null, };

export type FiguresDto = { days: number, roi: string | null, pnl: string | null, maxDrawdown: string | null, sharpe: string | null, sortino: string | null, winRate: string | null, trades: number, 
/**
 * Average hold time of the window's closed trades, in ms.
 */
avgHoldMs: number | null, 
/**
 * Average and largest effective leverage of the window's trades (docs/figures.md).
 */
avgLeverage: string | null, maxLeverage: string | null, tradesPerDay: string, 
/**
 * The most traded symbol and its share of the window's trades, percent.
 */
topSymbol: string | null, topSymbolShare: string | null, };

export type LeaderSourceDto = "demo" | "account" | "portfolio";

export type LeaderDto = { id: string, name: string, source: LeaderSourceDto, style: string | null, figures: Array<FiguresDto>, copyable: boolean, notCopyableReason: string | null, 
/**
 * E.g. `~2 ms, stream`.
 */
expectedDelay: string, equity: string | null, 
/**
 * The leader's history is still being read: its figures follow (list it again).
 */
figuresPending: boolean, 
/**
 * For a public portfolio: how its poll interval (the copy delay) is set, e.g. "polled
 * every 4.1 s: about 20 requests a minute per address, shared by every public leader
 * followed". Absent for streamed leaders.
 */
delayNote?: string, };

export type PortfolioSourceDto = "binance" | "custom";

export type FindPortfolioRequest = { source: PortfolioSourceDto, 
/**
 * Required for `custom`: the base URL.
 */
endpoint: string | null, 
/**
 * The portfolio id (digits), or its page's address ending in `/lead-details/<id>`.
 */
portfolio: string, };

export type EquityPointDto = { tsMs: number, value: string, };

export type LeaderPositionDto = { symbol: string, side: string, qty: string, entryPrice: string | null, leverage: number, marginMode: string, };

export type LeaderDetailDto = { leader: LeaderDto, equityCurve: Array<EquityPointDto>, positions: Array<LeaderPositionDto>, };

export type CopyModeDto = "smart-sync" | "fixed-amount" | "fixed-ratio";

export type PresetDto = "none" | "strict-mirror";

export type StopActionDto = "close-all" | "keep";

export type SlippageActionDto = "skip" | "ioc-limit";

export type StartActionsDto = { cleanSlate: boolean, resetFigures: boolean, singleAssetMode: boolean, };

export type StopLossKind = "percent" | "amount";

export type TotalStopLossDto = { kind: StopLossKind, value: string, };

export type RiskDto = { maxLeverage: number, allowedQuoteAssets: Array<string>, symbolAllowlist: Array<string>, symbolBlocklist: Array<string>, maxPositionNotional: string | null, maxSlippagePct: string | null, slippageAction: SlippageActionDto, maxSignalAgeSecs: number, totalStopLoss: TotalStopLossDto | null, takeProfitTotal: string | null, stopAction: StopActionDto, offlineProtection: boolean, closeIndependentTrades: boolean, maxFollowerAccountValue: string | null, };

export type CopySettingsDto = { mode: CopyModeDto, investment: string | null, amountPerOrder: string | null, ratio: string | null, copyOngoingPositions: boolean, preset: PresetDto, start: StartActionsDto, risk: RiskDto, 
/**
 * The profit-share ratio to start the copy with (copy-rules §7), optional: above 0
 * and at most 0.3; absent or empty: off. Checked with the settings (its field is
 * `profitShareRatio`) and stored beside them by `create_copy`; a copy's settings as
 * read back leave it out (its ratio is `profit_share`'s, changed by
 * `profit_share_set`).
 */
profitShareRatio?: string, };

export type PreviewRequest = { leader: string, follower: string, settings: CopySettingsDto, };

export type LastOpenDto = { symbol: string, qty: string, price: string, leverage: number, 
/**
 * Margin of the open as a percentage of the leader's equity.
 */
marginPct: string | null, };

export type PreviewDto = { lastOpen: LastOpenDto | null, followerQty: string | null, sentence: string, consideredOpens: number, skippedBelowMin: number, 
/**
 * The follower's open positions now (for start-action sentences), when it could be read.
 */
followerOpenPositions: number | null, 
/**
 * The follower's open orders now, conditional ones included, when it could be read.
 */
followerOpenOrders: number | null, };

export type NewCopyRequest = { name: string, 
/**
 * A leader id from `leaders()`.
 */
leader: string, 
/**
 * The follower account's name.
 */
follower: string, settings: CopySettingsDto, };

export type ModifyRequest = { settings: CopySettingsDto, };

export type CopyStateDto = "running" | "paused" | "held" | "stopping" | "stopped";

export type HoldKind = "unreadable_state" | "leader_unreadable" | "journal_write" | "unprotected" | "rate_limit" | "stopping";

export type HoldDto = { kind: HoldKind, reason: string, };

export type CopyDto = { name: string, leader: string, follower: string, paper: boolean, settings: CopySettingsDto, state: CopyStateDto, reason: string | null, holds: Array<HoldDto>, t0Ms: number | null, };

export type PositionDto = { symbol: string, side: string, leaderQty: string, followerQty: string, 
/**
 * Follower quantity per leader quantity (`k`).
 */
ratio: string, entryPrice: string | null, margin: string, leverage: number, stopPrice: string | null, stopConfirmed: boolean, drift: string | null, };

export type CopyFiguresDto = { realizedPnl: string | null, unrealizedPnl: string | null, fees: string | null, funding: string | null, roi: string | null, maxDrawdown: string | null, };

export type DecisionDto = { tsMs: number, 
/**
 * The engine's action (`place-order`, `set-leverage`, `place-protective-stop`, …), or
 * `skip` for a leader change the engine did not copy (its reason in `notice`).
 */
kind: string, symbol: string | null, reason: string, 
/**
 * The engine's typed reason for a `skip` or a `notice`, else `null`.
 */
notice: NoticeKind | null, };

export type FillDto = { tsMs: number, symbol: string, side: string, qty: string, price: string, delayMs: number | null, slippagePct: string | null, };

export type CopyStatusDto = { copy: CopyDto, figures: CopyFiguresDto, positions: Array<PositionDto>, decisions: Array<DecisionDto>, fills: Array<FillDto>, ordersJournaled: number, 
/**
 * Where the time went for the copy's recent orders; `null` before the first.
 */
latency: LatencyDto | null, 
/**
 * How many decimals the follower venue's symbols carry (empty when no engine has
 * read the venue's rules, e.g. a read-only status: show the strings as they are).
 */
precision: Array<SymbolPrecisionDto>, 
/**
 * Orders whose outcome is unknown (the venue's answer was lost and a lookup has not
 * found them yet); the engine looks each up at every reconciliation until resolved.
 */
unknownOrders: Array<UnknownOrderDto>, };

export type LatencyDto = { orders: number, 
/**
 * Leader event read → order handed to the venue's HTTP client, in µs.
 */
engineP50Us: number, engineMaxUs: number, 
/**
 * Leader fill → follower fill on the venue's clock, in ms.
 */
fillDelayP50Ms: number | null, fillDelayMaxMs: number | null, };

export type UnknownOrderDto = { clientOrderId: string, symbol: string, 
/**
 * `buy` or `sell`.
 */
side: string, qty: string, 
/**
 * When its outcome became unknown (local ms).
 */
sinceMs: number, };

export type WeightDto = { venue: string, used: number, limit: number, 
/**
 * Requests of the copies the budget made wait since the engine started, and the
 * longest of those waits (a wait over a second is also a notification).
 */
waits: number, longestWaitMs: number, };

export type StatusDto = { copies: Array<CopyStatusDto>, recent: Array<EventDto>, weight: Array<WeightDto>, };

export type EventLevel = "info" | "warning" | "error";

export type EventKind = "started" | "watching" | "fill" | "skip" | "rejected" | "paused" | "resumed" | "held" | "released" | "stopping" | "stopped" | "disconnected" | "reconnected" | "reconciled" | "unprotected" | "protected" | "funding" | "weight_wait" | "error" | "notice" | "leader_figures";

export type NoticeKind = "copy-paused" | "copy-stopped" | "before-start" | "out-of-order" | "too-old" | "slippage" | "quote-not-allowed" | "symbol-filtered" | "held-by-other-copy" | "margin-asset-missing" | "multi-assets-with-isolated" | "position-mode-mismatch" | "no-leader-equity" | "below-minimum" | "pending" | "insufficient-funds" | "amount-above-account-value" | "position-capped" | "not-copied" | "margin-mode-deferred" | "margin-sync-skipped" | "closed-outside" | "lost-open" | "doubtful-snapshot" | "leader-flat-unconfirmed" | "missing-market-data" | "stop-loss" | "take-profit" | "setup-failed" | "key-unverified" | "wrong-margin-mode" | "leader-rate-limited" | "leader-geo-blocked" | "leader-hidden" | "leader-format-changed" | "leader-read-failed" | "missed-in-interval" | "leader-baseline" | "already-reconciled";

export type StopCause = "stop-loss" | "take-profit" | "panic" | "user";

export type StreamRole = "leader" | "follower";

export type EventDetail = { "type": "fill", symbol: string, side: "buy" | "sell", qty: string, price: string, } | { "type": "stop", cause: StopCause, } | { "type": "hold", kind: HoldKind, } | { "type": "keyProblem" } | { "type": "stream", stream: StreamRole, };

export type UnguardedDto = { copy: string, symbol: string, side: string, qty: string, why: string, };

export type EventDto = { tsMs: number, copy: string | null, level: EventLevel, kind: EventKind, 
/**
 * The engine's reason for a `skip` or a `notice` (e.g. `held-by-other-copy`), else
 * `null`.
 */
notice: NoticeKind | null, message: string, 
/**
 * Typed facts of a fill (symbol, side, quantity, price) or a stop (its cause);
 * absent for the other kinds.
 */
detail?: EventDetail, };

export type ExportDto = { dir: string, files: Array<string>, copies: number, fills: number, figures: number, };

export type AdoptedDto = { symbol: string, side: string, direction: string, qty: string, journalQty: string, venueQty: string, leaderQty: string, k: string, 
/**
 * Trigger price of the protective stop of ours adopted with it, if one rests there.
 */
stopPrice: string | null, };

export type LeftAloneDto = { symbol: string, side: string, why: string, };

export type RepairDto = { copy: string, 
/**
 * Why the stored ledger could not be used (`None`: it read fine).
 */
storedError: string | null, adopt: Array<AdoptedDto>, left: Array<LeftAloneDto>, applied: boolean, };

export type SymbolPrecisionDto = { symbol: string, priceDp: number, qtyDp: number, };

export type CopyPnlDto = { copy: string, points: Array<EquityPointDto>, };

export type CopyActivityDto = { copy: string, decisions: Array<DecisionDto>, fills: Array<FillDto>, };

export type StatementKindDto = "weekly" | "stop";

export type StatementOutcomeDto = "settled" | "nothing" | "postponed";

export type StatementDto = { kind: StatementKindDto, periodStartMs: number, periodEndMs: number, ratio: string, realizedPnl: string, fees: string, funding: string, unrealizedPnl: string, 
/**
 * realized − fees + funding + unrealized: what the ratio applies to.
 */
pnl: string, alreadyPaid: string, owed: string, outcome: StatementOutcomeDto, 
/**
 * The formula with its numbers, and the cause when postponed.
 */
text: string, computedAtMs: number, 
/**
 * Drawn up after its period ended because no engine ran then (caught up at an open).
 */
caughtUp: boolean, };

export type ProfitShareDto = { copy: string, 
/**
 * `null`: profit share is off for this copy.
 */
ratio: string | null, 
/**
 * The next weekly settlement while the ratio is on and the copy not stopped.
 */
nextSettlementMs: number | null, 
/**
 * Sum of the settled statements.
 */
totalPaid: string, statements: Array<StatementDto>, };
