//! The long-running commands: `run`, `demo` and `sim`. Each opens what it needs through
//! the facade, prints events as lines until Ctrl-C (or SIGTERM), and stops cleanly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use copydesk::api::{
    self, ApiError, App, AppOptions, CopyModeDto, CopySettingsDto, NewCopyRequest, PaperOptions,
    PresetDto, StartActionsDto,
};

use super::format::{line, out};

/// Waits for Ctrl-C or, on Unix, SIGTERM.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(t) => t,
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                    return;
                }
            };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Prints the app's events until Ctrl-C; `tick` runs every `every` on the side.
async fn follow<F, Fut>(app: &App, every: Duration, mut tick: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let mut rx = app.events();
    let mut timer = tokio::time::interval(every);
    let stop = interrupted();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            e = rx.recv() => match e {
                Ok(e) => out(&line(&e)),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(k)) => {
                    out(&format!("({k} notifications skipped; see `copydesk status`)"))
                }
                Err(_) => break,
            },
            _ = timer.tick() => tick().await,
        }
    }
}

fn copies_line(n: usize) -> String {
    format!(
        "running {n} cop{}; Ctrl-C stops cleanly",
        if n == 1 { "y" } else { "ies" }
    )
}

/// `copydesk run --config FILE`.
pub async fn run(dir: &Path, config: &Path) -> Result<String, ApiError> {
    let config = api::keys::load_config(config)?;
    let mut opts = AppOptions::new(dir);
    opts.program = "copydesk run".into();
    opts.paper.start = false;
    opts.engine = copydesk::runtime::EngineOptions {
        recv_window_ms: i64::from(config.engine.recv_window_ms),
        reconcile_every: Duration::from_secs(u64::from(config.engine.reconcile_secs)),
        portfolio_per_minute: config.engine.portfolio_requests_per_minute,
    };
    let stop = interrupted();
    tokio::pin!(stop);
    // Start-up may wait on the venue (its weight budget, a slow socket): Ctrl-C ends that
    // wait too; nothing was sent yet that recovery would not finish.
    let app = tokio::select! {
        app = App::open_with_config(opts, config) => app?,
        _ = &mut stop => return Ok("stopped during start-up; state kept".to_owned()),
    };
    out(&copies_line(app.running().len()));
    follow(&app, Duration::from_secs(3600), || async {}).await;
    app.shutdown().await;
    Ok("stopped; state kept".to_owned())
}

/// How much faster than their normal pace the demo leaders trade (the scalper then acts
/// every 5 seconds instead of every 30).
const DEMO_SPEED: u32 = 6;
/// The demo copy's investment, in USDT.
const INVESTMENT: &str = "1000";

/// A throwaway data directory, so paper copies of the demo never mix with real ones.
fn scratch_dir() -> PathBuf {
    std::env::temp_dir().join(format!("copydesk-demo-{}", std::process::id()))
}

/// `copydesk demo`: paper mode with a Smart Sync copy of the scalper demo leader.
pub async fn demo() -> Result<String, ApiError> {
    let dir = scratch_dir();
    let result = demo_in(&dir).await;
    // The scratch directory holds only paper state; a leftover is harmless.
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn demo_in(dir: &Path) -> Result<String, ApiError> {
    let mut opts = AppOptions::new(dir);
    opts.program = "copydesk demo".into();
    opts.paper = PaperOptions {
        start: true,
        admin_token: None,
        demo_speed: DEMO_SPEED,
    };
    let app = App::open(opts).await?;
    let leader = app
        .leaders()
        .await?
        .into_iter()
        .find(|l| l.style.as_deref() == Some("scalper"))
        .ok_or_else(|| ApiError::internal("paper mode started without a scalper demo leader"))?;
    let paper = app.paper().await;
    let mut settings = default_settings();
    settings.investment = Some(INVESTMENT.into());
    out(&format!(
        "demo: paper follower with {} USDT copies {} (Smart Sync, investment {INVESTMENT} USDT) on an in-process simulator at {}; Ctrl-C stops",
        api::PAPER_USDT,
        leader.name,
        paper.endpoint.unwrap_or_default()
    ));
    app.create_copy(NewCopyRequest {
        name: "demo".into(),
        leader: leader.id,
        follower: api::PAPER_ACCOUNT.into(),
        settings,
    })
    .await?;
    follow(&app, Duration::from_secs(10), || async {
        let equity = app.paper().await.balance.unwrap_or_default();
        let (upnl, held) = match app.status().await {
            Ok(s) => s
                .copies
                .iter()
                .find(|c| c.copy.name == "demo")
                .map(|c| {
                    (
                        c.figures
                            .unrealized_pnl
                            .clone()
                            .unwrap_or_else(|| "0".into()),
                        c.positions
                            .iter()
                            .map(|p| format!("{} {} {}", p.side, p.follower_qty, p.symbol))
                            .collect::<Vec<_>>(),
                    )
                })
                .unwrap_or_default(),
            Err(_) => Default::default(),
        };
        out(&format!(
            "figures demo: paper equity {equity} USDT (start {}), unrealized {upnl}, positions: {}",
            api::PAPER_USDT,
            if held.is_empty() {
                "none".to_owned()
            } else {
                held.join(", ")
            }
        ));
    })
    .await;
    app.shutdown().await;
    Ok("demo stopped".to_owned())
}

/// The settings a new copy starts from: the domain's defaults.
fn default_settings() -> CopySettingsDto {
    let mut s = api::settings::to_dto(&copydesk::domain::CopySettings {
        mode: copydesk::domain::CopyMode::SmartSync,
        investment: None,
        amount_per_order: None,
        ratio: None,
        copy_ongoing_positions: false,
        preset: copydesk::domain::Preset::None,
        start: Default::default(),
        risk: Default::default(),
    });
    s.mode = CopyModeDto::SmartSync;
    s.preset = PresetDto::None;
    s.start = StartActionsDto::default();
    s
}

/// `copydesk sim`: serves until Ctrl-C.
pub async fn sim(args: copydesk::sim::cli::SimArgs) -> Result<String, ApiError> {
    let handle = copydesk::sim::cli::start(args)
        .await
        .map_err(ApiError::internal)?;
    // Listen before announcing: a Ctrl-C sent right after the announcement is not lost.
    let stop = interrupted();
    tokio::pin!(stop);
    let listening = async {};
    tokio::select! {
        biased;
        _ = &mut stop => {}
        _ = listening => {}
    }
    out(&format!("copydesk sim listening on {}", handle.base_url()));
    stop.await;
    handle.shutdown().await;
    Ok("copydesk sim stopped".to_owned())
}

/// `copydesk leaders add`: opens the data directory (its lock: not while another engine
/// runs), reads the key and secret, and adds the account leader through the facade.
pub async fn add_leader(
    dir: &Path,
    name: &str,
    exchange: &str,
    endpoint: &str,
    json: bool,
) -> Result<String, ApiError> {
    let mut opts = AppOptions::new(dir);
    opts.program = "copydesk leaders add".into();
    opts.paper.start = false;
    // Lock first, so nobody types a secret into a command that will be refused.
    let app = App::open(opts).await?;
    let result = async {
        let (key, secret) = crate::input::credentials()?;
        let (environment, endpoint) = match endpoint {
            "mainnet" => (api::Environment::Mainnet, None),
            "demo" => (api::Environment::Demo, None),
            url => (api::Environment::Custom, Some(url.to_owned())),
        };
        app.add_leader(api::NewAccountRequest {
            name: name.to_owned(),
            exchange: exchange.to_owned(),
            environment,
            endpoint,
            api_key: key.expose().to_owned(),
            api_secret: secret.expose().to_owned(),
            passphrase: None,
        })
        .await
    }
    .await;
    app.shutdown().await;
    let added = result?;
    if json {
        return Ok(serde_json::to_string_pretty(&added).unwrap_or_default());
    }
    let mut out: Vec<String> = added
        .check
        .findings
        .iter()
        .map(|f| {
            let mut l = format!(
                "{:<8} {:?}: {}",
                format!("{:?}", f.status).to_lowercase(),
                f.check,
                f.message
            );
            if let Some(fix) = &f.fix {
                l.push_str(&format!("\n         what to do: {fix}"));
            }
            l
        })
        .collect();
    match &added.leader_id {
        Some(id) => out.push(format!(
            "added account leader `{id}`: its key is in the keychain"
        )),
        None => {
            return Err(ApiError::field(
                "apiKey",
                format!(
                    "{}\nthe leader key was refused; nothing was stored",
                    out.join("\n")
                ),
            ))
        }
    }
    Ok(out.join("\n"))
}
