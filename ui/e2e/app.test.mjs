// The real app window, driven through tauri-driver. Run by scripts/e2e.sh, which builds
// the app with its UI embedded and starts Xvfb and tauri-driver.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { Session } from "./webdriver.mjs";

const app = process.env.COPYDESK_APP_BIN;
const driver = process.env.WEBDRIVER_URL;
const out = process.env.E2E_OUT ?? ".";

let session;

before(async () => {
  assert.ok(app && driver, "run through scripts/e2e.sh (COPYDESK_APP_BIN, WEBDRIVER_URL)");
  session = await Session.start(driver, app);
});

after(async () => {
  if (session) await session.end().catch(() => {});
});

test("the window shows the CopyDesk heading", async () => {
  const heading = await session.find("h1");
  assert.equal(await session.text(heading), "CopyDesk");
});

test("the UI reaches the core through IPC and reports paper mode", async () => {
  const status = await session.waitText("[data-testid=status]", (t) => t.includes("Paper mode"));
  assert.match(status, /^Paper mode · version \d+\.\d+\.\d+/);
  // Let the last DOM change paint before the picture is taken.
  await new Promise((r) => setTimeout(r, 300));
  const png = await session.screenshot();
  await writeFile(`${out}/main-window.png`, Buffer.from(png, "base64"));
});
