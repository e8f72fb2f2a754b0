// How long ago something happened, in words for the screens ("updated 4 s ago"). The
// clock is passed in (one 1 s tick per screen), so tests set it and nothing polls.

/** "just now", "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "—" for an unknown time. */
export function ago(thenMs: number | null | undefined, nowMs: number): string {
  if (thenMs == null || !Number.isFinite(thenMs)) return "—";
  const s = Math.max(0, Math.floor((nowMs - thenMs) / 1000));
  if (s < 1) return "just now";
  if (s < 60) return `${s} s ago`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}
