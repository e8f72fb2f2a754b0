// The end-to-end test's hand on the app's embedded simulator: its admin API (with the
// test-build admin token) and signed Binance calls as a demo leader, so the test can make a
// leader trade. Decimals stay strings; the one computation (the expected copy size) is exact.
import { createHmac } from "node:crypto";

export class Sim {
  constructor(base, token) {
    this.base = base.replace(/\/$/, "");
    this.token = token;
  }

  async admin(method, path, body) {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { "content-type": "application/json", "x-admin-token": this.token },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  /** A signed USD-M call with an account's key (HMAC-SHA256 over the query string). */
  async signed(keys, method, path, params = {}) {
    const q = new URLSearchParams({ ...params, timestamp: String(Date.now()), recvWindow: "10000" });
    q.set("signature", createHmac("sha256", keys.secretKey).update(q.toString()).digest("hex"));
    const res = await fetch(`${this.base}${path}?${q}`, { method, headers: { "X-MBX-APIKEY": keys.apiKey } });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }
}

const SCALE = 18n;
const ONE = 10n ** SCALE;
/** A decimal string scaled by 10^18 (exact). */
export function scaled(s) {
  const m = /^(-)?(\d+)(?:\.(\d+))?$/.exec(String(s).trim());
  if (!m) throw new Error(`not a decimal: ${s}`);
  const v = BigInt(m[2]) * ONE + BigInt((m[3] ?? "").slice(0, 18).padEnd(18, "0"));
  return m[1] ? -v : v;
}
export function unscaled(v) {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const frac = (a % ONE).toString().padStart(18, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${a / ONE}${frac ? "." + frac : ""}`;
}

/** Smart Sync (copy-rules §2.1): r = margin / equity, m = r × investment, notional = m × L,
 * qty = notional / price rounded down to the step. With the leader's own leverage L (not
 * above max leverage) margin = qty × price / L, so the follower's quantity is
 * floor_step(leaderQty × investment / equity): price and leverage cancel. */
export function smartSyncQty(leaderQty, investment, equity, step) {
  const raw = (scaled(leaderQty) * scaled(investment)) / scaled(equity); // still ×10^18
  const st = scaled(step);
  return unscaled((raw / st) * st);
}
