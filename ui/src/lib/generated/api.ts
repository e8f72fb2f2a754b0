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

export type Notification = { 
/**
 * Local time, milliseconds since the Unix epoch (a safe JavaScript integer).
 */
ts_ms: number, 
/**
 * The copy it concerns, by name.
 */
copy: string | null, level: NotifyLevel, 
/**
 * A short machine-readable kind: `fill`, `skip`, `stopped`, `paused`, `disconnected`,
 * `error`, `started`, `reconciled`, or an engine notice kind.
 */
kind: string, message: string, };
