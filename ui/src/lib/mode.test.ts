import { describe, expect, it } from "vitest";
import { DEMO_LEADERS, demoCopy } from "./mock";
import { isLive } from "./mode";
import type { AccountDto, AppInfo, LeaderDto } from "./types";

const info = (mode: string): AppInfo => ({ name: "CopyDesk", version: "0", mode, dataDir: "/d", paper: { running: true, endpoint: null, account: "paper", balance: null } });
const account = (name: string, paper: boolean, keyHint: string | null = "…abcd"): AccountDto => ({
  name,
  exchange: "binance-usdm",
  environment: paper ? "paper" : "custom",
  endpoint: paper ? null : "http://127.0.0.1:8790",
  keyHint,
  paper,
  createdAtMs: 1,
});
const accountLeader = (id: string): LeaderDto => ({ ...DEMO_LEADERS[0], id, name: id, source: "account" });

describe("isLive", () => {
  it("is not lit by an account that only leads", () => {
    const facts = { info: info("paper"), accounts: [account("paper", true, null), account("fund", false)], leaders: [accountLeader("fund")], copies: [demoCopy("steady")] };
    expect(isLive(facts)).toBe(false);
    expect(isLive({ ...facts, copies: [] })).toBe(false);
  });

  it("is lit by a real account that can follow, when no copy runs", () => {
    const facts = { info: info("paper"), accounts: [account("main", false)], leaders: [accountLeader("fund")], copies: [] };
    expect(isLive(facts)).toBe(true);
    // Without a key it cannot trade.
    expect(isLive({ ...facts, accounts: [account("main", false, null)] })).toBe(false);
  });

  it("follows the running copies: paper when every one is paper, live when one follows a real account", () => {
    const accounts = [account("main", false), account("fund", false)];
    const leaders = [accountLeader("fund")];
    expect(isLive({ info: info("live"), accounts, leaders, copies: [demoCopy("a")] })).toBe(false);
    expect(isLive({ info: info("paper"), accounts, leaders, copies: [demoCopy("a"), demoCopy("b", { follower: "main", paper: false })] })).toBe(true);
    // A stopped live copy trades nothing.
    expect(isLive({ info: info("paper"), accounts: [account("fund", false)], leaders, copies: [demoCopy("b", { follower: "main", paper: false, state: "stopped" })] })).toBe(false);
  });

  it("a leader that a copy follows with is not only a leader", () => {
    const copies = [demoCopy("b", { follower: "fund", paper: false, state: "stopped" })];
    expect(isLive({ info: info("paper"), accounts: [account("fund", false)], leaders: [accountLeader("fund")], copies })).toBe(true);
  });

  it("takes the core's word until the accounts and leaders are read", () => {
    expect(isLive({ info: info("live"), accounts: null, leaders: null, copies: null })).toBe(true);
    expect(isLive({ info: info("paper"), accounts: [account("main", false)], leaders: null, copies: null })).toBe(false);
    expect(isLive({ info: null, accounts: null, leaders: null, copies: null })).toBe(false);
  });
});
