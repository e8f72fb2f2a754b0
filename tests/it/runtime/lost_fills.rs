//! A fill of the copy's own order whose stream event is lost (the follower's stream is
//! stalled when the close fills, then dropped) still reaches the copy's PnL: after the
//! reconnect the reconciliation finds the journal's filled close without its stored fill
//! and reads it from the venue's trade history. The check reads the simulator's own income
//! records for the follower account.

use reqwest::Method;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

use super::support::{amount, dec as jdec, eventually, Client, Pair};

const COPY: &str = "[[copies]]\nname = \"lost\"\nleader = \"lead\"\nfollower = \"me\"\n\
    mode = \"fixed-ratio\"\nratio = \"0.1\"\n";

/// The copy's PnL (realized − fees + funding + unrealized) from `copydesk status --json`.
fn copy_pnl(p: &Pair) -> Result<Decimal, String> {
    copy_pnl_at(&p.data())
}

/// The same for the (first) copy of the data directory `data`.
pub(crate) fn copy_pnl_at(data: &std::path::Path) -> Result<Decimal, String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .arg("--data-dir")
        .arg(data)
        .args(["status", "--json"])
        .output()
        .map_err(|e| e.to_string())?;
    let v: Value = serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
    let f = &v["copies"][0]["figures"];
    let n = |k: &str| -> Result<Decimal, String> {
        f[k].as_str()
            .and_then(|s| s.parse().ok())
            .ok_or(format!("no {k} in {f}"))
    };
    Ok(n("realizedPnl")? - n("fees")? + n("funding")? + n("unrealizedPnl")?)
}

/// The follower account's realized PnL − commissions + funding on BTCUSDT, per the venue.
async fn account_pnl(p: &Pair) -> Decimal {
    account_pnl_of(&p.me).await
}

/// The same for the account `me`.
pub(crate) async fn account_pnl_of(me: &Client) -> Decimal {
    let income = me
        .get("/fapi/v1/income", &[("limit", "1000")])
        .await
        .ok("the follower's income");
    income
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["symbol"].as_str() == Some("BTCUSDT")
                && matches!(
                    r["incomeType"].as_str(),
                    Some("REALIZED_PNL" | "COMMISSION" | "FUNDING_FEE")
                )
        })
        .map(|r| jdec(&r["income"]))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_filled_while_the_follower_stream_is_lost_counts_in_the_copy_pnl() {
    let p = Pair::new("100000", "[engine]\nreconcile_secs = 2\n\n", COPY).await;
    let mut engine = p.start().await;
    let fault = |body| p.sim.admin(Method::POST, "/admin/v1/faults", Some(body));
    p.lead
        .market("BTCUSDT", "BUY", "0.5")
        .await
        .ok("leader opens");
    eventually("the open is copied", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        (got == dec!(0.05))
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
    // The follower's stream holds its events: the close's fill is never delivered.
    let key = p.me.listen_key().await;
    fault(json!({"stallListenKey": key}))
        .await
        .ok("follower stalled");
    p.sim.price("BTCUSDT", "50100").await;
    p.lead
        .market("BTCUSDT", "SELL", "0.5")
        .await
        .ok("leader closes");
    eventually("the close is copied", || async {
        let got = amount(&p.sim, &p.me.account_id, "BTCUSDT").await;
        got.is_zero()
            .then_some(())
            .ok_or(format!("follower holds {got}"))
    })
    .await;
    // Dropped while stalled: the held events go with the socket.
    fault(json!({"dropUserStreams": true}))
        .await
        .ok("streams dropped");
    fault(json!({"unstallListenKey": key}))
        .await
        .ok("follower released");
    engine
        .wait_line("after follower reconnect", "a resync after the reconnect")
        .await;
    let want = account_pnl(&p).await;
    eventually("the copy's PnL equals the account's income", || async {
        let got = copy_pnl(&p)?;
        (got == want)
            .then_some(())
            .ok_or(format!("copy PnL {got}, account {want}"))
    })
    .await;
    engine.interrupt();
}
