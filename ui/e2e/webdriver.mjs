// A minimal W3C WebDriver client over fetch: just what the end-to-end tests use.

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

export class Session {
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  static async start(base, application) {
    const res = await request(base, "POST", "/session", {
      capabilities: {
        alwaysMatch: { browserName: "wry", "tauri:options": { application } },
      },
    });
    return new Session(base, res.sessionId);
  }

  cmd(method, path, body) {
    return request(this.base, method, `/session/${this.id}${path}`, body);
  }

  /** Waits until `css` matches an element, then returns its id. */
  async find(css, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        const el = await this.cmd("POST", "/element", { using: "css selector", value: css });
        // W3C names the key; some drivers still answer with the legacy `ELEMENT`.
        const id = el[ELEMENT] ?? el.ELEMENT;
        if (!id) throw new Error(`unexpected element reply ${JSON.stringify(el)}`);
        return id;
      } catch (e) {
        last = e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    throw new Error(`no element matches ${css}: ${last}`);
  }

  text(elementId) {
    return this.cmd("GET", `/element/${elementId}/text`);
  }

  /** Waits until the element's text satisfies `pred`; returns the text. */
  async waitText(css, pred, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    while (Date.now() < deadline) {
      text = await this.text(await this.find(css, timeoutMs));
      if (pred(text)) return text;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`text of ${css} never matched; last: ${JSON.stringify(text)}`);
  }

  screenshot() {
    return this.cmd("GET", "/screenshot");
  }

  /** Ends the session, then waits until the app process is gone (a leftover instance
   * would swallow the next launch: it takes the next session's window). */
  async end(timeoutMs = 20000) {
    await request(this.base, "DELETE", `/session/${this.id}`);
    const app = process.env.COPYDESK_APP_BIN;
    if (!app) return;
    const deadline = Date.now() + timeoutMs;
    let left = await appPids(app);
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      left = await appPids(app);
    }
    if (left.length > 0) throw new Error(`the app outlived its session: pids ${left.join(", ")}`);
  }
}

/** Pids of running processes whose executable is `exe` (Linux /proc). */
export async function appPids(exe) {
  const { readdir, readlink } = await import("node:fs/promises");
  const pids = [];
  for (const name of await readdir("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    const target = await readlink(`/proc/${name}/exe`).catch(() => null);
    if (target === exe) pids.push(Number(name));
  }
  return pids;
}

async function request(base, method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await res.json().catch(() => ({}));
  if (!res.ok || (json.value && json.value.error)) {
    throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json.value ?? json)}`);
  }
  return json.value;
}
