//! Secret hygiene on a real run against the simulator: with tracing captured at TRACE
//! (adapter and simulator alike), a session that trades, fails on a wrong secret, recovers
//! from clock skew and streams events must never print the secret, nor the listen key.

use std::io;
use std::sync::{Arc, Mutex};

use copydesk::domain::Side;
use copydesk::exchange::{AccountEvent, Exchange, IncomeQuery};
use copydesk::sim::{AccountKeys, SimConfig};
use rust_decimal_macros::dec;
use serde_json::json;
use tracing_subscriber::fmt::MakeWriter;

use super::support::{account, adapter, fault, market, start_sim, wait_event};

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

#[tokio::test]
async fn a_session_against_the_simulator_never_prints_the_secret() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    // The test runtime has one thread, so the simulator's and the stream task's logs are
    // captured too.
    // Tests that capture logs take turns, so this is the only capturing subscriber.
    let _turn = crate::exchange::support::LOG_CAPTURE.lock().await;
    let _guard = tracing::subscriber::set_default(subscriber);
    // With exactly one subscriber registered, tracing computes a log site's interest from
    // the registering thread's own default; another test thread reaching an adapter log
    // site first would then switch it off for good. A second (silent) subscriber makes
    // tracing ask every registered subscriber instead.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let sim = start_sim(SimConfig::default()).await;
    sim.set_price("BTCUSDT", dec!(50000)).expect("price set");
    let keys = account(&sim, dec!(10000));
    let ex = adapter(&sim, &keys);
    let mut outputs = vec![format!("{ex:?}"), format!("{ex:#?}"), format!("{keys:?}")];

    let mut stream = ex.subscribe().await.expect("subscribe");
    wait_event(&mut stream, "the first snapshot", |e| {
        matches!(e, AccountEvent::Resynced(_)).then_some(())
    })
    .await;
    ex.place_order(&market("cdsecret01", "BTCUSDT", Side::Buy, dec!(0.01)))
        .await
        .expect("market buy");
    wait_event(&mut stream, "the fill event", |e| {
        matches!(e, AccountEvent::Order(_)).then_some(())
    })
    .await;

    fault(&sim, json!({"clockShiftMs": 8000})).await;
    ex.income(&IncomeQuery::default())
        .await
        .expect("recovered from the skew");

    // The same secret with its last character changed.
    let (head, last) = keys.secret_key.split_at(keys.secret_key.len() - 1);
    let wrong = AccountKeys {
        secret_key: format!("{head}{}", if last == "x" { "y" } else { "x" }),
        ..keys.clone()
    };
    let bad = adapter(&sim, &wrong);
    let err = bad
        .income(&IncomeQuery::default())
        .await
        .expect_err("a wrong secret is refused");
    assert_eq!(
        err.venue_code(),
        Some(-1022),
        "refused for its signature: {err:?}"
    );
    outputs.push(format!("{err} {err:?} {bad:?}"));
    drop(stream);

    let listen_key = reqwest::Client::new()
        .post(format!("{}/fapi/v1/listenKey", sim.base_url()))
        .header("X-MBX-APIKEY", &keys.api_key)
        .send()
        .await
        .expect("listenKey answered")
        .json::<serde_json::Value>()
        .await
        .expect("JSON")["listenKey"]
        .as_str()
        .expect("a listen key")
        .to_owned();

    let logs = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8 logs");
    assert!(
        logs.contains("sending request") && logs.contains("TRACE"),
        "the capture must actually hold the adapter's TRACE logs"
    );
    let everything = format!("{logs}\n{}", outputs.join("\n"));
    for (name, secret) in [
        ("secret", &keys.secret_key),
        ("wrong secret", &wrong.secret_key),
    ] {
        assert!(
            !everything.contains(&secret[..16]),
            "not even a prefix of the {name} may be printed"
        );
    }
    assert!(
        !everything.contains(&listen_key),
        "the listen key (a bearer token for the stream) is never printed"
    );
    sim.shutdown().await;
}
