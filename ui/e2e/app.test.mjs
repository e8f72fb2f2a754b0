// The real app window, driven through tauri-driver by what a person reads (roles, labels,
// headings). Run by scripts/e2e.sh, which builds the app with its UI embedded, starts Xvfb
// and tauri-driver, and gives the app a fresh data directory and a test admin token for
// its embedded simulator.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import { Session } from "./webdriver.mjs";
import { Sim, scaled, smartSyncQty } from "./sim.mjs";

const app = process.env.COPYDESK_APP_BIN;
const cli = process.env.COPYDESK_CLI_BIN;
const driver = process.env.WEBDRIVER_URL;
const token = process.env.COPYDESK_TEST_ADMIN_TOKEN;
const shots = process.env.SCREENSHOT_DIR ?? process.env.E2E_OUT ?? ".";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let s;
/** What the main flow learned, for the later tests. */
const flow = { copyName: null, leaderName: null, endpoint: null };

before(async () => {
  assert.ok(app && driver, "run through scripts/e2e.sh (COPYDESK_APP_BIN, WEBDRIVER_URL)");
  await mkdir(shots, { recursive: true });
  s = await Session.start(driver, app);
});

after(async () => {
  if (s) await s.end().catch(() => {});
});

const out = process.env.E2E_OUT ?? ".";

/** Runs a test body; when it fails, the window's picture and text are kept for the reader. */
function diagnosed(name, body) {
  return async () => {
    try {
      await body();
    } catch (e) {
      const slug = name.replace(/[^a-z0-9]+/gi, "-").slice(0, 40);
      await s.screenshot().then((png) => writeFile(`${out}/failed-${slug}.png`, Buffer.from(png, "base64"))).catch(() => {});
      await s.pageText().then((t) => writeFile(`${out}/failed-${slug}.txt`, t)).catch(() => {});
      throw e;
    }
  };
}

/** One end-to-end test, with diagnostics on failure. */
function e2e(name, body) {
  test(name, diagnosed(name, body));
}

async function shot(name) {
  // Let the last DOM change paint before the picture is taken.
  await sleep(400);
  const png = await s.screenshot();
  await writeFile(`${shots}/${name}.png`, Buffer.from(png, "base64"));
}

const axeSource = await readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core in the real web view: WCAG 2 A/AA rules; serious and critical violations fail. */
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

/** Pixels of the equity chart's main canvas that differ from its background: waits (up to
 * 15 s) for the chart to paint and returns the count. lightweight-charts stayed blank
 * under the web view's "C" locale while the sentence under it was right. */
async function chartPixels() {
  const deadline = Date.now() + 15000;
  let last = null;
  while (Date.now() < deadline) {
    last = await s.exec(() => {
      const c = document.querySelector("figure .chart canvas");
      if (!c || c.width === 0 || c.height === 0) return { n: 0, size: null };
      const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < d.length; i += 4) if (d[i + 3] !== 0 && !(d[i] === 0x16 && d[i + 1] === 0x1d && d[i + 2] === 0x25)) n++;
      return { n, size: [c.width, c.height], css: [c.clientWidth, c.clientHeight] };
    });
    if (last.n > 1000) return last;
    await sleep(250);
  }
  return last;
}

async function heading2() {
  return s.exec(() => document.querySelector("h2")?.textContent ?? "");
}

async function nextEnabled() {
  return s.enabled(await s.byRole("button", "Next"));
}

/** The message under a field (its aria-describedby error), waiting for it to appear. */
async function fieldError(label, pattern) {
  const id = await s.byLabel(label);
  const errorId = await s.exec(
    (el) => (el.getAttribute("aria-describedby") || "").split(" ").find((x) => x.endsWith("-error")) || null,
    { "element-6066-11e4-a52e-4f735466cecf": id },
  );
  assert.ok(errorId, `${label} should have a message under it`);
  const text = await s.waitText(`#${errorId}`, (t) => pattern.test(t));
  return text;
}

async function waitFieldError(label, pattern, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      return await fieldError(label, pattern);
    } catch (e) {
      last = e;
      await sleep(250);
    }
  }
  throw last;
}

/** Waits until the field has no message under it. */
async function waitNoFieldError(label, timeoutMs = 15000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const id = await s.byLabel(label);
    const text = await s.exec(
      (el) => {
        const errorId = (el.getAttribute("aria-describedby") || "").split(" ").find((x) => x.endsWith("-error"));
        return errorId ? (document.getElementById(errorId)?.textContent ?? "").trim() : "";
      },
      { "element-6066-11e4-a52e-4f735466cecf": id },
    );
    if (text === "") return;
    assert.ok(Date.now() < deadline, `${label} still says "${text}"`);
    await sleep(200);
  }
}

e2e("first start: paper mode, Copies with its empty state", async () => {
  await s.byRole("heading", "Copies", 60000);
  const text = await s.waitPage(/No copies yet/);
  assert.match(text, /PAPER/, "the mode badge says PAPER");
  assert.match(text, /Paper trading: simulated money, no real orders\./);
  await s.byRole("button", "Start a paper copy");
  await shot("01-copies-empty");
  await checkAccessibility("Copies, empty");
});

e2e("the wizard: paper account, a demo leader, Smart Sync 1,000 USDT, stop loss 20 % → the copy runs", async () => {
  // The simulator's address, as the Settings screen shows it.
  await s.clickRole("button", "Settings");
  const settingsText = await s.waitPage(/Paper simulator\s+running at (http:\/\/\S+)/);
  flow.endpoint = /running at (http:\/\/\S+)/.exec(settingsText)[1];
  await s.clickRole("button", "Copies");

  await s.clickRole("button", "Start a paper copy");
  assert.equal(await heading2(), "Step 1 of 5: Account");
  assert.equal(await nextEnabled(), false, "Next waits for the account check");
  await s.waitPage(/Check the paper account first\./);
  await s.clickRole("button", "Check the paper account");
  await s.waitPage(/Key check for paper: passed/);
  await shot("02-wizard-account");
  await checkAccessibility("wizard, Account");
  await s.clickRole("button", "Next");

  assert.equal(await heading2(), "Step 2 of 5: Leader");
  await s.waitPage(/Pick a leader to copy\./);
  assert.equal(await nextEnabled(), false, "Next waits for a leader");
  // Demo leaders' figures come from the paper simulator in-process: the first list has them.
  await s.byRole("button", /^Choose /, 30000);
  assert.doesNotMatch(await s.pageText(), /Reading this leader's history/, "no demo leader waits for its figures");
  flow.leaderName = await s.exec(() => {
    const card = Array.from(document.querySelectorAll("article")).find((a) => /\bdemo\b/.test(a.querySelector(".source")?.textContent ?? ""));
    return card ? card.getAttribute("aria-label") : null;
  });
  assert.ok(flow.leaderName, "a demo leader is listed");
  await s.clickRole("button", `Choose ${flow.leaderName}`);
  // The detail reads the leader's positions; its figures are there already.
  await s.byRole("heading", `${flow.leaderName}: last 30 days`, 30000);
  await s.waitPage(/Current positions/);
  const chart = await chartPixels();
  assert.ok(chart.n > 1000, `the equity chart is drawn (non-background pixels on its canvas): ${JSON.stringify(chart)}`);
  await shot("03-wizard-leader");
  await checkAccessibility("wizard, Leader");
  await s.clickRole("button", "Next");

  assert.equal(await heading2(), "Step 3 of 5: Mode");
  // Wrong inputs: each gets the core's message under the field, and Next stays disabled.
  await s.fill("Investment", "50");
  await waitFieldError("Investment", /100/);
  assert.equal(await nextEnabled(), false, "Next is disabled below the minimum");
  await s.fill("Investment", "abc");
  await waitFieldError("Investment", /number/i);
  await s.fill("Investment", "0");
  await waitFieldError("Investment", /.+/);
  await s.fill("Investment", "1000");
  await s.waitPage(/of the leader's last \d+ opens would have been skipped/);
  await shot("04-wizard-mode");
  await checkAccessibility("wizard, Mode");
  const deadline = Date.now() + 15000;
  while (!(await nextEnabled()) && Date.now() < deadline) await sleep(200);
  await s.clickRole("button", "Next");

  await s.waitPage(/Step 4 of 5: Risk/);
  await s.fill("Max leverage", "abc");
  await waitFieldError("Max leverage", /whole number/);
  await s.fill("Max leverage", "5");
  // The message under Max leverage goes once the core accepts 5; the form below it moves up
  // then, so wait for that as a person would before clicking further down.
  await waitNoFieldError("Max leverage");
  await s.click(await s.byRole("checkbox", /Stop the copy when its loss reaches a limit/));
  await s.fill("Stop loss", "20");
  // Back keeps the values.
  await s.clickRole("button", "Back");
  assert.equal(await heading2(), "Step 3 of 5: Mode");
  assert.equal(await s.value("Investment"), "1000", "Back keeps the investment");
  while (!(await nextEnabled())) await sleep(200);
  await s.clickRole("button", "Next");
  await s.waitPage(/Step 4 of 5: Risk/);
  assert.equal(await s.value("Stop loss"), "20", "the stop loss survived Back and Next");
  assert.equal(await s.value("Max leverage"), "5");
  await s.waitPage(/would hold 10\.0 % of the account's capital/);
  await shot("05-wizard-risk");
  await checkAccessibility("wizard, Risk");
  while (!(await nextEnabled())) await sleep(200);
  await s.clickRole("button", "Next");

  await s.waitPage(/Step 5 of 5: Review/);
  const review = await s.pageText();
  assert.match(review, /Smart Sync/);
  assert.match(review, /1,000 USDT/);
  assert.match(review, /20 % of the investment/);
  // An empty name is refused with its reason beside the button.
  flow.copyName = await s.value("Copy name");
  await s.fill("Copy name", "");
  await s.waitPage(/Name the copy\./);
  await s.fill("Copy name", flow.copyName);
  await shot("06-wizard-review");
  await checkAccessibility("wizard, Review");
  await s.clickRole("button", `Start copying ${flow.leaderName} on paper with 1,000 USDT`);

  // Starting reads both accounts and reconciles before it answers (the button says
  // "Starting…" meanwhile); on a busy machine that takes a while.
  await s.byRole("heading", "Copies", 120000);
  await s.byRole("article", `Copy ${flow.copyName}`);
  await s.waitPage(new RegExp(`${flow.copyName}[\\s\\S]*running`));
  await shot("07-copies-running");
  await checkAccessibility("Copies, one copy");
});

e2e("a leader's open is copied with exactly the Smart Sync quantity, and copydesk status sees it", async () => {
  assert.ok(token, "scripts/e2e.sh sets COPYDESK_TEST_ADMIN_TOKEN");
  assert.ok(flow.copyName && flow.endpoint, "the wizard test ran first");
  const sim = new Sim(flow.endpoint, token);
  const leaders = await sim.admin("GET", "/admin/v1/demo-leaders");
  const leader = leaders.find((l) => l.label === flow.leaderName);
  assert.ok(leader, `the simulator knows the demo leader ${flow.leaderName}: ${JSON.stringify(leaders.map((l) => l.label))}`);

  // ADAUSDT: no demo leader trades it, so this is an open. Its step is 1 ADA.
  const symbol = "ADAUSDT";
  const step = "1";
  await sim.admin("POST", "/admin/v1/prices", { symbol, price: "10" });
  await sim.signed(leader, "POST", "/fapi/v1/leverage", { symbol, leverage: "5" });
  // The leader's equity just before its open: wallet + unrealized PnL over USDT and USDC.
  const acct = await sim.signed(leader, "GET", "/fapi/v3/account");
  const equity = acct.assets
    .filter((a) => a.asset === "USDT" || a.asset === "USDC")
    .reduce((sum, a) => addDec(sum, addDec(a.walletBalance, a.unrealizedProfit)), "0");
  // 20.5 ADA per 1,000 USDT of investment at this equity: mid-step, so the expectation
  // holds while the demo leader's other positions move its equity by up to ±2 %.
  const leaderQty = ((scaled(equity) * 205n) / 10000n / 10n ** 18n).toString();
  const order = await sim.signed(leader, "POST", "/fapi/v1/order", { symbol, side: "BUY", type: "MARKET", quantity: leaderQty });
  assert.ok(order.orderId, `the leader's order was accepted: ${JSON.stringify(order)}`);
  const expected = smartSyncQty(leaderQty, "1000", equity, step);

  // The copied position appears in the copy's detail.
  await s.clickRole("button", "Copies");
  await s.clickRole("button", `Details of ${flow.copyName}`);
  const table = await s.byRole("table", `Positions of ${flow.copyName}`, 60000);
  const row = await s.exec((t, sym) => Array.from(t.querySelectorAll("tbody tr")).map((r) => r.innerText).find((x) => x.includes(sym)) ?? null, { "element-6066-11e4-a52e-4f735466cecf": table }, symbol);
  assert.ok(row, `a ${symbol} row is on the card`);
  const cells = row.split(/\t|\n/).map((c) => c.trim()).filter(Boolean);
  assert.equal(normal(cells[3]), normal(expected), `the follower holds floor_step(${leaderQty} × 1000 / ${equity}) = ${expected} ${symbol}: ${row}`);
  await shot("08-copy-position");

  // copydesk status --json on the same data directory shows the same copy and position.
  assert.ok(cli, "scripts/e2e.sh sets COPYDESK_CLI_BIN");
  const { stdout } = await promisify(execFile)(cli, ["status", "--json"], { env: process.env });
  const status = JSON.parse(stdout);
  const copy = status.copies.find((c) => c.copy.name === flow.copyName);
  assert.ok(copy, `copydesk status lists ${flow.copyName}: ${stdout.slice(0, 500)}`);
  assert.equal(copy.copy.settings.investment, "1000");
  const pos = copy.positions.find((p) => p.symbol === symbol);
  assert.ok(pos, `copydesk status shows the ${symbol} position`);
  assert.equal(normal(pos.followerQty), normal(expected));
});

e2e("a key that can withdraw is refused in the Account step, with the reason and the fix", async () => {
  assert.ok(token && flow.endpoint);
  const sim = new Sim(flow.endpoint, token);
  const keys = await sim.admin("POST", "/admin/v1/accounts", {
    balances: { USDT: "5000" },
    permissions: { futures: true, withdrawals: true, ipRestricted: true },
    label: "can-withdraw",
  });
  await s.clickRole("button", "Copies");
  await s.clickRole("button", "New copy");
  assert.equal(await heading2(), "Step 1 of 5: Account");
  await s.click(await s.byRole("checkbox", /Advanced/));
  await s.click(await s.byRole("radio", /Custom endpoint/));
  // Saving with nothing typed: the core names the field.
  await s.clickRole("button", "Save and check the key");
  await s.waitPage(/Account name[\s\S]*\S/);
  await s.fill("Account name", "can-withdraw");
  await s.fill("Endpoint URL", flow.endpoint);
  await s.fill("API key", keys.apiKey);
  await s.fill("API secret", keys.secretKey);
  await s.clickRole("button", "Save and check the key");
  const text = await s.waitPage(/Key check for can-withdraw: failed/);
  assert.match(text, /Withdrawals disabled[\s\S]*failed|failed[\s\S]*Withdrawals disabled/);
  assert.match(text, /What to do:/);
  assert.match(text, /The key check failed:/);
  assert.equal(await nextEnabled(), false, "a key that can withdraw is refused");
  assert.ok(!text.includes(keys.secretKey), "the secret is never shown");
  await s.exec(() => document.getElementById("keycheck-heading")?.scrollIntoView({ block: "start" }));
  await shot("09-account-withdrawals-refused");
  await checkAccessibility("wizard, refused key");
});

e2e("an account leader is added from its read-only key and listed with its figures", async () => {
  assert.ok(token && flow.endpoint);
  const sim = new Sim(flow.endpoint, token);
  const ro = await sim.admin("POST", "/admin/v1/accounts", {
    balances: { USDT: "5000" },
    permissions: { futures: true, trading: false, withdrawals: false, ipRestricted: true },
    label: "read-only-leader",
  });
  await s.clickRole("button", "Leaders");
  await s.byRole("heading", "Leaders");
  await s.clickRole("button", "Add an account leader…");
  await s.click(await s.byRole("radio", /Custom endpoint/));
  await s.fill("Leader endpoint URL", flow.endpoint);
  await s.fill("Leader name", "fund");
  await s.fill("Leader API key", ro.apiKey);
  await s.fill("Leader API secret", ro.secretKey);
  await s.clickRole("button", "Check the key and add the leader");
  const text = await s.waitPage(/Leader fund added/, 60000);
  assert.match(text, /Key check for fund: passed/);
  assert.match(text, /Read-only\s+the key is read-only/);
  assert.match(text, /futures equity 5,000 USDT, 5,000 USDT available/, "the balance is formatted");
  assert.ok(!text.includes(ro.secretKey) && !text.includes(ro.apiKey), "the key and secret are never shown");
  await s.byRole("article", "fund");
  // The detail waits for the leader's history, read at low priority through the shared
  // limiter (the card says so until the core's leader_figures event lists it again).
  await s.byRole("heading", "fund: last 30 days", 120000);
  // The detail's own range switch: figures and chart for 7 days, then back to 30.
  const range = (d) => s.exec((v) => document.querySelector(`input[name="leader-detail-range"][value="${v}"]`)?.click(), d);
  await range(7);
  await s.byRole("heading", "fund: last 7 days");
  await s.waitPage(/fund's equity over the last 7 days from [\d,.]+ USDT to [\d,.]+ USDT over 8 points/);
  await range(30);
  await s.byRole("heading", "fund: last 30 days");
  await shot("16-leaders-account-leader");
  await checkAccessibility("Leaders, account leader added");
});

e2e("a public portfolio is found by its page address, read before it can be chosen, with its copy delay", async () => {
  assert.ok(token && flow.endpoint);
  const sim = new Sim(flow.endpoint, token);
  // A lead portfolio on the simulator's copy-trading pages, reached as a custom source.
  const lead = await sim.admin("POST", "/admin/v1/accounts", { balances: { USDT: "8000" }, leadPortfolio: true, label: "e2e-whale" });
  const pid = `38${lead.accountId.replace("acc-", "").padStart(17, "0")}`;
  await s.clickRole("button", "Leaders");
  await s.byRole("heading", "Leaders");
  await s.clickRole("button", "Find a public portfolio…");
  await s.waitPage(/copies follow seconds after the leader, not milliseconds/);
  await s.click(await s.byRole("radio", /Custom source/));
  await s.fill("Source address", flow.endpoint);
  // A typo is refused under its field, with where the id is.
  await s.fill("Portfolio id or page address", "38x1");
  await s.clickRole("button", "Read the portfolio");
  await waitFieldError("Portfolio id or page address", /digits only[\s\S]*lead-details/);
  await s.fill("Portfolio id or page address", `https://www.binance.com/en/copy-trading/lead-details/${pid}?timeRange=30D`);
  await s.clickRole("button", "Read the portfolio");
  await s.waitPage(/e2e-whale \(public portfolio\) found and chosen: copy delay ~\d+ s, polled/, 60000);
  await s.byRole("article", "e2e-whale (public portfolio)");
  await checkAccessibility("Leaders, public portfolio found");
});

function addDec(a, b) {
  const [x, y] = [String(a), String(b)];
  const places = Math.max((x.split(".")[1] ?? "").length, (y.split(".")[1] ?? "").length);
  const toInt = (s) => {
    const neg = s.startsWith("-");
    const [i, f = ""] = s.replace("-", "").split(".");
    const v = BigInt(i + f.padEnd(places, "0"));
    return neg ? -v : v;
  };
  const sum = toInt(x) + toInt(y);
  const neg = sum < 0n;
  const digits = (neg ? -sum : sum).toString().padStart(places + 1, "0");
  const out = places ? `${digits.slice(0, -places)}.${digits.slice(-places)}` : digits;
  return (neg ? "-" : "") + out;
}

/** "20.000" and "20" are the same quantity. */
function normal(q) {
  const t = String(q).replace(/,/g, "").trim();
  return t.includes(".") ? t.replace(/\.?0+$/, "") : t;
}

e2e("the window opens as large and where it was left", async () => {
  await s.cmd("POST", "/window/rect", { x: 40, y: 30, width: 1100, height: 740 });
  const before = await s.cmd("GET", "/window/rect");
  await s.end();
  // The same data directory: the app starts again, as after a quit.
  s = await Session.start(driver, app);
  await s.byRole("heading", "Copies", 60000);
  const again = await s.cmd("GET", "/window/rect");
  assert.deepEqual(
    { x: again.x, y: again.y, width: again.width, height: again.height },
    { x: before.x, y: before.y, width: before.width, height: before.height },
    "the window keeps its size and position across starts",
  );
  await s.byRole("article", `Copy ${flow.copyName}`);
});
