//! The simulator as a process (`copydesk sim`) and its price modes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use copydesk::sim::{PriceMode, SimConfig};
use rust_decimal::Decimal;

use super::support::{dec, start_with};

// SIGINT is sent with `kill`, so this runs where that exists.
#[cfg(unix)]
#[tokio::test]
async fn the_cli_serves_and_stops_cleanly_on_sigint() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_copydesk"))
        .args([
            "sim",
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            "t0k",
            "--demo-leaders",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("copydesk sim starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a first line").expect("readable");
    let base = first
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("first line announces the address: {first}"))
        .to_owned();
    let http = reqwest::Client::new();
    let ping = http
        .get(format!("{base}/fapi/v1/ping"))
        .send()
        .await
        .expect("ping");
    assert_eq!(ping.status(), 200, "REST answers");
    let r = http
        .get(format!("{base}/admin/v1/demo-leaders"))
        .send()
        .await
        .expect("admin");
    assert_eq!(r.status(), 401, "the admin API wants the token");
    let r = http
        .get(format!("{base}/admin/v1/demo-leaders"))
        .header("X-Admin-Token", "t0k")
        .send()
        .await
        .expect("admin");
    let leaders: serde_json::Value = r.json().await.expect("json");
    assert_eq!(
        leaders.as_array().map(Vec::len),
        Some(2),
        "two demo leaders listed with keys"
    );
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success(), "SIGINT delivered");
    let exit = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(
        exit.success(),
        "Ctrl-C stops the simulator with success, got {exit:?}"
    );
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert_eq!(
        rest,
        vec!["copydesk sim stopped".to_owned()],
        "announces the stop"
    );
}

#[tokio::test]
async fn walk_mode_moves_prices_on_the_tick_grid() {
    let sim = start_with(SimConfig {
        prices: PriceMode::Walk,
        walk_interval: Duration::from_millis(20),
        seed: 3,
        ..SimConfig::default()
    })
    .await;
    let start = dec(&sim
        .public("/fapi/v1/premiumIndex", "symbol=BTCUSDT")
        .await
        .ok("mark")["markPrice"]);
    let mut moved = None;
    for _ in 0..200 {
        let m = dec(&sim
            .public("/fapi/v1/premiumIndex", "symbol=BTCUSDT")
            .await
            .ok("mark")["markPrice"]);
        if m != start {
            moved = Some(m);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let moved = moved.expect("a seeded walk moves the price within 200 polls");
    assert_eq!(
        moved % Decimal::new(1, 1),
        Decimal::ZERO,
        "the walked price {moved} sits on the 0.1 tick"
    );
}
