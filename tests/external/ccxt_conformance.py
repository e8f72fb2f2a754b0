"""ccxt's binanceusdm (REST and websocket) against the simulator, unmodified except for the
URLs, as the spec's section 8.2 describes."""

import asyncio
import sys

import ccxt
import ccxt.pro as ccxtpro

from common import BASE, check, new_account, set_price

SYMBOL = "BTC/USDT:USDT"


def point_at_sim(ex):
    for key, ver in {"fapiPublic": "v1", "fapiPublicV2": "v2", "fapiPublicV3": "v3",
                     "fapiPrivate": "v1", "fapiPrivateV2": "v2", "fapiPrivateV3": "v3"}.items():
        ex.urls["api"][key] = f"{BASE}/fapi/{ver}"
    ex.urls["api"]["fapiData"] = f"{BASE}/futures/data"
    if "ws" in ex.urls["api"]:
        ex.urls["api"]["ws"]["linear"] = BASE.replace("http://", "ws://") + "/ws"
    # ccxt picks the USD-M error map only for its own hosts; merge it so codes map to classes.
    ex.exceptions["exact"].update(ex.exceptions["linear"]["exact"])
    ex.exceptions["broad"].update(ex.exceptions["linear"].get("broad", {}))
    return ex


def rest_checks():
    acc = new_account()
    ex = point_at_sim(ccxt.binanceusdm({"apiKey": acc["apiKey"], "secret": acc["secretKey"],
                                        "options": {"fetchCurrencies": False}}))
    markets = ex.load_markets()
    check(SYMBOL in markets and "ETH/USDC:USDC" in markets, "load_markets lists USDT and USDC perpetuals")
    check(markets[SYMBOL]["precision"]["amount"] == 0.001, "BTC amount precision from LOT_SIZE")
    check(abs(ex.fetch_time() - ex.milliseconds()) < 60000, "fetch_time answers server time")
    bal = ex.fetch_balance()
    check(bal["USDT"]["total"] == 100000, "fetch_balance shows 100000 USDT")
    ex.set_leverage(5, SYMBOL)
    ex.set_margin_mode("isolated", SYMBOL)
    try:
        ex.set_margin_mode("isolated", SYMBOL)
        check(False, "setting the same margin mode twice should raise")
    except ccxt.MarginModeAlreadySet:
        check(True, "-4046 maps to MarginModeAlreadySet")
    order = ex.create_order(SYMBOL, "market", "buy", 0.01, None, {"newClientOrderId": "ccxt-1"})
    check(order["status"] == "closed" and order["filled"] == 0.01, "market buy filled")
    check(order["clientOrderId"] == "ccxt-1", "client order id echoed")
    positions = ex.fetch_positions([SYMBOL])
    pos = [p for p in positions if p["contracts"]]
    check(len(pos) == 1 and pos[0]["side"] == "long" and pos[0]["contracts"] == 0.01, "fetch_positions shows the long")
    # v3 positionRisk has no leverage field; 5x shows as a 20 % initial margin.
    check(pos[0]["marginMode"] == "isolated" and round(pos[0]["initialMarginPercentage"], 2) == 0.2,
          "position is isolated at 5x")
    ex.add_margin(SYMBOL, 50)
    pos = [p for p in ex.fetch_positions([SYMBOL]) if p["contracts"]][0]
    check(abs(pos["collateral"] - 149.996) < 1e-9, "add_margin raised the isolated margin from 99.996 to 149.996")
    limit = ex.create_order(SYMBOL, "limit", "buy", 0.01, 45000)
    check(limit["status"] == "open", "limit order rests")
    open_orders = ex.fetch_open_orders(SYMBOL)
    check([o["id"] for o in open_orders] == [limit["id"]], "fetch_open_orders lists it")
    fetched = ex.fetch_order(limit["id"], SYMBOL)
    check(fetched["price"] == 45000, "fetch_order returns the limit price")
    cancelled = ex.cancel_order(limit["id"], SYMBOL)
    check(cancelled["status"] == "canceled", "cancel_order cancels")
    ex.create_order(SYMBOL, "limit", "buy", 0.01, 44000)
    ex.cancel_all_orders(SYMBOL)
    check(ex.fetch_open_orders(SYMBOL) == [], "cancel_all_orders empties the book")
    trades = ex.fetch_my_trades(SYMBOL)
    check(len(trades) == 1 and trades[0]["price"] == 50000.5, "fetch_my_trades returns the fill at the ask")
    stop = ex.create_order(SYMBOL, "market", "sell", 0.01, None, {"stopLossPrice": 45000, "reduceOnly": True})
    check(stop["id"] is not None, "a stop-loss goes through the algo endpoint")
    rate = ex.fetch_funding_rate(SYMBOL)
    check(rate["fundingRate"] == 0.0001, "fetch_funding_rate")
    try:
        ex.create_order(SYMBOL, "market", "buy", 100, None)
        check(False, "an order beyond the margin should raise")
    except ccxt.InsufficientFunds:
        check(True, "-2019 maps to InsufficientFunds")
    return acc


async def ws_checks():
    acc = new_account()
    ex = point_at_sim(ccxtpro.binanceusdm({"apiKey": acc["apiKey"], "secret": acc["secretKey"],
                                           "options": {"fetchCurrencies": False}}))
    try:
        await ex.load_markets()
        orders_task = asyncio.ensure_future(ex.watch_orders(SYMBOL))
        positions_task = asyncio.ensure_future(ex.watch_positions([SYMBOL]))
        await asyncio.sleep(1.0)
        await ex.create_order(SYMBOL, "market", "buy", 0.02)
        orders = await asyncio.wait_for(orders_task, 10)
        check(any(o["symbol"] == SYMBOL for o in orders), "watch_orders receives the order update")
        # The first answer may be the REST snapshot taken before the fill; updates follow.
        positions = await asyncio.wait_for(positions_task, 10)
        for _ in range(5):
            if any(p["symbol"] == SYMBOL and p["contracts"] >= 0.02 for p in positions):
                break
            again = asyncio.ensure_future(ex.watch_positions([SYMBOL]))
            await asyncio.sleep(0.2)
            await ex.create_order(SYMBOL, "market", "buy", 0.002)
            positions = await asyncio.wait_for(again, 10)
        check(any(p["symbol"] == SYMBOL and p["contracts"] >= 0.02 for p in positions),
              "watch_positions receives the new position")
        balance_task = asyncio.ensure_future(ex.watch_balance())
        trades_task = asyncio.ensure_future(ex.watch_my_trades(SYMBOL))
        await asyncio.sleep(0.5)
        await ex.create_order(SYMBOL, "market", "sell", 0.01)
        balance = await asyncio.wait_for(balance_task, 10)
        check(balance["USDT"]["total"] is not None and balance["USDT"]["total"] < 100000,
              "watch_balance receives the wallet after fees")
        # Fills of earlier orders may still be on their way; read until the sell arrives.
        trades = await asyncio.wait_for(trades_task, 10)
        for _ in range(5):
            if any(t["side"] == "sell" for t in trades):
                break
            trades = await asyncio.wait_for(ex.watch_my_trades(SYMBOL), 10)
        check(any(t["side"] == "sell" and t["price"] == 49999.5 for t in trades),
              "watch_my_trades receives the fill at the bid")
        ticker_task = asyncio.ensure_future(ex.watch_mark_price(SYMBOL)) if ex.has.get("watchMarkPrice") else None
        if ticker_task:
            await asyncio.sleep(0.5)
            set_price("BTCUSDT", 50500)
            mark = await asyncio.wait_for(ticker_task, 10)
            check(mark["symbol"] == SYMBOL, "watch_mark_price receives mark prices")
    finally:
        await ex.close()


def main():
    rest_checks()
    asyncio.run(ws_checks())
    print("ccxt conformance passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # report and fail the run
        print("FAILED:", type(e).__name__, e, file=sys.stderr)
        raise
