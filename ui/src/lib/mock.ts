// An in-memory `Backend` for component tests (and `vite dev` in a browser): paper mode with
// a funded paper account and three demo leaders. Its validation follows the core's rules
// closely enough to exercise the UI's error paths; the core remains the authority.
import type { Backend, EngineState } from "./ipc";
import type {
  AccountDto,
  ApiError,
  AppInfo,
  CopySettingsDto,
  CopyStatusDto,
  EquityPointDto,
  EventDto,
  FiguresDto,
  KeyCheckDto,
  LeaderAddedDto,
  PositionModeDto,
  LeaderDetailDto,
  LeaderDto,
  PaperDto,
  ProfitShareDto,
  StatusDto,
} from "./types";
import type { FindPortfolioRequest } from "./types";
import { compare, isDecimal } from "./decimal";

function err(message: string, field: string | null = null, code: ApiError["code"] = "invalid_input"): ApiError {
  return { code, message, field };
}

function figures(roi: [string, string, string], sharpe: [string, string, string]): FiguresDto[] {
  return ([7, 30, 90] as const).map((days, i) => ({
    days,
    roi: roi[i],
    pnl: String(Number(roi[i]) * 100),
    maxDrawdown: String(4 + i * 3),
    sharpe: sharpe[i],
    sortino: sharpe[i],
    winRate: String(50 + i * 5),
    trades: 10 * (i + 1),
    avgHoldMs: 3_600_000 * (i + 2),
    avgLeverage: "4.5",
    maxLeverage: "10",
    tradesPerDay: String((10 * (i + 1)) / days),
    topSymbol: "BTCUSDT",
    topSymbolShare: "60",
  }));
}

export const DEMO_LEADERS: LeaderDto[] = [
  {
    id: "demo-steady",
    name: "Steady Trend",
    source: "demo",
    style: "trend, BTC and ETH",
    figures: figures(["2.1", "8.4", "21.0"], ["1.9", "2.4", "2.2"]),
    copyable: true,
    notCopyableReason: null,
    expectedDelay: "~2 ms, stream",
    equity: "10000",
    figuresPending: false,
  },
  {
    id: "demo-scalper",
    name: "Fast Scalper",
    source: "demo",
    style: "scalping, altcoins",
    figures: figures(["5.5", "12.0", "-4.0"], ["0.8", "1.1", "-0.3"]),
    copyable: true,
    notCopyableReason: null,
    expectedDelay: "~2 ms, stream",
    equity: "5000",
    figuresPending: false,
  },
  {
    id: "pf-hidden",
    name: "Hidden Book",
    source: "portfolio",
    style: null,
    figures: figures(["9.0", "30.0", "55.0"], ["3.1", "3.0", "2.9"]),
    copyable: false,
    notCopyableReason: "positions hidden by the leader",
    expectedDelay: "~3 s, polled",
    equity: null,
    figuresPending: false,
  },
];

export type MockOptions = {
  /** Accounts besides the paper one. */
  accounts?: AccountDto[];
  /** Key check answer per account name. */
  keyChecks?: Record<string, KeyCheckDto>;
  /** Copies already running. */
  copies?: CopyStatusDto[];
  paperBalance?: string;
  mode?: "paper" | "live";
  /** What the follower holds now, as the preview reports it. */
  followerOpen?: { positions: number; orders: number };
  /** Whether the paper simulator runs at start (default yes). */
  paperRunning?: boolean;
  /** The shell's engine slot (default: running). */
  engine?: EngineState;
  /** How many leader listings answer with every leader's figures still being read. */
  pendingListings?: number;
  /** Whether start at login is on at start (default off). */
  autostart?: boolean;
  /** PnL points per copy name, for its chart. */
  pnl?: Record<string, EquityPointDto[]>;
  /** Profit share per copy name (ratio and stored statements). */
  profitShare?: Record<string, ProfitShareDto>;
  /** Leaders listed after the demo ones (e.g. a public portfolio, `PAPER_PORTFOLIO`). */
  extraLeaders?: LeaderDto[];
};

/** A copyable public lead portfolio of paper mode, as the core lists one. */
export const PAPER_PORTFOLIO: LeaderDto = {
  id: "portfolio:paper:3800000000000000002",
  name: "Demo swing #2 (public portfolio)",
  source: "portfolio",
  style: null,
  figures: figures(["1.2", "6.0", "14.0"], ["1.4", "1.6", "1.5"]),
  copyable: true,
  notCopyableReason: null,
  expectedDelay: "~4 s, polled",
  equity: "12000",
  figuresPending: false,
  delayNote:
    "polled every 4.1 s: about 20 requests a minute per address, shared by the 1 public leader(s) followed with this one; the interval grows as you follow more and backs off after a refusal (HTTP 429). An account leader's stream takes milliseconds.",
};

/** Public portfolios on Binance's copy-trading pages the mock's `findPortfolio` knows: one
 * copyable, one that hides its positions (by portfolio id). */
export const BINANCE_PORTFOLIOS: Record<string, { nickname: string; hidden: boolean }> = {
  "4012345678901234567": { nickname: "Whale Desk", hidden: false },
  "4000000000000000001": { nickname: "Quiet Book", hidden: true },
};

/** The portfolio id in what the user typed (the core's rule: an id, or a page address
 * ending in `/lead-details/<id>`), or the field error the core gives. */
function typedPortfolio(typed: string): string {
  const t = typed.trim();
  const where = "it is the number at the end of the portfolio's page address, as in …/copy-trading/lead-details/4012345678901234567";
  if (t === "") throw err(`type the portfolio's id or paste its page address; ${where}`, "portfolio");
  if (t.includes("/")) {
    const m = /lead-details\/(\d+)/.exec(t);
    if (!m) throw err(`this address is not a lead portfolio's page; paste the address of the portfolio's page or type its id: ${where}`, "portfolio");
    return m[1];
  }
  const bad = [...t].find((c) => c < "0" || c > "9");
  if (bad !== undefined) throw err(`a portfolio id is digits only (\`${bad}\` is not); ${where}`, "portfolio");
  return t;
}

/** A mock backend plus handles a test uses to see what was called and to push events. */
export type MockBackend = Backend & {
  calls: { method: string; args: unknown[] }[];
  emit(event: EventDto): void;
  /** Makes the next call of `method` reject with `error`. */
  failNext(method: keyof Backend, error: ApiError): void;
};

export const PAPER_ACCOUNT = "paper";

export function passingKeyCheck(account: string, balance = "10000"): KeyCheckDto {
  return {
    account,
    ok: true,
    findings: [
      { check: "valid", status: "pass", message: "The key is valid.", fix: null },
      { check: "futures", status: "pass", message: "Futures trading is enabled.", fix: null },
      { check: "trade", status: "pass", message: "The key can trade.", fix: null },
      { check: "withdrawals", status: "pass", message: "Withdrawals are disabled.", fix: null },
      {
        check: "ipRestriction",
        status: "warn",
        message: "The key works from any IP address.",
        fix: "Restrict it to this machine's IP address on the API-management page.",
      },
      { check: "positionMode", status: "pass", message: "One-way position mode.", fix: null },
    ],
    balances: [{ asset: "USDT", wallet: balance, available: balance }],
    positionMode: "one-way",
    switchPositionMode: null,
  };
}

/** The mock's leader key check: a key containing "withdraw" can withdraw (refused), one
 * containing "trade" can trade (a warning), any other is read-only. */
export function leaderKeyCheck(account: string, apiKey: string, balance = "5000"): KeyCheckDto {
  const withdraw = apiKey.includes("withdraw");
  const trade = apiKey.includes("trade");
  return {
    account,
    ok: !withdraw,
    findings: [
      { check: "valid", status: "pass", message: "the exchange accepts the key", fix: null },
      trade
        ? {
            check: "trade",
            status: "warn",
            message: "the key can trade; a read-only key is enough to follow a leader",
            fix: "on the exchange's API management page, untick “Enable Futures” and spot trading for this key, or create a key with only “Enable Reading”",
          }
        : { check: "trade", status: "pass", message: "the key is read-only", fix: null },
      withdraw
        ? {
            check: "withdrawals",
            status: "fail",
            message: "the key can withdraw funds; CopyDesk only reads a leader's account, and a key that can withdraw must not be kept on this computer",
            fix: "edit the key on the exchange and untick “Enable Withdrawals” (and trading), or create a read-only key",
          }
        : { check: "withdrawals", status: "pass", message: "withdrawals are off", fix: null },
      { check: "ipRestriction", status: "pass", message: "the key is restricted to trusted IPs", fix: null },
      { check: "balances", status: "pass", message: "futures equity 5,000 USDT, 5,000 USDT available", fix: null },
    ],
    balances: [{ asset: "USDT", wallet: balance, available: balance }],
    positionMode: "one-way",
    switchPositionMode: null,
  };
}

export function createMockBackend(opts: MockOptions = {}): MockBackend {
  const balance = opts.paperBalance ?? "10000";
  const engine: EngineState = opts.engine ?? { mode: "running", message: null };
  let autostart = opts.autostart ?? false;
  const paper: PaperDto = { running: opts.paperRunning ?? true, endpoint: "http://127.0.0.1:40000", account: PAPER_ACCOUNT, balance };
  const accounts: AccountDto[] = [
    {
      name: PAPER_ACCOUNT,
      exchange: "binance-usdm",
      environment: "paper",
      endpoint: paper.endpoint,
      keyHint: null,
      paper: true,
      createdAtMs: 0,
    },
    ...(opts.accounts ?? []),
  ];
  const keyChecks: Record<string, KeyCheckDto> = {
    [PAPER_ACCOUNT]: passingKeyCheck(PAPER_ACCOUNT, balance),
    ...(opts.keyChecks ?? {}),
  };
  const copies: CopyStatusDto[] = [...(opts.copies ?? [])];
  const leaders: LeaderDto[] = structuredClone([...DEMO_LEADERS, ...(opts.extraLeaders ?? [])]);
  const shares: Record<string, ProfitShareDto> = structuredClone(opts.profitShare ?? {});
  const share = (name: string): ProfitShareDto => {
    if (!copies.some((c) => c.copy.name === name) && !shares[name])
      throw err(`No copy named ${name}.`, null, "not_found");
    shares[name] ??= { copy: name, ratio: null, nextSettlementMs: null, totalPaid: "0", statements: [] };
    return shares[name];
  };
  const listeners = new Set<(e: EventDto) => void>();
  const failures = new Map<string, ApiError>();
  const calls: { method: string; args: unknown[] }[] = [];

  async function track<T>(method: string, args: unknown[], body: () => T): Promise<T> {
    calls.push({ method, args });
    const f = failures.get(method);
    if (f) {
      failures.delete(method);
      throw f;
    }
    return body();
  }

  const info = (): AppInfo => ({
    name: "CopyDesk",
    version: "0.1.0",
    mode: opts.mode ?? "paper",
    dataDir: "/home/user/.local/share/copydesk",
    paper,
  });

  const validate = (s: CopySettingsDto) => {
    const money = (v: string | null, field: string, what: string) => {
      if (v === null || v.trim() === "") throw err(`Enter the ${what}.`, field);
      if (!isDecimal(v)) throw err(`The ${what} must be a number, like 1000.`, field);
      if ((v.split(".")[1] ?? "").length > 2) throw err(`The ${what} has too many decimals: at most 2.`, field);
      if (compare(v, "0")! <= 0) throw err(`The ${what} must be above zero.`, field);
    };
    if (s.mode === "smart-sync") {
      money(s.investment, "investment", "investment");
      if (compare(s.investment, "100")! < 0) throw err("At least 100 USDT for Smart Sync.", "investment");
    } else if (s.mode === "fixed-amount") {
      money(s.amountPerOrder, "amountPerOrder", "amount per order");
    } else {
      if (!isDecimal(s.ratio) || compare(s.ratio, "0")! <= 0)
        throw err("The ratio must be a number above zero, like 0.1.", "ratio");
    }
    if (s.risk.maxLeverage < 1 || s.risk.maxLeverage > 125)
      throw err("Max leverage must be between 1 and 125.", "risk.maxLeverage");
    if (s.risk.totalStopLoss) {
      const v = s.risk.totalStopLoss.value;
      if (!isDecimal(v) || compare(v, "0")! <= 0)
        throw err("The total stop loss must be a number above zero.", "risk.totalStopLoss");
      if (s.risk.totalStopLoss.kind === "percent" && compare(v, "100")! > 0)
        throw err("A stop loss in percent is at most 100 %.", "risk.totalStopLoss");
    }
    if (s.risk.allowedQuoteAssets.length === 0)
      throw err("Allow at least one quote asset (USDT or USDC).", "risk.allowedQuoteAssets");
    const r = s.profitShareRatio?.trim() ?? "";
    if (r !== "" && !isDecimal(r))
      throw err(`\`${r}\` is not a ratio; write a decimal like "0.1" for 10 %, or leave it empty to turn profit share off`, "profitShareRatio");
    if (r !== "" && (compare(r, "0")! <= 0 || compare(r, "0.3")! > 0))
      throw err(`${r} is outside the allowed range; set a ratio above 0 and at most 0.3 (30 %), or leave it empty to turn profit share off`, "profitShareRatio");
  };

  const detail = (l: LeaderDto): LeaderDetailDto => ({
    leader: l,
    equityCurve: Array.from({ length: 30 }, (_, i) => ({
      tsMs: Date.UTC(2026, 9, 1) + i * 86_400_000,
      value: String(10000 + i * 25),
    })),
    positions: [
      { symbol: "BTCUSDT", side: "long", qty: "0.1", entryPrice: "50000", leverage: 5, marginMode: "isolated" },
    ],
  });

  const status = (): StatusDto => ({ copies: structuredClone(copies), recent: [], weight: [{ venue: "paper", used: 12, limit: 2400, waits: 0, longestWaitMs: 0 }] });

  const backend: MockBackend = {
    calls,
    emit: (e) => listeners.forEach((l) => l(e)),
    failNext: (method, error) => failures.set(method, error),
    appInfo: () => track("appInfo", [], info),
    accounts: () => track("accounts", [], () => structuredClone(accounts)),
    addAccount: (req) =>
      track("addAccount", [req], () => {
        if (req.name.trim() === "") throw err("Name the account, e.g. main.", "name");
        if (accounts.some((a) => a.name === req.name))
          throw err(`An account named ${req.name} exists already.`, "name", "conflict");
        if (req.apiKey.trim() === "") throw err("Paste the API key.", "apiKey");
        if (req.apiSecret.trim() === "") throw err("Paste the API secret.", "apiSecret");
        if (req.environment === "custom" && !req.endpoint) throw err("Enter the endpoint URL.", "endpoint");
        const a: AccountDto = {
          name: req.name,
          exchange: req.exchange,
          environment: req.environment,
          endpoint: req.endpoint,
          keyHint: `…${req.apiKey.slice(-4)}`,
          paper: false,
          createdAtMs: 1,
        };
        accounts.push(a);
        return a;
      }),
    removeAccount: (name) =>
      track("removeAccount", [name], () => {
        const i = accounts.findIndex((a) => a.name === name);
        if (i < 0) throw err(`No account named ${name}.`, null, "not_found");
        accounts.splice(i, 1);
      }),
    checkKey: (name) =>
      track("checkKey", [name], () => {
        const k = keyChecks[name];
        return k ? structuredClone(k) : passingKeyCheck(name);
      }),
    setPositionMode: (name, mode: PositionModeDto) =>
      track("setPositionMode", [name, mode], () => {
        const k = keyChecks[name] ?? passingKeyCheck(name);
        keyChecks[name] = {
          ...k,
          positionMode: mode,
          switchPositionMode: null,
          findings: k.findings.map((f) =>
            f.check === "positionMode" ? { ...f, status: "pass" as const, message: `position mode ${mode}: fits every leader`, fix: null } : f,
          ),
        };
        return mode;
      }),
    paperStatus: () => track("paperStatus", [], () => ({ ...paper })),
    startPaper: () =>
      track("startPaper", [], () => {
        paper.running = true;
        return { ...paper };
      }),
    leaders: () =>
      track("leaders", [], () => {
        if ((opts.pendingListings ?? 0) > 0) {
          opts.pendingListings! -= 1;
          return leaders.map((l) => ({ ...structuredClone(l), figures: [], equity: null, figuresPending: true }));
        }
        return structuredClone(leaders);
      }),
    leader: (id) =>
      track("leader", [id], () => {
        const l = leaders.find((x) => x.id === id);
        if (!l) throw err(`No leader ${id}.`, null, "not_found");
        return detail(structuredClone(l));
      }),
    findPortfolio: (req: FindPortfolioRequest) =>
      track("findPortfolio", [req], (): LeaderDto => {
        const endpoint = req.source === "binance" ? "binance" : (req.endpoint ?? "").trim();
        if (endpoint === "") throw err("a custom source needs its address; type the source's base URL, e.g. http://127.0.0.1:8900", "endpoint");
        const pid = typedPortfolio(req.portfolio);
        const known = req.source === "binance" ? BINANCE_PORTFOLIOS[pid] : undefined;
        if (!known)
          throw err(
            `Binance's copy-trading pages know no public portfolio ${pid} (code 000002: portfolio not found); check the id: it is the number at the end of the portfolio's page address`,
            "portfolio",
            "not_found",
          );
        const id = `portfolio:${endpoint}:${pid}`;
        const found: LeaderDto = {
          id,
          name: `${known.nickname} (public portfolio)`,
          source: "portfolio",
          style: null,
          figures: figures(["2.0", "8.0", "20.0"], ["1.1", "1.3", "1.2"]).filter((f) => f.days === 30),
          copyable: !known.hidden,
          notCopyableReason: known.hidden ? "this portfolio hides its positions, so they cannot be copied" : null,
          expectedDelay: "~4 s, polled",
          equity: "25000",
          figuresPending: false,
          delayNote:
            "polled every 4.1 s: about 20 requests a minute per address, shared by the 1 public leader(s) followed with this one; the interval grows as you follow more and backs off after a refusal (HTTP 429). An account leader's stream takes milliseconds.",
        };
        const at = leaders.findIndex((l) => l.id === id);
        if (at >= 0) leaders[at] = found;
        else leaders.push(found);
        return structuredClone(found);
      }),
    addLeader: (req) =>
      track("addLeader", [{ ...req, apiSecret: "(hidden)" }], (): LeaderAddedDto => {
        if (req.name.trim() === "") throw err("Name the leader, e.g. fund-main.", "name");
        if (accounts.some((a) => a.name === req.name) || leaders.some((l) => l.id === req.name))
          throw err(`an account or leader named \`${req.name}\` exists; choose another name`, "name", "conflict");
        if (req.environment === "custom" && !req.endpoint)
          throw err("a custom environment needs its base URL, like http://127.0.0.1:8790", "endpoint");
        if (req.apiKey.trim() === "") throw err("api key is empty", "apiKey");
        if (req.apiSecret.trim() === "") throw err("api secret is empty", "apiSecret");
        const check = leaderKeyCheck(req.name, req.apiKey);
        if (!check.ok) return { check, leaderId: null };
        leaders.push({
          id: req.name,
          name: req.name,
          source: "account",
          style: null,
          figures: figures(["1.0", "4.0", "9.0"], ["1.2", "-0.4", "1.5"]),
          copyable: true,
          notCopyableReason: null,
          expectedDelay: "~2 ms, stream",
          equity: "5000",
          figuresPending: false,
        });
        accounts.push({
          name: req.name,
          exchange: req.exchange,
          environment: req.environment,
          endpoint: req.endpoint,
          keyHint: `…${req.apiKey.slice(-4)}`,
          paper: false,
          createdAtMs: 1,
        });
        return { check, leaderId: req.name };
      }),
    validateSettings: (settings) => track("validateSettings", [settings], () => validate(settings)),
    preview: (req) =>
      track("preview", [req], () => {
        validate(req.settings);
        const inv = req.settings.investment ?? "0";
        return {
          lastOpen: { symbol: "BTCUSDT", qty: "0.1", price: "50000", leverage: 5, marginPct: "10" },
          followerQty: req.settings.mode === "smart-sync" ? (inv === "1000" ? "0.010" : "0.005") : "0.002",
          sentence: `The leader's last open, 0.1 BTC at 5x with 10 % of its equity as margin, becomes ${
            inv === "1000" ? "0.010" : "0.005"
          } BTC for you.`,
          consideredOpens: 100,
          skippedBelowMin: compare(inv, "500") === -1 ? 7 : 0,
          followerOpenPositions: opts.followerOpen?.positions ?? 0,
          followerOpenOrders: opts.followerOpen?.orders ?? 0,
        };
      }),
    createCopy: (req) =>
      track("createCopy", [req], () => {
        validate(req.settings);
        if (copies.some((c) => c.copy.name === req.name))
          throw err(`A copy named ${req.name} exists already.`, "name", "conflict");
        const copy = {
          name: req.name,
          leader: req.leader,
          follower: req.follower,
          paper: accounts.find((a) => a.name === req.follower)?.paper ?? false,
          settings: req.settings,
          state: "running" as const,
          reason: null,
          holds: [],
          t0Ms: 1,
        };
        copies.push({
          copy,
          figures: { realizedPnl: "0", unrealizedPnl: "0", fees: "0", funding: "0", roi: "0", maxDrawdown: "0" },
          positions: [],
          decisions: [],
          fills: [],
          ordersJournaled: 0,
          unknownOrders: [],
          latency: null,
          precision: [],
        });
        // The core stores the ratio beside the settings (its profit share from now on).
        const ratio = req.settings.profitShareRatio?.trim();
        if (ratio) share(req.name).ratio = ratio;
        return copy;
      }),
    pause: (name) => track("pause", [name], () => setState(name, "paused")),
    resume: (name) => track("resume", [name], () => setState(name, "running")),
    stop: (name, action) => track("stop", [name, action], () => setState(name, "stopped")),
    modify: (name, req) => track("modify", [name, req], () => undefined),
    panic: () => track("panic", [], () => copies.forEach((c) => (c.copy.state = "stopped"))),
    status: () => track("status", [], status),
    exportData: () => track("exportData", [], () => ({ dir: "/tmp/export", files: [], copies: copies.length, fills: 0, figures: 0 })),
    engineState: () => track("engineState", [], () => structuredClone(engine)),
    autostartEnabled: () => track("autostartEnabled", [], () => autostart),
    setAutostart: (enabled) => track("setAutostart", [enabled], () => (autostart = enabled)),
    closePosition: (copy, symbol, side) => track("closePosition", [copy, symbol, side], () => release(copy, symbol, side, "close")),
    unlinkPosition: (copy, symbol, side) => track("unlinkPosition", [copy, symbol, side], () => release(copy, symbol, side, "unlink")),
    copyPnl: (name) =>
      track("copyPnl", [name], () => {
        const c = copies.find((x) => x.copy.name === name);
        if (!c) throw err(`no copy named \`${name}\``, null, "not_found");
        return { copy: name, points: structuredClone(opts.pnl?.[name] ?? []) };
      }),
    activity: (copy, limit) =>
      track("activity", limit === undefined ? [copy] : [copy, limit], () => {
        const chosen = copy === null ? copies : copies.filter((c) => c.copy.name === copy);
        if (copy !== null && chosen.length === 0) throw err(`no copy named \`${copy}\``, null, "not_found");
        // As the core: the newest `limit` of each (the fixtures list newest first).
        const n = limit ?? 500;
        return chosen.map((c) => ({ copy: c.copy.name, decisions: structuredClone(c.decisions.slice(0, n)), fills: structuredClone(c.fills.slice(0, n)) }));
      }),
    profitShare: (name) => track("profitShare", [name], () => structuredClone(share(name))),
    setProfitShare: (name, ratio) =>
      track("setProfitShare", [name, ratio], () => {
        const s = share(name);
        const r = ratio?.trim() ?? "";
        if (r !== "" && !isDecimal(r))
          throw err(`\`${r}\` is not a ratio; write a decimal like "0.1" for 10 %, or leave it empty to turn profit share off`, "profitShareRatio");
        if (r !== "" && (compare(r, "0")! <= 0 || compare(r, "0.3")! > 0))
          throw err(`${r} is outside the allowed range; set a ratio above 0 and at most 0.3 (30 %), or leave it empty to turn profit share off`, "profitShareRatio");
        s.ratio = r === "" ? null : r;
        s.nextSettlementMs = r === "" ? null : Date.UTC(2026, 10, 30);
        return structuredClone(s);
      }),
    onEvent: async (handler) => {
      listeners.add(handler);
      return () => listeners.delete(handler);
    },
  };

  function release(copy: string, symbol: string, side: string, how: "close" | "unlink") {
    const c = copies.find((x) => x.copy.name === copy);
    const i = c?.positions.findIndex((p) => p.symbol === symbol && p.side === side) ?? -1;
    if (!c || i < 0) throw err(`copy \`${copy}\` holds no ${side} ${symbol} position`, null, "not_found");
    c.positions.splice(i, 1);
    c.decisions.unshift({
      tsMs: Date.now(),
      kind: how === "close" ? "place-order" : "cancel-protective-stop",
      symbol,
      reason: how === "close" ? "closed by you" : "unlinked by you: kept open as your own",
      notice: null,
    });
  }

  function setState(name: string, state: CopyStatusDto["copy"]["state"]) {
    const c = copies.find((x) => x.copy.name === name);
    if (!c) throw err(`No copy named ${name}.`, null, "not_found");
    c.copy.state = state;
  }

  return backend;
}

/** A running paper copy of Steady Trend as the dashboard tests see it: a BTC long in step
 * with the leader (stop confirmed on the exchange), an ETH short that drifted (its stop not
 * confirmed yet), an open and a skipped signal with their reasons, and a fill with its delay
 * and slippage against the leader's fill. */
export function demoCopy(name = "steady", over: Partial<CopyStatusDto["copy"]> = {}): CopyStatusDto {
  const t = Date.UTC(2026, 10, 30, 6, 0, 0);
  return {
    copy: {
      name,
      leader: "demo-steady",
      follower: PAPER_ACCOUNT,
      paper: true,
      settings: { mode: "smart-sync", investment: "1000", amountPerOrder: null, ratio: null, copyOngoingPositions: false, preset: "none", start: { cleanSlate: false, resetFigures: false, singleAssetMode: false }, risk: { maxLeverage: 5, allowedQuoteAssets: ["USDT", "USDC"], symbolAllowlist: [], symbolBlocklist: [], maxPositionNotional: null, maxSlippagePct: null, slippageAction: "skip", maxSignalAgeSecs: 60, totalStopLoss: null, takeProfitTotal: null, stopAction: "close-all", offlineProtection: true, closeIndependentTrades: false, maxFollowerAccountValue: null } },
      state: "running",
      reason: null,
      holds: [],
      t0Ms: t - 3_600_000,
      ...over,
    },
    figures: { realizedPnl: "12.5", unrealizedPnl: "-2.25", fees: "0.8", funding: "-0.1", roi: "1.025", maxDrawdown: "4.75" },
    positions: [
      { symbol: "BTCUSDT", side: "long", leaderQty: "0.1", followerQty: "0.010", ratio: "0.1", entryPrice: "50000.5", margin: "100.0001", leverage: 5, stopPrice: "42000.5", stopConfirmed: true, drift: null },
      { symbol: "ETHUSDT", side: "short", leaderQty: "2", followerQty: "0.19", ratio: "0.1", entryPrice: "3000.25", margin: "57.0047", leverage: 10, stopPrice: "3450.3", stopConfirmed: false, drift: "-0.01" },
    ],
    decisions: [
      { tsMs: t - 60_000, kind: "skip", symbol: "DOGEUSDT", reason: "below the minimum order of 5 USDT: 0.8 USDT at this investment", notice: "below-minimum" },
      { tsMs: t - 120_000, kind: "place-order", symbol: "BTCUSDT", reason: "open Long 0.010 BTCUSDT: leader quantity 0.1 × ratio 0.1", notice: null },
    ],
    fills: [{ tsMs: t - 119_990, symbol: "BTCUSDT", side: "buy", qty: "0.01", price: "50000.5", delayMs: 12, slippagePct: "0.001" }],
    ordersJournaled: 1,
    unknownOrders: [],
    latency: null,
    precision: [
      { symbol: "BTCUSDT", priceDp: 1, qtyDp: 3 },
      { symbol: "ETHUSDT", priceDp: 2, qtyDp: 3 },
    ],
  };
}
