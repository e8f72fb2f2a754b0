// The 7 / 30 / 90-day ranges leader figures come in, and a range's slice of a daily
// equity curve (the core sends 91 daily points: the last 90 days and today).

export type RangeDays = 7 | 30 | 90;
export const RANGES: readonly RangeDays[] = [7, 30, 90];

const DAY_MS = 86_400_000;

/** The points of `points` inside the last `days` days, counted back from the newest
 * point: a window of d days has d + 1 daily points (its start and each day's end). The
 * result is oldest first, whatever the order given. */
export function curveForDays<P extends { tsMs: number }>(points: readonly P[], days: number): P[] {
  const ordered = points.slice().sort((a, b) => a.tsMs - b.tsMs);
  if (ordered.length === 0) return ordered;
  const start = ordered[ordered.length - 1].tsMs - days * DAY_MS;
  return ordered.filter((p) => p.tsMs >= start);
}
