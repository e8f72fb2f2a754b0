// Start at login, end to end: a paper copy started through the app keeps copying after the
// app is quit and started again exactly as the login entry says (`Exec=… --minimized`, same
// environment, no WebDriver). The resumed engine must copy a leader's open made through the
// embedded simulator's admin API (test-build admin token) onto the follower, as
// `copydesk status --json` on the same data directory shows. Run by scripts/e2e.sh on the
// app unpacked from the debug .deb, with a private XDG_CONFIG_HOME.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { existsSync, openSync, readFileSync, rmSync } from "node:fs";
import { readdir, readFile, readlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { Session, appPids } from "./webdriver.mjs";
import { Sim, scaled, smartSyncQty, unscaled } from "./sim.mjs";

const app = process.env.COPYDESK_APP_BIN;
const cli = process.env.COPYDESK_CLI_BIN;
const driver = process.env.WEBDRIVER_URL;
const token = process.env.COPYDESK_TEST_ADMIN_TOKEN;
const configHome = process.env.XDG_CONFIG_HOME;
const out = process.env.E2E_OUT ?? ".";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const entry = join(configHome ?? "", "autostart", "copydesk-app.desktop");
const COPY = "resumed-at-login";

let session;
/** The app started from the login entry: its process and how it ended. */
let autostarted = null;

before(() => {
  assert.ok(
    app && cli && driver && token && configHome,
    "run through scripts/e2e.sh (COPYDESK_APP_BIN, COPYDESK_CLI_BIN, WEBDRIVER_URL, COPYDESK_TEST_ADMIN_TOKEN, XDG_CONFIG_HOME)",
  );
});

after(async () => {
  if (session) await session.end().catch(() => {});
  // Teardown: the autostarted app is stopped and seen to exit; start at login is off again.
  if (autostarted && autostarted.exit === null) {
    autostarted.child.kill("SIGTERM");
    await waitFor("the autostarted app exits", 20000, async () => autostarted.exit !== null);
  }
  rmSync(entry, { force: true });
  assert.deepEqual(await appPids(app), [], "no app process is left");
});

/** Calls a Tauri command from the page, as the UI does. */
async function invoke(cmd, args = {}) {
  const reply = await session.cmd("POST", "/execute/async", {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
        .then((value) => done({ ok: value }), (error) => done({ error }));`,
    args: [cmd, args],
  });
  if (reply && "error" in reply) throw new Error(`${cmd} failed: ${JSON.stringify(reply.error)}`);
  return reply.ok;
}

async function waitFor(what, timeoutMs, fn) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      // A failed assertion is final; anything else (not ready yet) is tried again.
      if (e instanceof assert.AssertionError) throw e;
      last = e;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (${last.message})` : ""}`);
}

/** `copydesk status --json` on the app's data directory (read-only, beside the engine). */
async function cliStatus() {
  const { stdout } = await promisify(execFile)(cli, ["status", "--json"], { env: process.env });
  return JSON.parse(stdout);
}

/** The copy's safe defaults, as the wizard starts from them (ui/src/lib/settings.ts). */
function settings() {
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

/** The command line of a desktop entry's `Exec=` key (no field codes in ours). */
function execLine(text) {
  const line = text.split("\n").find((l) => l.startsWith("Exec="));
  assert.ok(line, `the entry has an Exec line:\n${text}`);
  const argv = [];
  for (const m of line.slice(5).matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) {
    argv.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  }
  return argv.filter((a) => !/^%[fFuUdDnNickvm]$/.test(a));
}

/** The loopback addresses process `pid` listens on (its sockets in /proc/net/tcp). */
async function listeningPorts(pid) {
  const inodes = new Set();
  for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
    const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
    const m = /^socket:\[(\d+)\]$/.exec(target);
    if (m) inodes.add(m[1]);
  }
  const ports = [];
  for (const row of (await readFile("/proc/net/tcp", "utf8")).split("\n").slice(1)) {
    const f = row.trim().split(/\s+/);
    // local address 127.0.0.1 (0100007F), state 0A (listen), inode in column 10
    if (f.length > 9 && f[1].startsWith("0100007F:") && f[3] === "0A" && inodes.has(f[9])) {
      ports.push(parseInt(f[1].split(":")[1], 16));
    }
  }
  return ports;
}

test("an app started from the login entry resumes its paper copy and copies the leader's next open", async () => {
  // 1. Through the app: paper mode, a paper copy of a demo leader no other copy follows.
  session = await Session.start(driver, app);
  await session.find("h1");
  const paper = await waitFor("paper mode runs", 60000, async () => {
    const p = await invoke("paper_status");
    return p.running ? p : null;
  });
  assert.ok(paper.endpoint, "paper mode has an endpoint");
  const status = await invoke("status");
  const followed = new Set(status.copies.map((c) => c.copy.leader));
  const leaders = await invoke("leaders_list");
  const leader = leaders.find((l) => l.source === "demo" && l.copyable && !followed.has(l.id));
  assert.ok(leader, `a demo leader no copy follows yet: ${JSON.stringify(leaders.map((l) => l.id))}`);
  await invoke("copy_create", { req: { name: COPY, leader: leader.id, follower: "paper", settings: settings() } });
  await waitFor("the new copy watches its leader", 120000, async () => {
    const s = await invoke("status");
    return s.recent.some((e) => e.copy === COPY && e.kind === "watching");
  });

  // 2. Start at login on: the entry is written under XDG_CONFIG_HOME.
  assert.equal(await invoke("autostart_set", { enabled: true }), true);
  const argv = execLine(readFileSync(entry, "utf8"));
  assert.deepEqual(argv, [app, "--minimized"], "the entry starts this app minimised");

  // 3. Quit the app (its process is seen to exit), then log in: start what the entry says.
  await session.end();
  session = null;
  const launchedAt = Date.now();
  const log = openSync(join(out, "autostarted-app.log"), "w");
  const child = spawn(argv[0], argv.slice(1), { env: process.env, stdio: ["ignore", log, log] });
  autostarted = { child, exit: null };
  child.on("exit", (code, signal) => (autostarted.exit = { code, signal }));

  // 4. The engine resumes the stored copy: it watches its leader again.
  await waitFor("the resumed copy watches its leader", 120000, async () => {
    assert.equal(autostarted.exit, null, `the autostarted app exited: ${JSON.stringify(autostarted.exit)}`);
    const s = await cliStatus();
    return s.recent.some((e) => e.copy === COPY && e.kind === "watching" && e.tsMs >= launchedAt);
  });
  const copy = (await cliStatus()).copies.find((c) => c.copy.name === COPY);
  assert.equal(copy.copy.state, "running", "the copy runs after the login start");

  // 5. The embedded simulator restarted on a new port: find it by the app's listening socket.
  const endpoint = await waitFor("the embedded simulator answers", 30000, async () => {
    for (const port of await listeningPorts(child.pid)) {
      const base = `http://127.0.0.1:${port}`;
      const ok = await new Sim(base, token).admin("GET", "/admin/v1/demo-leaders").then(() => true, () => false);
      if (ok) return base;
    }
    return null;
  });
  const sim = new Sim(endpoint, token);
  const demo = (await sim.admin("GET", "/admin/v1/demo-leaders")).find((l) => l.style === leader.style);
  assert.ok(demo, `the restored simulator has the ${leader.style} demo leader`);

  // 6. The leader opens DOGEUSDT (no demo leader or other copy trades it; step 1 DOGE) at
  // 5x: the follower must hold the Smart Sync quantity of copy-rules §2.1.
  const symbol = "DOGEUSDT";
  await sim.admin("POST", "/admin/v1/prices", { symbol, price: "10" });
  await sim.signed(demo, "POST", "/fapi/v1/leverage", { symbol, leverage: "5" });
  const acct = await sim.signed(demo, "GET", "/fapi/v3/account");
  const equity = acct.assets
    .filter((a) => a.asset === "USDT" || a.asset === "USDC")
    .map((a) => scaled(a.walletBalance) + scaled(a.unrealizedProfit))
    .reduce((x, y) => x + y, 0n);
  // 20.5 DOGE per 1,000 USDT of investment at this equity: mid-step, so the expectation
  // holds while the leader's own positions move its equity by up to ±2 %.
  const leaderQty = ((equity * 205n) / 10000n / 10n ** 18n).toString();
  const equityText = unscaled(equity);
  await sim.signed(demo, "POST", "/fapi/v1/order", { symbol, side: "BUY", type: "MARKET", quantity: leaderQty });
  const expected = smartSyncQty(leaderQty, "1000", equityText, "1");
  const held = await waitFor(`the follower holds ${expected} ${symbol}`, 60000, async () => {
    const c = (await cliStatus()).copies.find((x) => x.copy.name === COPY);
    // The leader's side is listed as soon as its fill is read; wait for the follower's.
    const p = c?.positions.find((x) => x.symbol === symbol);
    return p && Number(p.followerQty) !== 0 ? p : null;
  });
  assert.equal(Number(held.followerQty), Number(expected), `floor_step(${leaderQty} × 1000 / ${equityText}) = ${expected}`);
  assert.equal(autostarted.exit, null, "the autostarted app still runs");

  // 7. Stop it: it exits on SIGTERM (the after hook checks nothing is left).
  child.kill("SIGTERM");
  await waitFor("the autostarted app exits", 20000, async () => autostarted.exit !== null);
  assert.ok(existsSync(entry), "the entry stays until start at login is turned off");
});
