// The desktop shell in the real window under Xvfb: tray-host detection (Xvfb has none),
// closing the window with a copy running (it minimises and says why), and both choices of
// the quit dialog across real restarts of the app: suspend (the copy resumes at the next
// launch, its position still open) and close everything (every copy stopped, no position
// left). Run by scripts/e2e.sh after app.test.mjs and install.test.mjs; it stops every
// copy, so it runs last.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, writeFile } from "node:fs/promises";
import { Session, appPids } from "./webdriver.mjs";
import { Sim } from "./sim.mjs";

const app = process.env.COPYDESK_APP_BIN;
const driver = process.env.WEBDRIVER_URL;
const token = process.env.COPYDESK_TEST_ADMIN_TOKEN;
const shots = process.env.SCREENSHOT_DIR ?? process.env.E2E_OUT ?? ".";
const out = process.env.E2E_OUT ?? ".";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const COPY = "e2e-shell";

let s;

before(async () => {
  assert.ok(app && driver && token, "run through scripts/e2e.sh (COPYDESK_APP_BIN, WEBDRIVER_URL, COPYDESK_TEST_ADMIN_TOKEN)");
  await mkdir(shots, { recursive: true });
  s = await Session.start(driver, app);
  await s.byRole("heading", "Copies", 60000);
});

after(async () => {
  if (s) await s.end().catch(() => {});
});

function e2e(name, body) {
  test(name, async () => {
    try {
      await body();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
      await s.screenshot().then((png) => writeFile(`${out}/failed-${slug}.png`, Buffer.from(png, "base64"))).catch(() => {});
      await s.pageText().then((t) => writeFile(`${out}/failed-${slug}.txt`, t)).catch(() => {});
      throw e;
    }
  });
}

/** Calls a Tauri command from the page, as the UI does. */
async function invoke(cmd, args = {}) {
  const reply = await s.cmd("POST", "/execute/async", {
    script: `const done = arguments[arguments.length - 1];
      window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1])
        .then((value) => done({ ok: value === undefined ? null : value }), (error) => done({ error }));`,
    args: [cmd, args],
  });
  if (reply && "error" in reply) throw new Error(`${cmd} failed: ${JSON.stringify(reply.error)}`);
  return reply.ok;
}

async function copyStatus(name) {
  const status = await invoke("status");
  return status.copies.find((c) => c.copy.name === name) ?? null;
}

async function until(what, fn, timeoutMs = 60000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn().catch((e) => e);
    if (last === true) return;
    await sleep(250);
  }
  throw new Error(`never happened: ${what} (last: ${last})`);
}

async function shot(name) {
  await sleep(400);
  await writeFile(`${shots}/${name}.png`, Buffer.from(await s.screenshot(), "base64"));
}

/** Waits until the app has quit by itself (a session's end would kill it, and with it the
 * quit's last steps), ends the session and opens the app again. */
async function relaunch() {
  await until("the app quits by itself", async () => (await appPids(app)).length === 0);
  await s.end(60000);
  s = await Session.start(driver, app);
  await s.byRole("heading", "Copies", 60000);
}

e2e("Xvfb has no tray host: with a copy running, closing the window minimises it and says why", async () => {
  // A paper copy of the swing demo leader with offline protection off, so its positions
  // carry no exchange-side stop (the quit dialog must list them).
  const settings = {
    mode: "fixed-ratio",
    investment: null,
    amountPerOrder: null,
    ratio: "0.5",
    copyOngoingPositions: false,
    preset: "none",
    start: { cleanSlate: false, resetFigures: false, singleAssetMode: false },
    risk: {
      maxLeverage: 5,
      allowedQuoteAssets: ["USDT", "USDC"],
      symbolAllowlist: ["XRPUSDT"],
      symbolBlocklist: [],
      maxPositionNotional: null,
      maxSlippagePct: null,
      slippageAction: "skip",
      maxSignalAgeSecs: 60,
      totalStopLoss: null,
      takeProfitTotal: null,
      stopAction: "close-all",
      offlineProtection: false,
      closeIndependentTrades: false,
      maxFollowerAccountValue: null,
    },
  };
  await invoke("copy_create", { req: { name: COPY, leader: "demo-swing", follower: "paper", settings } });
  await until("the copy runs", async () => (await copyStatus(COPY))?.copy.state === "running");

  const state = await invoke("desktop_state");
  assert.equal(state.trayHost, false, "no StatusNotifier host under Xvfb");
  await s.clickRole("button", "Settings");
  await s.waitPage(/Tray: this desktop shows no tray icons, so closing the window minimises CopyDesk while copies run/);

  // The close request a window manager's close button sends.
  await invoke("plugin:window|close", { label: "main" });
  const notice = await s.waitText('[data-testid="shell-minimised"]', (t) => /minimised instead of closing/.test(t));
  assert.match(notice, /closing would stop your (copy|\d+ copies)\./);
  assert.match(notice, /use Quit in Settings/);
  // Still running: the engine answers and the copy copies.
  assert.equal((await copyStatus(COPY)).copy.state, "running", "closing did not stop the copy");
  await shot("14-closed-without-tray");
});

e2e("quit with copies running, suspend: the dialog lists the position without a stop, and the copy resumes at the next launch", async () => {
  const paper = await invoke("paper_status");
  const sim = new Sim(paper.endpoint, token);
  const leaders = await sim.admin("GET", "/admin/v1/demo-leaders");
  const swing = leaders.find((l) => l.style === "swing");
  assert.ok(swing, `a swing demo leader: ${JSON.stringify(leaders.map((l) => l.style))}`);
  // XRPUSDT: no demo leader trades it on its own, but the dashboard test may have traded it
  // as this same leader; flatten the leader first, so its buy below opens from flat (an
  // increase of a position the copy did not copy is rightly not copied).
  await sim.admin("POST", "/admin/v1/prices", { symbol: "XRPUSDT", price: "1" });
  for (const p of await sim.signed(swing, "GET", "/fapi/v3/positionRisk", { symbol: "XRPUSDT" })) {
    const amt = Number(p.positionAmt);
    if (amt === 0) continue;
    const close = { symbol: "XRPUSDT", side: amt > 0 ? "SELL" : "BUY", type: "MARKET", quantity: String(Math.abs(amt)) };
    if (p.positionSide && p.positionSide !== "BOTH") close.positionSide = p.positionSide;
    await sim.signed(swing, "POST", "/fapi/v1/order", close);
  }
  const order = await sim.signed(swing, "POST", "/fapi/v1/order", { symbol: "XRPUSDT", side: "BUY", type: "MARKET", quantity: "40" });
  assert.ok(order.orderId, `the leader's order was accepted: ${JSON.stringify(order)}`);
  await until("the copy holds XRPUSDT", async () => ((await copyStatus(COPY))?.positions ?? []).some((p) => p.symbol === "XRPUSDT"));

  await s.clickRole("button", "Settings");
  await s.clickRole("button", "Quit CopyDesk…");
  const dialog = await s.byRole("alertdialog", "Quit CopyDesk?");
  const text = await s.waitPage(/XRPUSDT long [\d.]+ \(e2e-shell\): offline protection is off/);
  assert.match(text, /(1 copy is|\d+ copies are) running\. Choose what happens to (it|them)\./);
  assert.match(text, /Suspend/);
  await shot("15-quit-dialog");
  assert.ok(dialog);
  await s.clickRole("button", "Suspend copying and quit");
  await relaunch();

  await until("the copy resumed after the relaunch", async () => {
    const c = await copyStatus(COPY);
    return c?.copy.state === "running" && c.positions.some((p) => p.symbol === "XRPUSDT");
  });
});

e2e("quit with copies running, close everything: every copy stops and no position is left", async () => {
  await s.clickRole("button", "Settings");
  await s.clickRole("button", "Quit CopyDesk…");
  await s.byRole("alertdialog", "Quit CopyDesk?");
  await s.waitPage(/Close everything/);
  await s.clickRole("button", "Close all positions and quit");
  await relaunch();

  const status = await invoke("status");
  assert.ok(status.copies.length > 0, "the copies are listed");
  for (const c of status.copies) {
    assert.equal(c.copy.state, "stopped", `${c.copy.name} stopped: ${JSON.stringify(c.copy)}`);
    assert.deepEqual(c.positions, [], `${c.copy.name} holds no position`);
  }
  const mine = status.copies.find((c) => c.copy.name === COPY);
  assert.match(mine.copy.reason ?? "", /panic/, `stopped by close everything: ${JSON.stringify(mine.copy)}`);
});
