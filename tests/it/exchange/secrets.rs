//! The API secret never appears in logs (captured at TRACE), errors or Debug output, even
//! on the paths that handle failures.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::Method;
use copydesk::exchange::{Exchange, IncomeQuery};
use tracing_subscriber::fmt::MakeWriter;

use super::support::{FakeVenue, ManualClock, Scripted, API_KEY, SECRET};

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
async fn the_secret_never_reaches_logs_errors_or_debug_output() {
    let logs = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(logs.clone())
        .finish();
    // The test runs on one thread, so the stream task's logs are captured too.
    // Tests that capture logs take turns, so this is the only capturing subscriber.
    let _turn = super::support::LOG_CAPTURE.lock().await;
    let _guard = tracing::subscriber::set_default(subscriber);
    // With exactly one subscriber registered, tracing computes a log site's interest from
    // the registering thread's own default; another test thread reaching an adapter log
    // site first would then switch it off for good. A second (silent) subscriber makes
    // tracing ask every registered subscriber instead.
    let _second = tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default());

    let clock = ManualClock::new(1_700_000_000_000);
    let venue = FakeVenue::start_with(clock.clone(), 0).await;
    let ex = venue.adapter(clock.clone(), None);
    let mut outputs = vec![format!("{ex:?}"), format!("{ex:#?}")];

    ex.account().await.expect("snapshot");
    venue.script(
        Method::GET,
        "/fapi/v1/income",
        Scripted::error(400, -1022, "Signature for this request is not valid."),
    );
    let err = ex
        .income(&IncomeQuery::default())
        .await
        .expect_err("scripted failure");
    outputs.push(format!("{err} {err:?}"));
    venue.script(
        Method::GET,
        "/fapi/v1/income",
        Scripted::error(
            400,
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ),
    );
    ex.income(&IncomeQuery::default()).await.expect("recovered");
    let mut stream = ex.subscribe().await.expect("subscribe");
    let _conn = venue.next_ws().await;
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("hang guard")
        .expect("resync event");
    drop(stream);

    let logs = String::from_utf8(logs.0.lock().expect("log buffer").clone()).expect("utf-8 logs");
    assert!(
        logs.contains("sending request") && logs.contains("TRACE"),
        "the capture must actually hold the adapter's TRACE logs"
    );
    let everything = format!("{logs}\n{}", outputs.join("\n"));
    assert!(
        !everything.contains(SECRET),
        "the secret must never be printed"
    );
    assert!(
        !everything.contains(&SECRET[..16]),
        "not even a prefix of the secret may be printed"
    );
    assert!(
        !outputs.iter().any(|o| o.contains(API_KEY)),
        "Debug shows at most a shortened key"
    );
    for r in venue.requests() {
        if let Some(sig) = r.params().get("signature") {
            assert!(
                !logs.contains(sig.as_str()),
                "signatures are not logged either"
            );
        }
    }
}
