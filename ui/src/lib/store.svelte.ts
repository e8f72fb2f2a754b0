// The one store of the app: every piece of server state the screens show, fed by the backend
// (on start and after each action) and by the `copydesk://event` stream (which triggers a
// status refresh: no polling loop). Components read it and call its actions; none fetches
// on its own.
import { untrack } from "svelte";
import type { Backend, EngineState } from "./ipc";
import { toApiError } from "./ipc";
import { isLive } from "./mode";
import type {
  AccountDto,
  ApiError,
  AppInfo,
  CopyDto,
  CopySettingsDto,
  EventDto,
  KeyCheckDto,
  LeaderAddedDto,
  PositionModeDto,
  LeaderDetailDto,
  LeaderDto,
  NewAccountRequest,
  NewCopyRequest,
  PreviewDto,
  PreviewRequest,
  StatusDto,
  StopActionDto,
} from "./types";
import type { CopyActivityDto, CopyPnlDto, CopyStatusDto, ExportDto, ModifyRequest } from "./types";
import type { FindPortfolioRequest } from "./types";

export type View = "copies" | "leaders" | "accounts" | "activity" | "settings" | "wizard";

const MAX_EVENTS = 200;
/** How many of each copy's newest decisions and fills the activity lists first; "load
 * more" asks for this many more each time. */
export const ACTIVITY_PAGE = 500;

export class AppStore {
  readonly backend: Backend;
  info = $state<AppInfo | null>(null);
  /** Why the app could not start (e.g. another engine holds the data directory). */
  startError = $state<ApiError | null>(null);
  /** The shell's engine slot: read-only while another engine holds the data directory. */
  engine = $state<EngineState | null>(null);
  accounts = $state<AccountDto[]>([]);
  /** The accounts have been read at least once (`accounts` is the core's list). */
  accountsRead = $state(false);
  leaders = $state<LeaderDto[] | null>(null);
  leadersError = $state<ApiError | null>(null);
  leaderDetails = $state<Record<string, LeaderDetailDto>>({});
  leaderDetailErrors = $state<Record<string, ApiError>>({});
  keyChecks = $state<Record<string, KeyCheckDto>>({});
  status = $state<StatusDto | null>(null);
  statusError = $state<ApiError | null>(null);
  events = $state<EventDto[]>([]);
  lastEventMs = $state<number | null>(null);
  view = $state<View>("copies");
  /** The most recent action failure not tied to a field (shown where the action was). */
  actionError = $state<ApiError | null>(null);
  /** The copy whose detail is open on the Copies screen, if any. */
  selected = $state<string | null>(null);
  /** Each copy's PnL series (loaded when its chart is shown, re-read on events). */
  pnl = $state<Record<string, CopyPnlDto>>({});
  /** Decisions and fills of every copy (loaded by the Activity screen and copy details). */
  activity = $state<CopyActivityDto[] | null>(null);
  activityError = $state<ApiError | null>(null);
  /** How many newest decisions and fills per copy the activity asks for (paged). */
  activityLimit = $state(ACTIVITY_PAGE);
  /** When the status was last read (local ms), for "updated N s ago". */
  statusAtMs = $state<number | null>(null);
  /** What the last export wrote. */
  exported = $state<ExportDto | null>(null);
  /** The failure of the last position close or unlink, with the row it was about. */
  positionError = $state<{ key: string; error: ApiError } | null>(null);

  #refreshing: Promise<void> | null = null;
  #dirty = false;
  #unlisten: (() => void) | null = null;

  constructor(backend: Backend) {
    this.backend = backend;
  }

  /** Loads what every screen needs and subscribes to the event stream. */
  async start(): Promise<void> {
    try {
      this.#unlisten = await this.backend.onEvent((e) => this.onEvent(e));
    } catch (e) {
      this.startError = toApiError(e);
    }
    try {
      this.engine = await this.backend.engineState();
      if (this.engine.mode === "failed") {
        this.startError = { code: "internal", message: this.engine.message ?? "The engine did not start.", field: null };
        return;
      }
      this.info = await this.backend.appInfo();
    } catch (e) {
      this.startError = toApiError(e);
      return;
    }
    // Read-only: only the status can be read (from the other engine's stored data).
    if (this.readOnly) {
      await this.refreshStatus();
      return;
    }
    await Promise.all([this.refreshAccounts(), this.refreshLeaders(), this.refreshStatus()]);
  }

  stop(): void {
    this.#unlisten?.();
    this.#unlisten = null;
  }

  onEvent(e: EventDto): void {
    // A leader's figures were read in the core (or could not be): list the leaders again
    // (an open detail waited for the same read). Not about a copy: the status stays.
    if (e.kind === "leader_figures") {
      if (this.leaders !== null) void this.#reread("leaders", () => this.refreshLeaders());
      return;
    }
    this.events = [e, ...this.events].slice(0, MAX_EVENTS);
    this.lastEventMs = e.tsMs;
    void this.refreshStatus();
    // What is on screen besides the status follows the same event (no polling).
    if (this.activity !== null) void this.#reread("activity", () => this.loadActivity());
    // Only the PnL series of the copy the event is about (all of them for an event about
    // none): five open sparklines are not five reads per fill of one copy.
    for (const name of Object.keys(this.pnl)) {
      if (e.copy === null || e.copy === name) void this.#reread(`pnl:${name}`, () => this.loadPnl(name));
    }
  }

  #inFlight = new Map<string, Promise<void>>();
  #again = new Set<string>();

  /** Runs `read` now, or once more after the read in flight for `key` ends (coalesced). */
  #reread(key: string, read: () => Promise<void>): Promise<void> {
    const running = this.#inFlight.get(key);
    if (running) {
      this.#again.add(key);
      return running;
    }
    const p = (async () => {
      do {
        this.#again.delete(key);
        await read();
      } while (this.#again.has(key));
    })().finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, p);
    return p;
  }

  /** Re-reads the status; calls that arrive during a read coalesce into one more read. */
  refreshStatus(): Promise<void> {
    if (this.#refreshing) {
      this.#dirty = true;
      return this.#refreshing;
    }
    this.#refreshing = (async () => {
      do {
        this.#dirty = false;
        try {
          const s = await this.backend.status();
          this.status = s;
          this.statusAtMs = Date.now();
          this.statusError = null;
          if (this.events.length === 0 && s.recent.length > 0) {
            this.events = [...s.recent].sort((a, b) => b.tsMs - a.tsMs).slice(0, MAX_EVENTS);
            this.lastEventMs = this.events[0].tsMs;
          }
        } catch (e) {
          this.statusError = toApiError(e);
        }
      } while (this.#dirty);
    })().finally(() => (this.#refreshing = null));
    return this.#refreshing;
  }

  /** Reads a copy's PnL series for its chart. */
  async loadPnl(name: string): Promise<void> {
    try {
      const p = await this.backend.copyPnl(name);
      this.pnl = { ...this.pnl, [name]: p };
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  /** Reads every copy's decisions and fills for the Activity screen. */
  async loadActivity(): Promise<void> {
    try {
      // Untracked: a screen's effect that reads the activity must not read it again when
      // "load more" changes the page size (that re-read is `loadMoreActivity`'s).
      this.activity = await this.backend.activity(null, untrack(() => this.activityLimit));
      this.activityError = null;
    } catch (e) {
      this.activityError = toApiError(e);
    }
  }

  /** Some copy has more (older) decisions or fills than the activity holds now. */
  get activityHasMore(): boolean {
    return (this.activity ?? []).some((a) => a.decisions.length >= this.activityLimit || a.fills.length >= this.activityLimit);
  }

  /** Asks for the next page of older decisions and fills. */
  loadMoreActivity(): Promise<void> {
    this.activityLimit += ACTIVITY_PAGE;
    return this.#reread("activity", () => this.loadActivity());
  }

  /** When a copy was last heard of: its newest event, else the last status read. */
  updatedAt(name: string): number | null {
    const e = this.events.find((x) => x.copy === name);
    return e ? e.tsMs : this.statusAtMs;
  }

  /** Reads the PnL series of every copy not read yet (the cards' sparklines); the event
   * stream keeps them current like an open chart's. */
  loadSparklines(): void {
    for (const c of this.status?.copies ?? []) {
      const name = c.copy.name;
      if (!(name in this.pnl)) void this.#reread(`pnl:${name}`, () => this.loadPnl(name));
    }
  }

  /** Exports copies, fills and figures; the result (where the files went) is kept. */
  async exportData(): Promise<void> {
    this.actionError = null;
    try {
      this.exported = await this.backend.exportData();
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  /** New amounts for a copy: null when the core took them, else its complaint (with the
   * field it names, e.g. `settings.investment`). */
  async modifyCopy(name: string, req: ModifyRequest): Promise<ApiError | null> {
    try {
      await this.backend.modify(name, req);
    } catch (e) {
      return toApiError(e);
    }
    await this.refreshStatus();
    return null;
  }

  /** Closes or unlinks one position of a copy; a failure is kept with the row's key. */
  async positionAction(copy: string, symbol: string, side: string, how: "close" | "unlink"): Promise<void> {
    this.positionError = null;
    try {
      if (how === "close") await this.backend.closePosition(copy, symbol, side);
      else await this.backend.unlinkPosition(copy, symbol, side);
    } catch (e) {
      this.positionError = { key: `${copy}/${symbol}/${side}`, error: toApiError(e) };
    }
    await this.refreshStatus();
  }

  /** A copy's status by name. */
  copyStatus(name: string): CopyStatusDto | undefined {
    return this.status?.copies.find((c) => c.copy.name === name);
  }

  /** Decimals of a symbol's prices and quantities on a copy's follower venue, when known. */
  precisionOf(name: string, symbol: string): { priceDp: number | null; qtyDp: number | null } {
    for (const c of this.status?.copies ?? []) {
      if (c.copy.name !== name) continue;
      const p = c.precision.find((x) => x.symbol === symbol);
      if (p) return { priceDp: p.priceDp, qtyDp: p.qtyDp };
    }
    return { priceDp: null, qtyDp: null };
  }

  /** Resolves once no status read is in flight (for tests and for actions that must see
   * the effect of an event). */
  idle(): Promise<void> {
    return this.#refreshing ?? Promise.resolve();
  }

  async refreshAccounts(): Promise<void> {
    try {
      this.accounts = await this.backend.accounts();
      this.accountsRead = true;
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  async refreshLeaders(): Promise<void> {
    try {
      this.leaders = await this.backend.leaders();
      this.leadersError = null;
    } catch (e) {
      this.leadersError = toApiError(e);
    }
    // Figures still being read in the core (a history at low priority) arrive with the
    // core's `leader_figures` event, which lists again (onEvent): no polling.
  }

  async loadLeader(id: string): Promise<void> {
    try {
      const d = await this.backend.leader(id);
      this.leaderDetails = { ...this.leaderDetails, [id]: d };
      const { [id]: _gone, ...rest } = this.leaderDetailErrors;
      this.leaderDetailErrors = rest;
    } catch (e) {
      this.leaderDetailErrors = { ...this.leaderDetailErrors, [id]: toApiError(e) };
    }
  }

  /** Adds an account leader from its read-only key (checked first; the secret goes to the
   * keychain in the core and nowhere else). The leader list is re-read when it was added. */
  async addLeader(req: NewAccountRequest): Promise<LeaderAddedDto> {
    let r: LeaderAddedDto;
    try {
      r = await this.backend.addLeader(req);
    } catch (e) {
      throw toApiError(e);
    }
    if (r.leaderId) await Promise.all([this.refreshLeaders(), this.refreshAccounts()]);
    return r;
  }

  /** Reads a public lead portfolio the user typed in; the leader list is re-read, which
   * has it from then on (copyable or not, with the reason). */
  async findPortfolio(req: FindPortfolioRequest): Promise<LeaderDto> {
    let r: LeaderDto;
    try {
      r = await this.backend.findPortfolio(req);
    } catch (e) {
      throw toApiError(e);
    }
    await this.refreshLeaders();
    return r;
  }

  /** Adds an account (its secret goes to the keychain in the core and nowhere else). */
  async addAccount(req: NewAccountRequest): Promise<AccountDto> {
    try {
      const a = await this.backend.addAccount(req);
      await this.refreshAccounts();
      return a;
    } catch (e) {
      throw toApiError(e);
    }
  }

  async removeAccount(name: string): Promise<void> {
    try {
      await this.backend.removeAccount(name);
      const { [name]: _gone, ...rest } = this.keyChecks;
      this.keyChecks = rest;
      await this.refreshAccounts();
    } catch (e) {
      throw toApiError(e);
    }
  }

  async checkKey(name: string): Promise<KeyCheckDto> {
    try {
      const k = await this.backend.checkKey(name);
      this.keyChecks = { ...this.keyChecks, [name]: k };
      return k;
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** Switches an account's position mode, then checks its key again so the finding is fresh. */
  async setPositionMode(name: string, mode: PositionModeDto): Promise<KeyCheckDto> {
    try {
      await this.backend.setPositionMode(name, mode);
    } catch (e) {
      throw toApiError(e);
    }
    return this.checkKey(name);
  }

  /** Null when valid; otherwise the core's first complaint (with its field). */
  async validate(settings: CopySettingsDto): Promise<ApiError | null> {
    try {
      await this.backend.validateSettings(settings);
      return null;
    } catch (e) {
      return toApiError(e);
    }
  }

  async preview(req: PreviewRequest): Promise<PreviewDto> {
    try {
      return await this.backend.preview(req);
    } catch (e) {
      throw toApiError(e);
    }
  }

  async createCopy(req: NewCopyRequest): Promise<CopyDto> {
    try {
      const c = await this.backend.createCopy(req);
      await this.refreshStatus();
      this.view = "copies";
      return c;
    } catch (e) {
      throw toApiError(e);
    }
  }

  /** Runs a copy action (pause, resume, stop) and refreshes; a failure lands in `actionError`. */
  async copyAction(name: string, action: "pause" | "resume" | { stop: StopActionDto }): Promise<void> {
    this.actionError = null;
    try {
      if (action === "pause") await this.backend.pause(name);
      else if (action === "resume") await this.backend.resume(name);
      else await this.backend.stop(name, action.stop);
    } catch (e) {
      this.actionError = toApiError(e);
    }
    await this.refreshStatus();
  }

  async panic(): Promise<void> {
    this.actionError = null;
    try {
      await this.backend.panic();
    } catch (e) {
      this.actionError = toApiError(e);
    }
    await this.refreshStatus();
  }

  /** Opens paper mode (the embedded simulator) beside any live accounts. */
  async startPaper(): Promise<void> {
    this.actionError = null;
    try {
      const paper = await this.backend.startPaper();
      if (this.info) this.info = { ...this.info, paper };
      await Promise.all([this.refreshAccounts(), this.refreshLeaders()]);
    } catch (e) {
      this.actionError = toApiError(e);
    }
  }

  /** Another engine holds the data directory: this window only shows its status. */
  get readOnly(): boolean {
    return this.engine?.mode === "readOnly";
  }

  /** Some copy has started (has a t0): start at login starts to matter. */
  get anyCopyStarted(): boolean {
    return (this.status?.copies ?? []).some((c) => c.copy.t0Ms !== null);
  }

  /** The copies that have not stopped. */
  get liveCopies() {
    return (this.status?.copies ?? []).filter((c) => c.copy.state !== "stopped");
  }

  /** Paper is on screen unless real money is in play (lib/mode.ts): a copy that follows a
   * real account, or with no copy running, an account that can follow with real money
   * (an account that only leads cannot). */
  get isPaper(): boolean {
    if (this.info === null) return false;
    return !isLive({
      info: this.info,
      accounts: this.accountsRead ? this.accounts : null,
      leaders: this.leaders,
      copies: this.status?.copies ?? null,
    });
  }

  account(name: string): AccountDto | undefined {
    return this.accounts.find((a) => a.name === name);
  }
}
