// The installed package, driven through tauri-driver: one version everywhere (About info,
// CLI, package) and start at login. Run by scripts/e2e.sh on the app unpacked from the
// debug .deb, with a private XDG_CONFIG_HOME.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { Session } from "./webdriver.mjs";

const app = process.env.COPYDESK_APP_BIN;
const cli = process.env.COPYDESK_CLI_BIN;
const driver = process.env.WEBDRIVER_URL;
const packageVersion = process.env.COPYDESK_PACKAGE_VERSION;
const configHome = process.env.XDG_CONFIG_HOME;

let session;

before(async () => {
  assert.ok(
    app && cli && driver && packageVersion && configHome,
    "run through scripts/e2e.sh (COPYDESK_APP_BIN, COPYDESK_CLI_BIN, WEBDRIVER_URL, COPYDESK_PACKAGE_VERSION, XDG_CONFIG_HOME)",
  );
  session = await Session.start(driver, app);
  await session.find("h1");
});

after(async () => {
  if (session) await session.end();
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

test("About info, copydesk --version and the package name one version", async () => {
  const info = await invoke("app_info");
  const cliVersion = execFileSync(cli, ["--version"], { encoding: "utf8" }).trim();
  assert.equal(info.version, packageVersion, "the app's About version is the package's");
  assert.equal(cliVersion, `copydesk ${packageVersion}`, "the CLI's version is the package's");
});

test("start at login is off by default; turning it on writes a minimised-start entry under XDG_CONFIG_HOME", async () => {
  const entry = join(configHome, "autostart", "copydesk-app.desktop");
  assert.equal(await invoke("autostart_enabled"), false, "off until the user turns it on");
  assert.ok(!existsSync(entry), `no entry before turning it on: ${entry}`);

  assert.equal(await invoke("autostart_set", { enabled: true }), true);
  const text = readFileSync(entry, "utf8");
  assert.ok(
    text.split("\n").includes(`Exec=${app} --minimized`),
    `the entry starts this app minimised:\n${text}`,
  );
  assert.equal(await invoke("autostart_enabled"), true);

  assert.equal(await invoke("autostart_set", { enabled: false }), false);
  assert.ok(!existsSync(entry), "turning it off removes the entry");
});
