// The locale tag handed to code that formats with `Intl` explicitly (the equity chart's
// time axis). WebKitGTK reports the process locale as `navigator.language`, which is "C"
// under a bare `LANG=C` (servers, containers, the end-to-end run): not a language tag, so
// `Intl` throws and lightweight-charts stops drawing. An invalid tag falls back to en-US.

/** `tag` (default: the web view's language) if `Intl` accepts it, else "en-US". */
export function safeLocale(tag: string | undefined = globalThis.navigator?.language): string {
  if (!tag) return "en-US";
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? "en-US";
  } catch {
    return "en-US";
  }
}
