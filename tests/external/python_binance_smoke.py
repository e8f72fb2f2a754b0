"""Smoke test with a second third-party client, python-binance, pointed at the simulator."""

import sys

from binance.client import Client
from binance.exceptions import BinanceAPIException

from common import BASE, check, new_account


def main():
    acc = new_account()
    client = Client(acc["apiKey"], acc["secretKey"], ping=False)
    client.FUTURES_URL = BASE + "/fapi"
    info = client.futures_exchange_info()
    check(any(s["symbol"] == "ETHUSDT" for s in info["symbols"]), "exchange info lists ETHUSDT")
    mark = client.futures_mark_price(symbol="ETHUSDT")
    check(mark["markPrice"].startswith("3000"), "mark price of ETHUSDT")
    balances = client.futures_account_balance()
    check(any(b["asset"] == "USDT" and float(b["balance"]) == 100000 for b in balances), "USDT balance")
    lev = client.futures_change_leverage(symbol="ETHUSDT", leverage=3)
    check(lev["leverage"] == 3, "leverage changed")
    order = client.futures_create_order(symbol="ETHUSDT", side="BUY", type="MARKET", quantity="0.100",
                                        newOrderRespType="RESULT")
    check(order["status"] == "FILLED", "market order filled")
    got = client.futures_get_order(symbol="ETHUSDT", orderId=order["orderId"])
    check(got["executedQty"] == "0.100", "order query shows the fill")
    limit = client.futures_create_order(symbol="ETHUSDT", side="SELL", type="LIMIT", quantity="0.100",
                                        price="3300", timeInForce="GTC")
    check(limit["status"] == "NEW", "limit order rests")
    open_orders = client.futures_get_open_orders(symbol="ETHUSDT")
    check(len(open_orders) == 1, "one open order")
    client.futures_cancel_order(symbol="ETHUSDT", orderId=limit["orderId"])
    positions = [p for p in client.futures_position_information(symbol="ETHUSDT") if float(p["positionAmt"])]
    check(len(positions) == 1 and positions[0]["positionAmt"] == "0.100", "position information")
    trades = client.futures_account_trades(symbol="ETHUSDT")
    check(len(trades) == 1, "one account trade")
    key = client.futures_stream_get_listen_key()
    check(len(key) == 64, "listenKey from the user-stream endpoint")
    try:
        client.futures_create_order(symbol="ETHUSDT", side="BUY", type="STOP_MARKET", quantity="0.1", stopPrice="3500")
        check(False, "a conditional order on /fapi/v1/order should be refused")
    except BinanceAPIException as e:
        check(e.code == -4120, "conditional order on /order refused with -4120")
    print("python-binance smoke test passed")


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        print("FAILED:", type(e).__name__, e, file=sys.stderr)
        raise
