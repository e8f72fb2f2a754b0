// Desktop figures of a built app (not a test: scripts/measure-desktop.sh runs it under Xvfb
// with tauri-driver). Prints JSON:
// - cold start: launch (the WebDriver session request, which starts the app) → the first
//   IPC reply (`app_info` answered in the page), over RUNS launches on a fresh data
//   directory each time after the first run's copies (each start opens the engine and
//   resumes them);
// - idle memory: 5 paper copies running, IDLE_SECS after they watch, PSS summed over the app
//   process and every process below it (WebKit's web and network processes), from
//   /proc/<pid>/smaps_rollup; with each process, its largest mappings (PSS grouped by
//   file, heap, anonymous) from /proc/<pid>/smaps, to see what the figure is made of.
// SHOT=<file.png> also saves the window's picture after the idle wait (to check that the
// page still renders under the environment being measured).
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { Session } from "./webdriver.mjs";

const app = process.env.COPYDESK_APP_BIN;
const driver = process.env.WEBDRIVER_URL;
const runs = Number(process.env.RUNS ?? 5);
const idleSecs = Number(process.env.IDLE_SECS ?? 60);
const shot = process.env.SHOT;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function invoke(s, cmd, args = {}) {
  const reply = await s.cmd("POST", "/execute/async", {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
        .then((value) => done({ ok: value === undefined ? null : value }), (error) => done({ error }));`,
    args: [cmd, args],
  });
  if (reply && "error" in reply) throw new Error(`${cmd} failed: ${JSON.stringify(reply.error)}`);
  return reply.ok;
}

/** Launch → first IPC reply, in ms. The page may not have its IPC bridge at the very
 * first script run; the loop retries until `app_info` answers. */
async function coldStart() {
  const t0 = performance.now();
  const s = await Session.start(driver, app);
  for (;;) {
    try {
      const info = await invoke(s, "app_info");
      if (info && info.name) return { s, ms: performance.now() - t0 };
    } catch {
      // not ready yet
    }
    await sleep(5);
  }
}

function children() {
  const map = new Map();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (!map.has(ppid)) map.set(ppid, []);
      map.get(ppid).push(Number(d));
    } catch {
      // gone
    }
  }
  return map;
}

function appPid() {
  const out = execFileSync("pgrep", ["-xf", `${app}( .*)?`], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  if (out.length !== 1) throw new Error(`expected one app process, found ${out.join(", ")}`);
  return Number(out[0]);
}

/** PSS in kB of one process, grouped by what is mapped (a file's base name, `[heap]`,
 * `[anon]`, `[stack]`…), largest first, the first `top` of them. */
function byMapping(pid, top = 12) {
  const sums = new Map();
  let name = "[anon]";
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      const path = head[1].trim();
      name = path === "" ? "[anon]" : path.startsWith("[") ? path : path.slice(path.lastIndexOf("/") + 1);
      continue;
    }
    const m = /^Pss:\s+(\d+) kB/.exec(line);
    if (m) sums.set(name, (sums.get(name) ?? 0) + Number(m[1]));
  }
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).slice(0, top));
}

function pss() {
  const root = appPid();
  const kids = children();
  const all = [];
  const walk = (p) => {
    all.push(p);
    for (const c of kids.get(p) ?? []) walk(c);
  };
  walk(root);
  const rows = all.map((pid) => {
    const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
    const kb = Number(/^Pss:\s+(\d+) kB/m.exec(text)[1]);
    const rss = Number(/^Rss:\s+(\d+) kB/m.exec(text)[1]);
    const name = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
    return { pid, name, pssKb: kb, rssKb: rss, topKb: byMapping(pid) };
  });
  // PSS splits a shared library's pages among every process that maps it: other WebKit
  // processes on the machine (another app, another test run) lower these figures.
  const others = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d) || all.includes(Number(d))) continue;
    try {
      if (/^WebKit(WebProces|NetworkPr)/.test(readFileSync(`/proc/${d}/comm`, "utf8"))) others.push(Number(d));
    } catch {
      // gone
    }
  }
  return {
    rows,
    pssMb: rows.reduce((n, r) => n + r.pssKb, 0) / 1024,
    rssMb: rows.reduce((n, r) => n + r.rssKb, 0) / 1024,
    otherWebKitProcesses: others.length,
  };
}

const starts = [];
let { s, ms } = await coldStart();
starts.push(ms);
// Starting a copy reads both accounts and reconciles before it answers: slow under load.
await s.cmd("POST", "/timeouts", { script: 300000 });

// Five paper copies, one per demo leader and a second of the first.
const leaders = (await invoke(s, "leaders_list")).filter((l) => l.source === "demo" && l.copyable);
if (leaders.length === 0) throw new Error("no demo leader");
const settings = {
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
for (let i = 0; i < 5; i++) {
  const leader = leaders[i % leaders.length];
  await invoke(s, "copy_create", { req: { name: `bench-${i + 1}`, leader: leader.id, follower: "paper", settings } });
}
for (;;) {
  const st = await invoke(s, "status");
  if (st.copies.filter((c) => c.copy.state === "running").length >= 5) break;
  await sleep(500);
}
await sleep(idleSecs * 1000);
const memory = pss();
if (shot) writeFileSync(shot, Buffer.from(await s.screenshot(), "base64"));

// More cold starts: each resumes the five copies.
for (let i = 1; i < runs; i++) {
  await s.end(60000);
  ({ s, ms } = await coldStart());
  starts.push(ms);
}
await s.end(60000);

const sorted = [...starts].sort((a, b) => a - b);
console.log(
  JSON.stringify(
    {
      coldStartMs: starts.map((x) => Math.round(x)),
      coldStartMedianMs: Math.round(sorted[Math.floor(sorted.length / 2)]),
      idleSecs,
      memory: {
        pssMb: Math.round(memory.pssMb * 10) / 10,
        rssMb: Math.round(memory.rssMb * 10) / 10,
        otherWebKitProcesses: memory.otherWebKitProcesses,
        processes: memory.rows,
      },
    },
    null,
    1,
  ),
);
