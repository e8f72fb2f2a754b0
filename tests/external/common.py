"""Shared helpers for the conformance scripts: the simulator's address and admin calls."""

import json
import os
import urllib.request

BASE = os.environ.get("SIM_BASE", "http://127.0.0.1:8790")
TOKEN = os.environ.get("SIM_ADMIN_TOKEN")


def admin(method, path, body=None):
    """Calls the simulator's admin API and returns the decoded JSON answer."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if TOKEN:
        req.add_header("X-Admin-Token", TOKEN)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def new_account(**extra):
    body = {"balances": {"USDT": "100000", "USDC": "1000"}, "label": "conformance"}
    body.update(extra)
    return admin("POST", "/admin/v1/accounts", body)


def set_price(symbol, price):
    return admin("POST", "/admin/v1/prices", {"symbol": symbol, "price": str(price)})


def check(cond, what):
    """Fails the script with a message saying what should have held."""
    if not cond:
        raise AssertionError(what)
    print("ok:", what)
