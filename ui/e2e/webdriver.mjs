// A minimal W3C WebDriver client over fetch: just what the end-to-end tests use. Controls
// are found the way a person finds them: by role and accessible name (`byRole`).

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

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
    return this.#retry(`no element matches ${css}`, timeoutMs, async () => {
      const el = await this.cmd("POST", "/element", { using: "css selector", value: css });
      return elementId(el);
    });
  }

  /** Runs `fn(...args)` in the page; DOM elements in the answer come back as element ids. */
  async exec(fn, ...args) {
    const value = await this.cmd("POST", "/execute/sync", { script: `return (${fn}).apply(null, arguments)`, args });
    return unwrap(value);
  }

  /** Like `exec`, for a function that returns a promise. */
  async execAsync(fn, ...args) {
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve((${fn}).apply(null, Array.prototype.slice.call(arguments, 0, -1)))
        .then((v) => done({ ok: v }), (e) => done({ err: String(e && e.stack || e) }));`;
    const r = await this.cmd("POST", "/execute/async", { script, args });
    if (r.err) throw new Error(r.err);
    return unwrap(r.ok);
  }

  /** The element with this ARIA role whose accessible name equals `name` (a string) or
   * matches it (a RegExp); waits for it. */
  async byRole(role, name, timeoutMs = 20000) {
    const pattern = name instanceof RegExp ? { source: name.source, flags: name.flags } : { exact: name };
    return this.#retry(`no ${role} named ${name}`, timeoutMs, async () => {
      const id = await this.exec(FIND_BY_ROLE, role, pattern);
      if (!id) throw new Error("not yet");
      return id;
    });
  }

  /** The form control labelled `label` (any role). */
  byLabel(label, timeoutMs) {
    return this.byRole("control", label, timeoutMs);
  }

  async click(elementId) {
    // Centre it first, as a person scrolls to what they click: the wizard's sticky footer
    // would otherwise cover a control at the bottom edge.
    await this.exec((el) => el.scrollIntoView({ block: "center" }), { [ELEMENT]: elementId });
    await this.cmd("POST", `/element/${elementId}/click`, {});
  }

  async clickRole(role, name) {
    await this.click(await this.byRole(role, name));
  }

  /** Replaces what the field holds with `text`, typed like a person would. */
  async fill(label, text) {
    const id = await this.byLabel(label);
    // Select all and delete, as keys: WebDriver's element clear fires no input event, so
    // the page would not see a field emptied that way.
    await this.cmd("POST", `/element/${id}/value`, { text: "\uE009a\uE000\uE003" });
    if (text !== "") await this.cmd("POST", `/element/${id}/value`, { text });
    // Leaving the field is what the app checks on (blur); Tab is what a person presses.
    await this.cmd("POST", `/element/${id}/value`, { text: "\uE004" });
  }

  async value(label) {
    const id = await this.byLabel(label);
    return this.cmd("GET", `/element/${id}/property/value`);
  }

  async enabled(elementId) {
    return this.cmd("GET", `/element/${elementId}/enabled`);
  }

  text(elementId) {
    return this.cmd("GET", `/element/${elementId}/text`);
  }

  /** The visible text of the whole page. */
  pageText() {
    return this.exec(() => document.body.innerText);
  }

  /** Waits until the page's text satisfies `pred` (a RegExp or a function). */
  async waitPage(pred, timeoutMs = 30000) {
    const test = pred instanceof RegExp ? (t) => pred.test(t) : pred;
    let last = "";
    return this.#retry(`page text never matched ${pred}`, timeoutMs, async () => {
      last = await this.pageText();
      if (!test(last)) throw new Error(`last text: ${last.slice(0, 2000)}`);
      return last;
    });
  }

  /** Waits until the element's text satisfies `pred`; returns the text. */
  async waitText(css, pred, timeoutMs = 20000) {
    let text = "";
    return this.#retry(`text of ${css} never matched`, timeoutMs, async () => {
      text = await this.text(await this.find(css, timeoutMs));
      if (!pred(text)) throw new Error(`last: ${JSON.stringify(text)}`);
      return text;
    });
  }

  /** The window's picture. The app renders without accelerated compositing
   * (docs/desktop.md, "WebKit rendering"), and there WebKitGTK's screenshot waits for the
   * page's next paint, which an idle page never makes: a 1-pixel, near-transparent mark
   * flickers in a corner while the picture is taken, then goes. */
  async screenshot() {
    await this.restPointer();
    await this.exec(PAINT_TICKER_START);
    try {
      return await this.cmd("GET", "/screenshot");
    } finally {
      await this.exec(PAINT_TICKER_STOP).catch(() => {});
    }
  }

  /** Moves the mouse pointer to the window's top-left corner (the app's name), as a person
   * moves it aside before taking a picture: a hover-only explanation left open under the
   * pointer by the last click would otherwise cover what the picture is meant to show.
   * Two moves with a duration: WebKit changed its hover state only for a movement it saw,
   * not for a single zero-time jump (the hovered tile stayed hovered). */
  async restPointer() {
    await this.cmd("POST", "/actions", {
      actions: [{ type: "pointer", id: "mouse", parameters: { pointerType: "mouse" }, actions: [
        { type: "pointerMove", duration: 50, origin: "viewport", x: 20, y: 20 },
        { type: "pointerMove", duration: 50, origin: "viewport", x: 2, y: 2 },
      ] }],
    });
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

  async #retry(what, timeoutMs, fn) {
    const deadline = Date.now() + timeoutMs;
    let last;
    while (Date.now() < deadline) {
      try {
        return await fn();
      } catch (e) {
        last = e;
        await sleep(200);
      }
    }
    throw new Error(`${what}: ${last?.message ?? last}`);
  }
}

function elementId(el) {
  // W3C names the key; some drivers still answer with the legacy `ELEMENT`.
  const id = el && (el[ELEMENT] ?? el.ELEMENT);
  if (!id) throw new Error(`unexpected element reply ${JSON.stringify(el)}`);
  return id;
}

function unwrap(v) {
  if (v && typeof v === "object" && (ELEMENT in v || "ELEMENT" in v)) return elementId(v);
  return v;
}

// Runs in the page: the first visible element of `role` whose accessible name matches.
// Names follow the usual rules closely enough for our markup: aria-label, aria-labelledby,
// the <label>s of a control, else the element's text.
const FIND_BY_ROLE = function (role, pattern) {
  const norm = (s) => (s || "").replace(/\s+/g, " ").trim();
  const name = (el) => {
    if (el.getAttribute("aria-label")) return norm(el.getAttribute("aria-label"));
    const by = el.getAttribute("aria-labelledby");
    if (by) return norm(by.split(" ").map((id) => document.getElementById(id)?.textContent || "").join(" "));
    if (el.labels && el.labels.length) return norm(Array.from(el.labels).map((l) => l.textContent).join(" "));
    return norm(el.textContent);
  };
  const selectors = {
    button: "button, [role=button]",
    heading: "h1, h2, h3, h4, h5, h6, [role=heading]",
    article: "article, [role=article]",
    radio: "input[type=radio]",
    checkbox: "input[type=checkbox]",
    textbox: "input:not([type=radio]):not([type=checkbox]), textarea",
    combobox: "select",
    control: "input, select, textarea",
    status: "[role=status]",
    alert: "[role=alert]",
    table: "table",
  };
  const match = pattern.exact !== undefined ? (n) => n === pattern.exact : (n) => new RegExp(pattern.source, pattern.flags).test(n);
  const all = Array.from(document.querySelectorAll(selectors[role] || `[role=${role}]`));
  return all.find((el) => el.getClientRects().length > 0 && match(name(el))) || null;
}.toString();

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

// Keeps the page painting (see `screenshot`): an invisible 1-pixel mark changes every 30 ms.
const PAINT_TICKER_START = () => {
  if (window.__e2ePaintTicker) return;
  const mark = document.createElement("div");
  mark.setAttribute("aria-hidden", "true");
  mark.style.cssText = "position:fixed;left:0;top:0;width:1px;height:1px;pointer-events:none;z-index:2147483647";
  document.documentElement.appendChild(mark);
  let n = 0;
  const timer = setInterval(() => {
    mark.style.opacity = n++ % 2 ? "0.01" : "0.02";
  }, 30);
  window.__e2ePaintTicker = { mark, timer };
};
const PAINT_TICKER_STOP = () => {
  const t = window.__e2ePaintTicker;
  if (!t) return;
  clearInterval(t.timer);
  t.mark.remove();
  delete window.__e2ePaintTicker;
};

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
