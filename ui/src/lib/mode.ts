// Which money the top bar names: LIVE only when real money is in play. A read-only key
// held for a leader trades nothing, so an account that only leads never makes the app
// live (the core's `appInfo.mode` says the same at start; this follows the copies and
// accounts as they change, without asking the core again).

import type { AccountDto, AppInfo, CopyStatusDto, LeaderDto } from "./types";

export type MoneyFacts = {
  info: AppInfo | null;
  /** `null` while not read yet (as `leaders`). */
  accounts: AccountDto[] | null;
  leaders: LeaderDto[] | null;
  copies: CopyStatusDto[] | null;
};

/** Whether the app is trading real money now:
 * - a copy that has not stopped decides: live when one follows a real account, paper when
 *   every one follows a paper account;
 * - with no such copy, an account that can follow with real money makes it live: a real
 *   account with a key that is not only a leader (an account leader no copy follows with);
 * - before the accounts and leaders are read, the core's word at start (`info.mode`). */
export function isLive({ info, accounts, leaders, copies }: MoneyFacts): boolean {
  const running = (copies ?? []).filter((c) => c.copy.state !== "stopped");
  if (running.length > 0) return running.some((c) => !c.copy.paper);
  if (accounts === null || leaders === null) return info?.mode === "live";
  const followers = new Set((copies ?? []).map((c) => c.copy.follower));
  const leadOnly = new Set(
    (leaders ?? []).filter((l) => l.source === "account" && !followers.has(l.id)).map((l) => l.id),
  );
  return accounts.some((a) => !a.paper && a.keyHint !== null && !leadOnly.has(a.name));
}
