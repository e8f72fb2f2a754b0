//! The `copydesk` command line: the same engine as the desktop app, for servers. Every
//! subcommand is one call into `copydesk::api`; the modules under `copydesk/` only read
//! input and format output. The tokio runtime is built here, once.

mod format;
mod input;
mod live;
mod portfolios;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use copydesk::api::{self, ApiError};

#[derive(Debug, Parser)]
#[command(
    name = "copydesk",
    version,
    about = "Copy a lead trader's futures trades onto your own account, locally."
)]
struct Cli {
    /// Data directory (database, logs, lock). Defaults to the app's data directory.
    #[arg(long, global = true, env = copydesk::paths::DATA_DIR_ENV)]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print where data is kept and which version this is.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Manage API keys in the OS keychain.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Write copies, fills and figures as JSON and CSV.
    Export {
        /// Output directory (default: `<data dir>/exports/<time>`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the copies of a config file, and resume the stored ones, until Ctrl-C (state is
    /// kept in the data directory).
    Run {
        /// The config file (see docs/config.md).
        #[arg(long)]
        config: PathBuf,
    },
    /// Paper mode: copy a demo leader on an in-process simulator, no key needed.
    Demo,
    /// Measure the copy path against the simulator on loopback (in a child process for
    /// the copy rows) and print each figure beside its target (minutes; `--quick` for a
    /// short run).
    Bench {
        /// Shorter runs: 30 s sustained, 10-copy fan-out, 5 s idle.
        #[arg(long)]
        quick: bool,
        /// Only these rows, comma-separated: planner, disk, commit, idle, one-copy,
        /// sustained, fan-out, stop.
        #[arg(long, value_delimiter = ',')]
        only: Vec<String>,
    },
    /// Print copies, figures and positions (works while `run` is running).
    Status {
        /// Print JSON (the app's StatusDto, camelCase) instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Print a copy's profit-share ratio and statements as the engine stored them
    /// (works while `run` or the app is running; they draw the statements up).
    Statements {
        /// The copy's name.
        copy: String,
        /// Print JSON (the app's ProfitShareDto, camelCase) instead of text.
        #[arg(long)]
        json: bool,
        /// Set the copy's profit-share ratio first (above 0, at most 0.3; `off` turns it
        /// off). Needs the data directory: refused while the app or `run` holds it.
        #[arg(long, value_name = "RATIO")]
        set_ratio: Option<String>,
    },
    /// Look after stored copies.
    Copies {
        #[command(subcommand)]
        command: CopiesCommand,
    },
    /// List public lead portfolios with their 7/30/90-day figures; `leaders add` adds an
    /// account leader from its read-only key.
    #[command(args_conflicts_with_subcommands = true)]
    Leaders {
        #[command(subcommand)]
        command: Option<LeadersCommand>,
        /// Base URL of the lead-portfolio pages and market data (default: Binance's); a
        /// simulator serves both.
        #[arg(long)]
        endpoint: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// What-if: replay copying a public lead portfolio with a config's copy settings.
    Replay {
        /// The lead portfolio id.
        #[arg(long)]
        leader: String,
        /// A config file (docs/config.md) whose copy gives the settings.
        #[arg(long)]
        config: PathBuf,
        /// Which copy of the config (default: the first).
        #[arg(long)]
        copy: Option<String>,
        /// Days back from now (1–90).
        #[arg(long, default_value_t = 90)]
        days: u32,
        /// Base URL of the lead-portfolio pages and market data (default: Binance's).
        #[arg(long)]
        endpoint: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the simulated exchange (Binance USD-M wire protocol) until Ctrl-C.
    Sim(copydesk::sim::cli::SimArgs),
    /// Test hook: panic while holding an account's credentials.
    #[command(hide = true)]
    DebugPanic { name: String },
}

/// `copydesk keys …`
#[derive(Debug, Clone, Subcommand)]
enum KeysCommand {
    /// Store an account's API key and secret in the OS keychain (two lines on stdin, or a
    /// prompt without echo on a terminal).
    Add {
        /// Account name, as the config's `{ keychain = "NAME" }` refers to it.
        name: String,
    },
    /// List stored names with masked key ids.
    List {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Delete an account's key and secret from the keychain.
    Remove { name: String },
}

/// `copydesk leaders …`
#[derive(Debug, Clone, Subcommand)]
enum LeadersCommand {
    /// Add an account leader: its API key and secret (two lines on stdin, or a prompt
    /// without echo) are checked as a read-only leader key and kept in the keychain only
    /// when the check passes (a key that can withdraw is refused).
    Add {
        /// The leader's name.
        name: String,
        /// Where the leader's account is: `mainnet`, `demo` or a URL (a simulator, a proxy).
        #[arg(long, default_value = "mainnet")]
        endpoint: String,
        /// The leader's exchange.
        #[arg(long, default_value = "binance-usdm")]
        exchange: String,
        /// Print the key check as JSON.
        #[arg(long)]
        json: bool,
    },
}

/// `copydesk copies …`
#[derive(Debug, Clone, Subcommand)]
enum CopiesCommand {
    /// Rebuild a copy's ledger from the journal and the venue's positions (when its stored
    /// ledger cannot be read). Shows what it would adopt; `--yes` writes it. Stop the
    /// engine first.
    Repair {
        /// The copy's name.
        name: String,
        /// The config that runs the copy (its accounts and keys).
        #[arg(long)]
        config: PathBuf,
        /// Write the rebuilt ledger (without it, only show it).
        #[arg(long)]
        yes: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = api::paths::data_dir(cli.data_dir);
    // Without a log file the CLI still works; it says why on stderr.
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot write logs under {}: {e}", data_dir.display()))
        .ok();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(dispatch(cli.command, data_dir));
    match result {
        Ok(text) => {
            format::out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::debug!(code = ?e.code, "command failed");
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

async fn dispatch(command: Command, dir: PathBuf) -> Result<String, ApiError> {
    match command {
        Command::Info { json } => {
            tracing::debug!(data_dir = %dir.display(), "info requested");
            Ok(format::info(&api::app_info(&dir), json))
        }
        Command::Keys { command } => keys(command, &dir),
        Command::Export { out } => {
            api::export_dir(&dir, out.as_deref()).map(|r| format::export(&r))
        }
        Command::Run { config } => live::run(&dir, &config).await,
        Command::Demo => live::demo().await,
        Command::Bench { quick, only } => bench(quick, only).await,
        Command::Status { json } => api::status_read_only(&dir).map(|s| format::status(&s, json)),
        Command::Statements {
            copy,
            json,
            set_ratio: None,
        } => api::profit_share_read_only(&dir, &copy).map(|p| format::statements(&p, json)),
        Command::Statements {
            copy,
            json,
            set_ratio: Some(ratio),
        } => api::set_profit_share_offline(&dir, &copy, Some(&ratio))
            .map(|p| format::statements(&p, json))
            // The facade names its field; on the command line that is the flag.
            .map_err(|e| match e.field.as_deref() {
                Some(api::statements::RATIO_FIELD) => api::ApiError {
                    message: format!("--set-ratio: {}", e.message),
                    ..e
                },
                _ => e,
            }),
        Command::Copies {
            command: CopiesCommand::Repair { name, config, yes },
        } => api::repair_copy(&dir, &config, &name, yes)
            .await
            .map(|r| format::repair(&r)),
        Command::Leaders {
            command:
                Some(LeadersCommand::Add {
                    name,
                    endpoint,
                    exchange,
                    json,
                }),
            ..
        } => live::add_leader(&dir, &name, &exchange, &endpoint, json).await,
        Command::Leaders {
            command: None,
            endpoint,
            json,
        } => api::public_leaders(endpoint.as_deref())
            .await
            .map(|l| portfolios::leaders(&l, json)),
        Command::Replay {
            leader,
            config,
            copy,
            days,
            endpoint,
            json,
        } => api::replay_public(
            &leader,
            &config,
            copy.as_deref(),
            days,
            endpoint.as_deref(),
            format::now_ms(),
        )
        .await
        .map(|(copy, r)| portfolios::replay(&leader, &copy, days, &r, json)),
        Command::Sim(args) => live::sim(args).await,
        Command::DebugPanic { name } => api::keys::debug_panic(&name),
    }
}

fn keys(command: KeysCommand, dir: &std::path::Path) -> Result<String, ApiError> {
    let keychain = copydesk::secrets::Keychain::app();
    match command {
        KeysCommand::Add { name } => {
            // Lock first, so nobody types a secret into a command that will be refused.
            let data = api::keys::open_for_keys(dir, &name, "copydesk keys add")?;
            let (key, secret) = input::credentials()?;
            let hint = api::keys::add_key(&data, &keychain, &name, &key, &secret)?;
            Ok(format::key_added(&name, &hint, keychain.service()))
        }
        KeysCommand::List { json } => api::keys::list_keys(dir).map(|l| format::keys(&l, json)),
        KeysCommand::Remove { name } => {
            let data = api::keys::open_for_keys(dir, &name, "copydesk keys remove")?;
            api::keys::remove_key(&data, &keychain, &name)?;
            Ok(format!("removed the key of `{name}` from the keychain"))
        }
    }
}

/// `copydesk bench`: runs the measurements and formats the table.
async fn bench(quick: bool, only: Vec<String>) -> Result<String, ApiError> {
    let mut opts = copydesk::bench::BenchOptions {
        only,
        ..copydesk::bench::BenchOptions::default()
    };
    if quick {
        opts.signals = 60;
        opts.sustained = std::time::Duration::from_secs(30);
        opts.fan_out = 10;
        opts.fan_out_signals = 10;
        opts.idle = std::time::Duration::from_secs(5);
    }
    let report = copydesk::bench::run(opts)
        .await
        .map_err(ApiError::internal)?;
    Ok(format::bench(&report))
}
