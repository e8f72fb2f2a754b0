//! A measurement, not a test (run with `--ignored --nocapture`; docs/benchmarks.md):
//! paper mode, from `App::open` on a fresh data directory to every demo leader listed with
//! its figures, polling the list every 100 ms as a screen would be told to list again.

use std::time::{Duration, Instant};

use copydesk::api::{App, AppOptions, LeaderSourceDto, PaperOptions};
use copydesk::paths::APP_IDENTIFIER;
use copydesk::secrets::Keychain;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement for docs/benchmarks.md, not a test"]
#[allow(clippy::print_stdout)] // its output is the measurement
async fn measure_open_to_demo_leader_figures() {
    let rounds: usize = std::env::var("ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    for round in 1..=rounds {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut o = AppOptions::new(dir.path());
        o.keychain =
            Keychain::with_service(format!("{APP_IDENTIFIER}.measure.{}", std::process::id()));
        o.paper = PaperOptions {
            start: true,
            admin_token: Some("measure".into()),
            demo_speed: 1,
        };
        let t0 = Instant::now();
        let app = App::open(o).await.expect("opens");
        let opened = t0.elapsed();
        let mut lists = 0;
        loop {
            let l = app.leaders().await.expect("list");
            lists += 1;
            let demo: Vec<_> = l
                .iter()
                .filter(|l| l.source == LeaderSourceDto::Demo)
                .collect();
            if !demo.is_empty()
                && demo
                    .iter()
                    .all(|l| !l.figures_pending && !l.figures.is_empty())
            {
                break;
            }
            // A guard against a run that never ends, not a speed check.
            if t0.elapsed() > Duration::from_secs(600) {
                panic!("no figures after 10 minutes");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!(
            "MEASURE round {round}: open {:.3} s, open → all demo figures {:.3} s, lists {lists}",
            opened.as_secs_f64(),
            t0.elapsed().as_secs_f64()
        );
        app.shutdown().await;
    }
}
