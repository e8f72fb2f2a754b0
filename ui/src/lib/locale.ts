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

/** Time-scale options for lightweight-charts that keep the first and last time labels
 * inside the axis. The chart centres a label on its point; with `fitContent` the first
 * point sits at the left edge, so its label ("Sep") lost its first letters ("ep"). With
 * both edges fixed the chart moves an edge label inward by the part that would overflow
 * (and the user cannot scroll past the data, which these charts never need). */
export const EDGE_LABELS_INSIDE = { fixLeftEdge: true, fixRightEdge: true } as const;
