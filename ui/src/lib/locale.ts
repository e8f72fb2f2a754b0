// The locale handed to libraries that format with `Intl` themselves (lightweight-charts).
// A POSIX environment with LANG=C gives the web view `navigator.language === "C"`, which
// `Intl` refuses with a RangeError: the chart then throws while painting and stays blank.

/** `lang` when `Intl` accepts it as a language tag, else `en-US`. */
export function chartLocale(lang: string | undefined = globalThis.navigator?.language): string {
  try {
    return (lang && Intl.getCanonicalLocales(lang)[0]) || "en-US";
  } catch {
    return "en-US";
  }
}

/** The same, under the name the leader screens use. */
export const safeLocale = chartLocale;
