//! Test support: a private D-Bus bus (its own `dbus-daemon`, so no test touches the
//! user's session or the machine's system bus), a clock the test moves by hand, and a
//! wait for a condition (no timed assertions: the limit only ends a hung test).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use copydesk::exchange::{BoxFuture, Clock};
use tokio::sync::watch;

/// A `dbus-daemon` of its own; killed when dropped.
#[derive(Debug)]
pub struct PrivateBus {
    child: Child,
    pub address: String,
}

impl PrivateBus {
    pub fn start() -> PrivateBus {
        let mut child = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--nopidfile", "--print-address=1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts (package dbus-daemon)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        PrivateBus { child, address }
    }

    /// A new connection to this bus.
    pub async fn connect(&self) -> zbus::Connection {
        zbus::connection::Builder::address(self.address.as_str())
            .build()
            .await
            .expect("connects to the private bus")
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A clock that moves only when the test says so; sleeps end when it passes their end.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
    tx: Arc<watch::Sender<i64>>,
}

impl ManualClock {
    pub fn new(start_ms: i64) -> ManualClock {
        ManualClock {
            now: Arc::new(AtomicI64::new(start_ms)),
            tx: Arc::new(watch::channel(start_ms).0),
        }
    }

    pub fn advance(&self, ms: i64) {
        let t = self.now.fetch_add(ms, Ordering::SeqCst) + ms;
        self.tx.send_replace(t);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }

    fn sleep(&self, duration: Duration) -> BoxFuture<'static, ()> {
        let end = self.now_ms() + i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        let mut rx = self.tx.subscribe();
        Box::pin(async move {
            let _ = rx.wait_for(|t| *t >= end).await;
        })
    }
}

/// Waits until `f` holds; panics with `what` if it never does (a hung test, not a timing
/// check: the limit is generous).
pub async fn until(what: &str, mut f: impl FnMut() -> bool) {
    for _ in 0..600 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never happened: {what}");
}
