//! Helpers for runtime tests: a simulator without rate limits, config files naming keys by
//! environment variable, the engine as a child process whose output lines are collected,
//! and polling of the simulator's admin API.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use copydesk::engine::NoticeKind;
use copydesk::runtime::{Notification, NotifyKind};
use copydesk::sim::{LimitConfig, SimConfig};
use rust_decimal::Decimal;
use serde_json::Value;

pub use crate::sim::support::{dec, Client, Sim};

/// A simulator whose rate limits do not get in the way of many engine restarts.
pub async fn sim() -> Sim {
    crate::sim::support::start_with(SimConfig {
        limits: LimitConfig {
            enabled: false,
            // The engine paces itself to the limit the venue publishes; many restarts
            // from one address in a minute would otherwise wait for the next minute.
            weight_per_minute: 1_000_000,
            ..LimitConfig::default()
        },
        ..SimConfig::default()
    })
    .await
}

/// One `[[accounts]]` entry whose key and secret come from environment variables.
pub fn account_toml(name: &str, base: &str) -> String {
    let var = name.to_uppercase().replace('-', "_");
    format!(
        "[[accounts]]\nname = \"{name}\"\nexchange = \"binance-usdm\"\nendpoint = \"{base}\"\n\
         api_key = {{ env = \"{var}_KEY\" }}\napi_secret = {{ env = \"{var}_SECRET\" }}\n\n"
    )
}

/// The environment variables of an account's key.
pub fn account_env(name: &str, c: &Client) -> Vec<(String, String)> {
    let var = name.to_uppercase().replace('-', "_");
    vec![
        (format!("{var}_KEY"), c.key.clone()),
        (format!("{var}_SECRET"), c.secret.clone()),
    ]
}

/// The start of a printed notification line of this kind (and copy): what the CLI prints
/// from the typed kind, after the collector's time prefix.
pub fn head(kind: NotifyKind, notice: Option<NoticeKind>, copy: Option<&str>) -> String {
    format!(
        "] {} {}",
        Notification::tag(kind, notice),
        copy.unwrap_or("")
    )
}

/// A running `copydesk run` child and the lines it printed.
pub struct Engine {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
}

#[allow(dead_code)]
impl Engine {
    /// Starts `copydesk run` and waits until it says it is running (or fails).
    pub fn start(
        data: &Path,
        config: &Path,
        env: &[(String, String)],
        extra: &[(&str, &str)],
    ) -> Engine {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_copydesk"));
        cmd.arg("--data-dir")
            .arg(data)
            .arg("run")
            .arg("--config")
            .arg(config)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        Engine::spawn(cmd)
    }

    /// Spawns a prepared `copydesk` command and collects its output lines.
    pub fn spawn(mut cmd: Command) -> Engine {
        let mut child = cmd.spawn().expect("copydesk starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let lines = lines.clone();
            std::thread::spawn(move || {
                let t0 = Instant::now();
                for l in BufReader::new(stream).lines().map_while(Result::ok) {
                    let l = format!("[{:>6} ms] {l}", t0.elapsed().as_millis());
                    lines.lock().expect("lines lock").push(l);
                }
            });
        }
        Engine { child, lines }
    }

    pub fn output(&self) -> String {
        self.lines.lock().expect("lines lock").join("\n")
    }

    /// Waits for a notification line of a typed kind (with the engine's notice, for the
    /// copy when given), by the head the CLI prints from the kind; never by its prose.
    pub async fn wait_kind(
        &mut self,
        kind: NotifyKind,
        notice: Option<NoticeKind>,
        copy: Option<&str>,
        what: &str,
    ) {
        self.wait_kind_count(kind, notice, copy, 1, what).await;
    }

    /// As [`Engine::wait_kind`], for the `count`-th such line.
    pub async fn wait_kind_count(
        &mut self,
        kind: NotifyKind,
        notice: Option<NoticeKind>,
        copy: Option<&str>,
        count: usize,
        what: &str,
    ) {
        let head = head(kind, notice, copy);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.output().matches(&head).count() >= count {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{what}: the engine exited ({status}) before printing `{head}`:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{what}: `{head}` (x{count}) should be printed within 60 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for a printed line containing `needle`.
    pub async fn wait_line(&mut self, needle: &str, what: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.output().contains(needle) {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "{what}: the engine exited ({status}) before printing `{needle}`:\n{}",
                    self.output()
                );
            }
            assert!(
                Instant::now() < deadline,
                "{what}: `{needle}` should be printed within 60 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits for `needle` like [`Engine::wait_line`], but returns false when the engine
    /// exits first (a test-armed failpoint may abort it during recovery).
    pub async fn wait_line_or_exit(&mut self, needle: &str, what: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.output().contains(needle) {
                return true;
            }
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            assert!(
                Instant::now() < deadline,
                "{what}: `{needle}` should be printed within 60 s:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the engine with SIGKILL and waits for it.
    #[allow(dead_code)]
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Asks the engine to stop as Ctrl-C would, and waits for a clean exit.
    pub fn interrupt(&mut self) {
        #[cfg(unix)]
        {
            let pid = self.child.id().to_string();
            let _ = Command::new("kill").args(["-INT", &pid]).status();
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                assert!(status.success(), "a clean stop exits 0:\n{}", self.output());
                return;
            }
            assert!(
                Instant::now() < deadline,
                "engine should stop within 30 s of Ctrl-C"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("engine output:\n{}", self.output());
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A leader and a follower on a fresh simulator with BTCUSDT at 50,000, and a config of
/// `engine` (TOML before the accounts, may be empty), both accounts and `copies`.
#[allow(dead_code)]
pub struct Pair {
    pub sim: Sim,
    pub lead: Client,
    pub me: Client,
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub env: Vec<(String, String)>,
}

#[allow(dead_code)]
impl Pair {
    /// Both accounts funded with `usdt` USDT; the accounts are named `lead` and `me`.
    pub async fn new(usdt: &str, engine: &str, copies: &str) -> Pair {
        let sim = sim().await;
        let base = sim.base();
        let lead = sim.usdt(usdt).await;
        let me = sim.usdt(usdt).await;
        sim.price("BTCUSDT", "50000").await;
        let text = format!(
            "{engine}{}{}{copies}",
            account_toml("lead", &base),
            account_toml("me", &base)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let config = write_config(dir.path(), &text);
        let mut env = account_env("lead", &lead);
        env.extend(account_env("me", &me));
        Pair {
            sim,
            lead,
            me,
            dir,
            config,
            env,
        }
    }

    pub fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Sets the leader's leverage; done before the engine starts, its start snapshot has it.
    pub async fn leader_leverage(&self, symbol: &str, leverage: &str) {
        self.lead
            .post(
                "/fapi/v1/leverage",
                &[("symbol", symbol), ("leverage", leverage)],
            )
            .await
            .ok("leader leverage");
    }

    /// Starts `copydesk run` on the config and waits until its copies watch the leader.
    pub async fn start(&self) -> Engine {
        let mut engine = Engine::start(&self.data(), &self.config, &self.env, &[]);
        engine
            .wait_kind(NotifyKind::Watching, None, None, "start")
            .await;
        engine
    }
}

/// Writes a config file into `dir`.
pub fn write_config(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("copy.toml");
    std::fs::write(&p, text).expect("config written");
    p
}

/// The admin API's position row of an account on a symbol (one-way book), if any.
pub async fn position(sim: &Sim, account: &str, symbol: &str) -> Option<Value> {
    let v = sim.admin_account(account).await;
    v["positions"]
        .as_array()?
        .iter()
        .find(|p| p["symbol"] == symbol && !dec(&p["positionAmt"]).is_zero())
        .cloned()
}

/// Signed position amount of an account on a symbol (zero when flat).
pub async fn amount(sim: &Sim, account: &str, symbol: &str) -> Decimal {
    position(sim, account, symbol)
        .await
        .map_or(Decimal::ZERO, |p| dec(&p["positionAmt"]))
}

/// Polls until `check` holds, with a generous hang guard.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let r = check().await;
        match r {
            Ok(()) => return,
            Err(e) if Instant::now() > deadline => panic!("{what} should hold within 60 s: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// How many `method` requests to `path` the follower made since the simulator's request
/// counts were last reset (`DELETE /admin/v1/requests`).
pub async fn follower_requests(p: &Pair, method: &str, path: &str) -> u64 {
    let v = p
        .sim
        .admin(reqwest::Method::GET, "/admin/v1/requests", None)
        .await
        .ok("request counts");
    v["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r["method"] == method && r["path"] == path && r["accountId"] == p.me.account_id.as_str()
        })
        .filter_map(|r| r["count"].as_u64())
        .sum()
}
