// Generated from the Rust DTOs in `copydesk::api` by `src/api/ts_bindings.rs`.
// Do not edit: run `UPDATE_TS_BINDINGS=1 cargo test -p copydesk ts_bindings`.

export type ErrorCode = "invalid_input" | "not_found" | "conflict" | "exchange" | "keychain" | "storage" | "internal";

export type ApiError = { code: ErrorCode, message: string, };

export type AppInfo = { name: string, version: string, 
/**
 * `paper` until the user connects a real account.
 */
mode: string, dataDir: string, };

export type NotifyLevel = "info" | "warning" | "error";

export type NotifyKind = "started" | "watching" | "fill" | "skip" | "rejected" | "paused" | "resumed" | "held" | "released" | "stopping" | "stopped" | "disconnected" | "reconnected" | "reconciled" | "unprotected" | "protected" | "funding" | "weight_wait" | "error" | "notice";

export type NoticeKind = "copy-paused" | "copy-stopped" | "before-start" | "out-of-order" | "too-old" | "slippage" | "quote-not-allowed" | "symbol-filtered" | "held-by-other-copy" | "margin-asset-missing" | "multi-assets-with-isolated" | "position-mode-mismatch" | "no-leader-equity" | "below-minimum" | "pending" | "insufficient-funds" | "amount-above-account-value" | "position-capped" | "not-copied" | "margin-mode-deferred" | "margin-sync-skipped" | "closed-outside" | "lost-open" | "doubtful-snapshot" | "leader-flat-unconfirmed" | "missing-market-data" | "stop-loss" | "take-profit";

export type HoldKind = "unreadable_state" | "leader_unreadable" | "journal_write" | "unprotected" | "rate_limit";

export type Hold = { kind: HoldKind, reason: string, sinceMs: number, };

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

export type Notification = { 
/**
 * Local time, milliseconds since the Unix epoch (a safe JavaScript integer).
 */
ts_ms: number, 
/**
 * The copy it concerns, by name.
 */
copy: string | null, level: NotifyLevel, kind: NotifyKind, 
/**
 * The engine's reason, for a [`NotifyKind::Skip`] or [`NotifyKind::Notice`].
 */
notice: NoticeKind | null, message: string, };
