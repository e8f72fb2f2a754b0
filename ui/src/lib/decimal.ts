// Decimal strings from the core, read and shown exactly (no floating point): formatting with
// thousands separators and signs, and the few comparisons the UI makes to help the user
// (sums of investments, the 5 % warning). The core decides; these only inform.

const SCALE = 18;
const ONE = 10n ** BigInt(SCALE);
const DECIMAL = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** True when `s` is a plain decimal number ("1000", "-0.5", "12.000"). */
export function isDecimal(s: string | null | undefined): s is string {
  return typeof s === "string" && DECIMAL.test(s.trim());
}

/** The value scaled by 10^18, or null when `s` is not a decimal (extra digits are cut). */
export function toScaled(s: string | null | undefined): bigint | null {
  if (!isDecimal(s)) return null;
  const m = DECIMAL.exec(s.trim())!;
  const frac = (m[3] ?? "").slice(0, SCALE).padEnd(SCALE, "0");
  const v = BigInt(m[2]) * ONE + BigInt(frac);
  return m[1] === "-" ? -v : v;
}

/** A scaled value back to a decimal string without trailing zeros. */
export function fromScaled(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = a / ONE;
  const frac = (a % ONE).toString().padStart(SCALE, "0").replace(/0+$/, "");
  return `${neg ? "-" : ""}${int}${frac ? "." + frac : ""}`;
}

export function add(a: string, b: string): string {
  return fromScaled((toScaled(a) ?? 0n) + (toScaled(b) ?? 0n));
}

/** -1, 0 or 1; null when either side is not a decimal. */
export function compare(a: string | null, b: string | null): number | null {
  const x = toScaled(a);
  const y = toScaled(b);
  if (x === null || y === null) return null;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** `part / whole × 100`, rounded to `dp` places, or null without a positive whole. */
export function percentOf(part: string, whole: string, dp = 1): string | null {
  const p = toScaled(part);
  const w = toScaled(whole);
  if (p === null || w === null || w <= 0n) return null;
  const unit = 10n ** BigInt(dp);
  const x = (p * 100n * unit * 2n + w) / (w * 2n); // round half up
  return fromScaledDp(x, dp);
}

function fromScaledDp(x: bigint, dp: number): string {
  const neg = x < 0n;
  const a = neg ? -x : x;
  const unit = 10n ** BigInt(dp);
  const int = a / unit;
  const frac = dp > 0 ? "." + (a % unit).toString().padStart(dp, "0") : "";
  return `${neg ? "-" : ""}${int}${frac}`;
}

/** Rounds a decimal string half-up to `dp` places (exactly). */
export function round(s: string, dp: number): string | null {
  const v = toScaled(s);
  if (v === null) return null;
  const div = 10n ** BigInt(SCALE - dp);
  const half = div / 2n;
  const r = v < 0n ? -((-v + half) / div) : (v + half) / div;
  return fromScaledDp(r, dp);
}

/** Thousands separators on the integer part ("1234567.5" → "1,234,567.5"); a minus sign is
 * the typographic "−". Returns the input unchanged when it is not a decimal. */
export function group(s: string): string {
  if (!isDecimal(s)) return s;
  const m = DECIMAL.exec(s.trim())!;
  const int = m[2].replace(/^0+(?=\d)/, "").replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const sign = m[1] === "-" ? "−" : "";
  return `${sign}${int}${m[3] !== undefined ? "." + m[3] : ""}`;
}

/** A money amount: grouped, at most `dp` decimals, with its asset ("1,000 USDT"). */
export function money(s: string | null, asset = "USDT", dp = 2): string {
  if (s === null || !isDecimal(s)) return "—";
  const r = round(s, dp)!;
  const trimmed = r.includes(".") ? r.replace(/\.?0+$/, "") : r;
  return `${group(trimmed)} ${asset}`.trim();
}

/** A signed amount for PnL: "+12.50" / "−3.10" (never colour alone). */
export function signed(s: string | null, dp = 2): string {
  if (s === null || !isDecimal(s)) return "—";
  const r = round(s, dp)!;
  const v = toScaled(r)!;
  if (v === 0n) return group(r.replace(/^-/, ""));
  return v > 0n ? `+${group(r)}` : group(r);
}

/** The sign of a decimal: 1, 0, -1; 0 for anything that is not a decimal. */
export function sign(s: string | null): number {
  const v = toScaled(s);
  if (v === null || v === 0n) return 0;
  return v > 0n ? 1 : -1;
}

/** A number for display: rounded to `dp` places, thousands separated, a minus as "−"
 * ("−11.51", "1,234.50"); "—" when there is none. Every figure on screen goes through
 * this (or `money`, `signed`, `pct`), never through `round` alone, whose ASCII "-" is
 * for computing. */
export function num(s: string | null | undefined, dp = 2): string {
  if (s == null || !isDecimal(s)) return "—";
  const r = round(s, dp)!;
  return group(toScaled(r) === 0n ? r.replace(/^-/, "") : r);
}

/** A percentage for display ("44.00 %", "−8.54 %"); "—" when there is none. */
export function pct(s: string | null | undefined, dp = 2): string {
  const n = num(s, dp);
  return n === "—" ? n : `${n} %`;
}

/** A signed percentage ("+2.65 %", "−8.54 %"): the sign in text, never colour alone. */
export function signedPct(s: string | null | undefined, dp = 2): string {
  if (s == null || !isDecimal(s)) return "—";
  return `${signed(s, dp)} %`;
}

/** A duration in milliseconds, in the largest unit that fits ("45 min", "3.5 h", "2.1 d"). */
export function duration(ms: number | null | undefined): string {
  if (ms == null || !Number.isFinite(ms) || ms < 0) return "—";
  const min = ms / 60_000;
  if (min < 60) return `${Math.round(min)} min`;
  const h = min / 60;
  if (h < 24) return `${num(h.toFixed(1), 1)} h`;
  return `${num((h / 24).toFixed(1), 1)} d`;
}

/** A price or quantity with its symbol's precision: exactly `dp` decimals, grouped
 * ("50,000.5" with dp 2 → "50,000.50"); without a known precision, the string as the core
 * sent it, grouped. */
export function precise(s: string | null, dp: number | null): string {
  if (s === null || !isDecimal(s)) return "—";
  return group(dp === null ? s : round(s, dp)!);
}

/** `a − b`, exactly. */
export function sub(a: string, b: string): string {
  return fromScaled((toScaled(a) ?? 0n) - (toScaled(b) ?? 0n));
}
