// The dashboard in the real app window, driven through tauri-driver by what a person reads:
// a copied demo trade with its delay, positions leader beside follower, closing one
// position, pause (opens skipped with their reason, a leader close still mirrored), the
// PnL chart really drawn (canvas pixels), the activity list, and panic leaving no position
// on the simulator's paper account. Runs after app.test.mjs on the same data directory
// (scripts/e2e.sh); it starts its own copy and leaves every copy stopped.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { Session, appPids } from "./webdriver.mjs";
import { Sim } from "./sim.mjs";

const app = process.env.COPYDESK_APP_BIN;
const driver = process.env.WEBDRIVER_URL;
const token = process.env.COPYDESK_TEST_ADMIN_TOKEN;
const shots = process.env.SCREENSHOT_DIR ?? process.env.E2E_OUT ?? ".";
const out = process.env.E2E_OUT ?? ".";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

const COPY = "dash-e2e";
let s;
let sim;
/** The demo leader this copy follows (its keys, for trading as it). */
let leader;
/** The paper follower's simulator account id. */
let paperId;

before(async () => {
  assert.ok(app && driver && token, "run through scripts/e2e.sh (COPYDESK_APP_BIN, WEBDRIVER_URL, COPYDESK_TEST_ADMIN_TOKEN)");
  await mkdir(shots, { recursive: true });
  // The previous file's app may still be shutting down (its session's end gives up after
  // 20 s): a launch meanwhile would hand over to it through the single-instance plugin.
  for (let i = 0; i < 600 && (await appPids(app)).length > 0; i++) await sleep(200);
  s = await Session.start(driver, app);
});

after(async () => {
  if (s) await s.end().catch(() => {});
});

function e2e(name, body) {
  test(name, async () => {
    try {
      await body();
    } catch (e) {
      const slug = `dash-${name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40)}`;
      await s.screenshot().then((png) => writeFile(`${out}/failed-${slug}.png`, Buffer.from(png, "base64"))).catch(() => {});
      await s.pageText().then((t) => writeFile(`${out}/failed-${slug}.txt`, t)).catch(() => {});
      throw e;
    }
  });
}

/** A picture of the window; `css` (when given) is scrolled to the top first. */
async function shot(name, css) {
  if (css) await s.exec((sel) => document.querySelector(sel)?.scrollIntoView({ block: "start" }), css);
  await sleep(400);
  await writeFile(`${shots}/${name}.png`, Buffer.from(await s.screenshot(), "base64"));
}

const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

async function checkAccessibility(where) {
  const injected = await s.exec(() => typeof window.axe !== "undefined");
  if (!injected) await s.exec(new Function(axeSource + "; return true;").toString());
  const result = await s.execAsync(() =>
    window.axe
      .run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"] } })
      .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(" ")).slice(0, 5) }))),
  );
  const bad = result.filter((v) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(bad, [], `${where}: axe-core found serious violations: ${JSON.stringify(bad, null, 1)}`);
}

/** Calls a Tauri command from the page, as the UI does (set-up only; checks read the screen). */
async function invoke(cmd, args = {}) {
  const reply = await s.cmd("POST", "/execute/async", {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
        .then((value) => done({ ok: value }), (error) => done({ error }));`,
    args: [cmd, args],
  });
  if (reply && "error" in reply) throw new Error(`${cmd} failed: ${JSON.stringify(reply.error)}`);
  return reply.ok;
}

/** The rows of a table (by its accessible name) as arrays of cell texts. */
async function rows(tableName, timeoutMs = 30000) {
  const table = await s.byRole("table", tableName, timeoutMs);
  return s.exec(
    (t) => Array.from(t.querySelectorAll("tbody tr")).map((r) => Array.from(r.cells).map((c) => c.innerText.trim())),
    { [ELEMENT]: table },
  );
}

/** Waits until `check()` returns a truthy value (hang guard `timeoutMs`). */
async function until(what, check, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(300);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s${last ? `: ${last.message}` : ""}`);
}

/** The paper follower's open positions on the simulator: symbol → signed amount. */
async function paperPositions() {
  const view = await sim.admin("GET", `/admin/v1/accounts/${paperId}`);
  return Object.fromEntries(view.positions.filter((p) => Number(p.positionAmt) !== 0).map((p) => [p.symbol, p.positionAmt]));
}

async function leaderOrder(symbol, side, quantity) {
  const o = await sim.signed(leader, "POST", "/fapi/v1/order", { symbol, side, type: "MARKET", quantity });
  assert.ok(o.orderId, `the leader's ${side} ${quantity} ${symbol} was accepted: ${JSON.stringify(o)}`);
}

async function positionRow(symbol) {
  // No table at all when the copy holds nothing: look briefly, `until` asks again.
  const r = await rows(`Positions of ${COPY}`, 1000).catch(() => []);
  return r.find((cells) => cells[0] === symbol) ?? null;
}

async function openDetails(tab = "Positions") {
  await s.clickRole("button", "Copies");
  await s.clickRole("button", `Details of ${COPY}`);
  await s.clickRole("tab", tab);
}

e2e("set-up: a fixed-ratio paper copy of a demo leader no other copy follows", async () => {
  await s.byRole("heading", "Copies", 60000);
  const paper = await invoke("paper_status");
  sim = new Sim(paper.endpoint, token);
  const status = await invoke("status");
  const used = status.copies.filter((c) => c.copy.state !== "stopped").map((c) => c.copy.leader.toLowerCase());
  const demos = await sim.admin("GET", "/admin/v1/demo-leaders");
  // The swing leader trades on its own only every 20 minutes; any free one will do.
  const order = ["swing", "isolated-margin-adds", "high-leverage", "scalper"];
  const style = order.find((st) => !used.some((l) => l.includes(st)));
  assert.ok(style, `a demo leader no copy follows: ${used}`);
  leader = demos.find((d) => d.style === style);
  const accounts = await sim.admin("GET", "/admin/v1/accounts");
  paperId = accounts.find((a) => a.label === "paper")?.accountId;
  assert.ok(paperId, "the paper account is on the simulator");
  for (const [symbol, price] of [["XRPUSDT", "1"], ["DOGEUSDT", "0.1"], ["LINKUSDT", "15"]]) {
    await sim.admin("POST", "/admin/v1/prices", { symbol, price });
  }
  const settings = {
    mode: "fixed-ratio", investment: null, amountPerOrder: null, ratio: "0.5", copyOngoingPositions: false, preset: "none",
    start: { cleanSlate: false, resetFigures: false, singleAssetMode: false },
    risk: {
      maxLeverage: 5, allowedQuoteAssets: ["USDT", "USDC"], symbolAllowlist: [], symbolBlocklist: [], maxPositionNotional: null,
      maxSlippagePct: null, slippageAction: "skip", maxSignalAgeSecs: 60, totalStopLoss: null, takeProfitTotal: null,
      stopAction: "close-all", offlineProtection: true, closeIndependentTrades: false, maxFollowerAccountValue: null,
    },
  };
  await invoke("copy_create", { req: { name: COPY, leader: `demo-${style}`, follower: "paper", settings } });
  await s.byRole("article", `Copy ${COPY}`, 60000);
});

e2e("the dashboard shows a copied demo trade with its delay", async () => {
  await leaderOrder("XRPUSDT", "BUY", "100");
  await openDetails();
  // XRPUSDT steps 0.1: 100 × 0.5 = 50.0, shown with the symbol's one decimal.
  const row = await until("the copied XRPUSDT position with a confirmed stop", async () => {
    const r = await positionRow("XRPUSDT");
    return r && r[6].includes("confirmed on the exchange") ? r : null;
  });
  assert.equal(row[1], "long");
  assert.equal(row[2], "100.0", `the leader's quantity with the symbol's precision: ${row}`);
  assert.equal(row[3], "50.0", `the follower holds leader × 0.5: ${row}`);
  assert.equal(row[4], "0.5", "the copy ratio");
  assert.equal(row[7], "in step", "no drift");
  const card = await s.exec((name) => document.querySelector(`[aria-label="Copy ${name}"]`)?.innerText ?? "", COPY);
  assert.match(card, /running/);
  assert.match(card, /Copy delay\s*\d+ ms median/, `the card shows the copy delay: ${card}`);
  await s.clickRole("tab", "Activity");
  const fill = await until("the fill in the copy's activity", async () => {
    const r = await rows(`Activity of ${COPY}`);
    return r.find((c) => c[1] === "fill" && c[2] === "XRPUSDT") ?? null;
  });
  assert.match(fill[3], /^Bought 50\.0 at /, `the fill: ${fill}`);
  assert.match(fill[4], /^\d+ ms after the leader$/, `the fill's delay against the leader's: ${fill}`);
  assert.match(fill[5], /%$/, `the fill's slippage: ${fill}`);
  await s.clickRole("tab", "Positions");
  await shot("10-dashboard-copies");
  await checkAccessibility("Copies with a copy's positions");
});

e2e("closing one position leaves the copy running", async () => {
  await leaderOrder("DOGEUSDT", "BUY", "200");
  await openDetails();
  await until("the copied DOGEUSDT position", async () => (await positionRow("DOGEUSDT"))?.[3] === "100");
  await shot("11-dashboard-positions", `[aria-label="Copy ${COPY}"]`);
  await s.clickRole("button", "Close DOGEUSDT long");
  await s.byRole("alertdialog", "Close DOGEUSDT long?");
  await checkAccessibility("the close-position confirm");
  await s.clickRole("button", "Close DOGEUSDT at market");
  await until("the DOGEUSDT row to go", async () => (await positionRow("DOGEUSDT")) === null && (await positionRow("XRPUSDT")) !== null);
  const onVenue = await until("the simulator's paper account without DOGEUSDT", async () => {
    const p = await paperPositions();
    return !("DOGEUSDT" in p) ? p : null;
  });
  assert.equal(Number(onVenue.XRPUSDT), 50, `the other position stays: ${JSON.stringify(onVenue)}`);
  const chip = await s.exec((name) => document.querySelector(`[aria-label="Copy ${name}"] [role=status]`)?.textContent ?? "", COPY);
  assert.equal(chip, "running", "the copy keeps running");
});

e2e("pause stops new opens while a leader close is still mirrored; the activity shows the skip and why", async () => {
  await s.clickRole("button", "Copies");
  await s.clickRole("button", `Pause ${COPY}`);
  await s.byRole("button", `Resume ${COPY}`);
  await leaderOrder("LINKUSDT", "BUY", "10");
  await leaderOrder("XRPUSDT", "SELL", "100");
  await openDetails();
  await until("the mirrored close of XRPUSDT", async () => (await positionRow("XRPUSDT")) === null, 60000);
  const onVenue = await until("the simulator's paper account flat on XRPUSDT", async () => {
    const p = await paperPositions();
    return !("XRPUSDT" in p) ? p : null;
  });
  assert.ok(!("LINKUSDT" in onVenue), `the paused copy opened nothing: ${JSON.stringify(onVenue)}`);
  // The Activity screen, filtered to the skip.
  await s.clickRole("button", "Activity");
  const skip = await until("the skipped LINKUSDT open in the activity", async () => {
    const r = await rows("Activity");
    return r.find((c) => c[1] === COPY && c[2] === "skipped" && c[3] === "LINKUSDT") ?? null;
  });
  assert.match(skip[4], /the copy is paused, so it opens and increases nothing/, `the skip's reason: ${skip}`);
  await s.exec(() => {
    const kind = Array.from(document.querySelectorAll("label")).find((l) => l.textContent.startsWith("Kind"))?.querySelector("select");
    kind.value = "skip";
    kind.dispatchEvent(new Event("change", { bubbles: true }));
  });
  const filtered = await rows("Activity");
  assert.ok(filtered.length > 0 && filtered.every((c) => c[2] === "skipped"), `only skips after filtering: ${JSON.stringify(filtered)}`);
  await shot("12-dashboard-activity");
  await checkAccessibility("Activity");
  await s.clickRole("button", "Copies");
  await s.clickRole("button", `Resume ${COPY}`);
  await s.byRole("button", `Pause ${COPY}`);
});

e2e("the PnL chart draws its line (pixels on the canvas)", async () => {
  await openDetails("Chart");
  const caption = await s.waitPage(/PnL of dash-e2e from .* over \d+ points/);
  assert.ok(caption);
  const drawn = await until("the PnL line on the chart's canvas", async () => {
    const n = await s.exec((name) => {
      const box = document.querySelector(`[data-testid="pnl-chart-${name}"]`);
      let count = 0;
      for (const c of box ? box.querySelectorAll("canvas") : []) {
        if (c.width === 0 || c.height === 0) continue;
        const px = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
        for (let i = 0; i < px.length; i += 4) {
          const [r, g, b] = [px[i], px[i + 1], px[i + 2]];
          // The line's green (79,217,139) or red (255,112,112), anti-aliasing allowed.
          const green = Math.abs(r - 79) < 40 && Math.abs(g - 217) < 40 && Math.abs(b - 139) < 40;
          const red = Math.abs(r - 255) < 40 && Math.abs(g - 112) < 40 && Math.abs(b - 112) < 40;
          if (px[i + 3] > 0 && (green || red)) count++;
        }
      }
      return count;
    }, COPY);
    return n > 20 ? n : null;
  }, 20000);
  assert.ok(drawn > 20, `the line is drawn: ${drawn} pixels of the line's colours`);
  await shot("13-dashboard-chart", `[aria-label="Copy ${COPY}"]`);
  await checkAccessibility("the PnL chart");
});

e2e("the card shows its PnL sparkline and age; profit share is a tab of the copy detail", async () => {
  await openDetails("Profit share");
  // The card: a sparkline whose label says the curve in words, and how long ago it was updated.
  await s.byRole("img", new RegExp(`^PnL of ${COPY} over time: `));
  await s.waitText(`[aria-label="Copy ${COPY}"] [data-testid="updated"]`, (t) => /updated (just now|\d+ (s|min) ago)/.test(t));
  await s.byRole("heading", `Profit share · ${COPY}`);
  await s.fill("Profit-share ratio", "0.5");
  await s.clickRole("button", "Save ratio");
  await s.waitPage(/0\.5 is outside the allowed range; set a ratio above 0 and at most 0\.3/);
  await s.fill("Profit-share ratio", "0.1");
  await s.clickRole("button", "Save ratio");
  await s.waitText('[data-testid="share-ratio"]', (t) => t.trim() === "10 %");
  const stored = await invoke("profit_share", { name: COPY });
  assert.equal(stored.ratio, "0.1", "the core stored the ratio set in the tab");
  await shot("17-dashboard-profit-share", `[aria-label="Copy ${COPY}"]`);
  await checkAccessibility("the profit-share tab");
});

e2e("panic stops every copy and leaves no position on the simulator's account", async () => {
  await leaderOrder("XRPUSDT", "BUY", "100");
  await openDetails();
  await until("the copied XRPUSDT position", async () => (await positionRow("XRPUSDT"))?.[3] === "50.0");
  await s.clickRole("button", "Panic");
  await s.byRole("alertdialog", "Stop everything?");
  await s.clickRole("button", "Stop all copies and close positions");
  await until("every copy stopped on screen", async () => {
    const chips = await s.exec(() => Array.from(document.querySelectorAll("article[aria-label^='Copy '] [role=status]")).map((c) => c.textContent));
    return chips.length > 0 && chips.every((c) => c.startsWith("stopped")) ? chips : null;
  });
  const left = await until("the simulator's paper account with no position", async () => {
    const p = await paperPositions();
    return Object.keys(p).length === 0 ? "none" : null;
  }, 60000);
  assert.equal(left, "none");
});
