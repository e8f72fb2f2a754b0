// The only module that calls `invoke` or listens to Tauri events. Everything else receives a
// `Backend`, so component tests pass the mock (`./mock.ts`) and never touch Tauri.
import { invoke } from "@tauri-apps/api/core";
import { listen } from "@tauri-apps/api/event";
import type {
  AccountDto,
  ApiError,
  AppInfo,
  CopyDto,
  CopySettingsDto,
  EventDto,
  ExportDto,
  KeyCheckDto,
  LeaderAddedDto,
  PositionModeDto,
  LeaderDetailDto,
  LeaderDto,
  ModifyRequest,
  NewAccountRequest,
  NewCopyRequest,
  PaperDto,
  PreviewDto,
  PreviewRequest,
  ProfitShareDto,
  StatusDto,
  StopActionDto,
} from "./types";
import type { CopyActivityDto, CopyPnlDto } from "./types";
import type { FindPortfolioRequest } from "./types";

/** The shell's engine slot: `running` (this window runs the engine), `readOnly` (another
 * engine, e.g. `copydesk run`, holds the data directory: `message` names it) or `failed`
 * (the engine could not start: `message` says why). */
export type EngineState = { mode: "running" | "readOnly" | "failed"; message: string | null };

/** Every facade command the UI uses, one method each (FACADE.md, "Tauri commands"). */
export interface Backend {
  appInfo(): Promise<AppInfo>;
  accounts(): Promise<AccountDto[]>;
  addAccount(req: NewAccountRequest): Promise<AccountDto>;
  removeAccount(name: string): Promise<void>;
  checkKey(name: string): Promise<KeyCheckDto>;
  /** Switches an account's position mode; rejects with the venue's refusal and what to do. */
  setPositionMode(name: string, mode: PositionModeDto): Promise<PositionModeDto>;
  paperStatus(): Promise<PaperDto>;
  startPaper(): Promise<PaperDto>;
  leaders(): Promise<LeaderDto[]>;
  leader(id: string): Promise<LeaderDetailDto>;
  /** Adds an account leader from its read-only key: the key check, and the leader's id
   * when it passed (nothing is kept otherwise). The secret goes to the keychain only. */
  addLeader(req: NewAccountRequest): Promise<LeaderAddedDto>;
  /** Reads a public lead portfolio the user typed in (its id or page address) through its
   * source and lists it: the leader as the list shows it (copyable, or why not). Rejects
   * with the field to fix, or with the source's refusal (HTTP 429, a geo-blocked 403). */
  findPortfolio(req: FindPortfolioRequest): Promise<LeaderDto>;
  /** Resolves when the settings are valid; rejects with the first bad field's `ApiError`. */
  validateSettings(settings: CopySettingsDto): Promise<void>;
  preview(req: PreviewRequest): Promise<PreviewDto>;
  createCopy(req: NewCopyRequest): Promise<CopyDto>;
  pause(name: string): Promise<void>;
  resume(name: string): Promise<void>;
  stop(name: string, action: StopActionDto): Promise<void>;
  modify(name: string, req: ModifyRequest): Promise<void>;
  panic(): Promise<void>;
  status(): Promise<StatusDto>;
  exportData(): Promise<ExportDto>;
  /** Whether this window runs the engine, shows another engine's status read-only, or
   * could not start it (`engine_state`, the shell's own command). */
  engineState(): Promise<EngineState>;
  /** Whether CopyDesk starts at login (the Settings toggle, `StartAtLogin.svelte`). */
  autostartEnabled(): Promise<boolean>;
  /** Turns start at login on or off; resolves to the new state. */
  setAutostart(enabled: boolean): Promise<boolean>;
  /** Market-closes a copy's share of one position (`side`: long / short); the copy runs on. */
  closePosition(copy: string, symbol: string, side: string): Promise<void>;
  /** Stops managing one position and leaves it open as the user's own. */
  unlinkPosition(copy: string, symbol: string, side: string): Promise<void>;
  /** A copy's PnL over time, for its chart. */
  copyPnl(name: string): Promise<CopyPnlDto>;
  /** Decisions and fills of every copy (or one), newest first. */
  /** Each copy's newest `limit` decisions and fills (500 when not given). */
  activity(copy: string | null, limit?: number): Promise<CopyActivityDto[]>;
  /** A copy's profit-share ratio and statements (copy-rules §7), statements due by now
   * drawn up first. */
  profitShare(name: string): Promise<ProfitShareDto>;
  /** Sets a copy's profit-share ratio (`null` or empty: off); rejects with the message on
   * the `profitShareRatio` field. */
  setProfitShare(name: string, ratio: string | null): Promise<ProfitShareDto>;
  /** Calls `handler` for each engine event; resolves to a function that stops listening. */
  onEvent(handler: (event: EventDto) => void): Promise<() => void>;
}

const CODES = new Set([
  "invalid_input",
  "not_found",
  "conflict",
  "exchange",
  "keychain",
  "storage",
  "locked",
  "internal",
]);

/** Normalises whatever a command rejected with into an `ApiError`. Tauri's own failures
 * (an unknown command, arguments that do not deserialise) arrive as plain strings. */
export function toApiError(raw: unknown): ApiError {
  if (raw && typeof raw === "object" && "code" in raw && "message" in raw) {
    const r = raw as { code: unknown; message: unknown; field?: unknown };
    return {
      code: (CODES.has(String(r.code)) ? r.code : "internal") as ApiError["code"],
      message: String(r.message),
      field: typeof r.field === "string" && r.field !== "" ? r.field : null,
    };
  }
  const message = raw instanceof Error ? raw.message : String(raw);
  return { code: "internal", message, field: null };
}

/** Narrows a caught value that went through `call` (or the mock) back to `ApiError`. */
export function isApiError(e: unknown): e is ApiError {
  return !!e && typeof e === "object" && "code" in e && "message" in e && "field" in e;
}

/** The Tauri event that carries every `EventDto` (FACADE.md). */
export const EVENT_NAME = "copydesk://event";

type Invoke = (command: string, args?: Record<string, unknown>) => Promise<unknown>;
type Listen = (event: string, handler: (e: { payload: unknown }) => void) => Promise<() => void>;

/** A `Backend` over Tauri's `invoke`/`listen` (injectable, so the mapping of methods to
 * command names and argument names is tested without a window). */
export function tauriBackend(inv: Invoke = invoke, lis: Listen = listen): Backend {
  async function call<T>(command: string, args?: Record<string, unknown>): Promise<T> {
    try {
      return (await inv(command, args)) as T;
    } catch (raw) {
      throw toApiError(raw);
    }
  }
  return {
    appInfo: () => call("app_info"),
    accounts: () => call("accounts_list"),
    addAccount: (req) => call("account_add", { req }),
    removeAccount: (name) => call("account_remove", { name }),
    checkKey: (name) => call("key_check", { name }),
    setPositionMode: (name, mode) => call("account_set_position_mode", { name, mode }),
    paperStatus: () => call("paper_status"),
    startPaper: () => call("paper_start"),
    leaders: () => call("leaders_list"),
    leader: (id) => call("leader_detail", { id }),
    addLeader: (req) => call("leader_add", { req }),
    findPortfolio: (req) => call("portfolio_find", { req }),
    validateSettings: (settings) => call("settings_validate", { settings }),
    preview: (req) => call("sizing_preview", { req }),
    createCopy: (req) => call("copy_create", { req }),
    pause: (name) => call("copy_pause", { name }),
    resume: (name) => call("copy_resume", { name }),
    stop: (name, action) => call("copy_stop", { name, action }),
    modify: (name, req) => call("copy_modify", { name, req }),
    panic: () => call("panic"),
    status: () => call("status"),
    exportData: () => call("export"),
    engineState: () => call("engine_state"),
    autostartEnabled: () => call("autostart_enabled"),
    setAutostart: (enabled) => call("autostart_set", { enabled }),
    closePosition: (copy, symbol, side) => call("position_close", { copy, symbol, side }),
    unlinkPosition: (copy, symbol, side) => call("position_unlink", { copy, symbol, side }),
    copyPnl: (name) => call("copy_pnl", { name }),
    activity: (copy, limit) => call("activity", { copy, limit: limit ?? null }),
    profitShare: (name) => call("profit_share", { name }),
    setProfitShare: (name, ratio) => call("profit_share_set", { name, ratio }),
    onEvent: (handler) => lis(EVENT_NAME, (e) => handler(e.payload as EventDto)),
  };
}

/** The part of `Backend` the start-at-login toggle needs. */
export type AutostartBackend = Pick<Backend, "autostartEnabled" | "setAutostart">;

/** The part of `Backend` the profit-share section needs. */
export type ProfitShareBackend = Pick<Backend, "profitShare" | "setProfitShare">;
