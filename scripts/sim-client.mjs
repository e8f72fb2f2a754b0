// A small client of `copydesk sim` for the shell tests (scripts/dpkg-test.sh): creates an
// account through the admin API and trades as an account through signed Binance calls
// (the end-to-end test's helpers, ui/e2e/sim.mjs). Prints JSON on stdout.
//
//   node scripts/sim-client.mjs BASE TOKEN account LABEL USDT
//       → {"apiKey","secretKey"} of a new one-way account funded with USDT
//   node scripts/sim-client.mjs BASE TOKEN order KEYS.json SYMBOL SIDE QTY [LEVERAGE]
//       → the order's reply (a MARKET order; LEVERAGE is set on the symbol first)
import { readFileSync } from "node:fs";
import { Sim } from "../ui/e2e/sim.mjs";

const [base, token, what, ...args] = process.argv.slice(2);
if (!base || !token || !what) {
  console.error("usage: sim-client.mjs BASE TOKEN (account LABEL USDT | order KEYS.json SYMBOL SIDE QTY [LEVERAGE])");
  process.exit(2);
}
const sim = new Sim(base, token);

async function main() {
  if (what === "account") {
    const [label, usdt] = args;
    const keys = await sim.admin("POST", "/admin/v1/accounts", {
      balances: { USDT: usdt },
      permissions: { futures: true, withdrawals: false, ipRestricted: true },
      label,
    });
    return { apiKey: keys.apiKey, secretKey: keys.secretKey };
  }
  if (what === "order") {
    const [keysFile, symbol, side, quantity, leverage] = args;
    const keys = JSON.parse(readFileSync(keysFile, "utf8"));
    if (leverage) await sim.signed(keys, "POST", "/fapi/v1/leverage", { symbol, leverage });
    return sim.signed(keys, "POST", "/fapi/v1/order", { symbol, side, type: "MARKET", quantity });
  }
  throw new Error(`unknown request ${what}`);
}

main().then(
  (out) => console.log(JSON.stringify(out)),
  (e) => {
    console.error(`sim-client: ${e.message}`);
    process.exit(1);
  },
);
