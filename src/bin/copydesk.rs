//! The `copydesk` command line: the same engine as the desktop app, for servers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[path = "cli/leaders.rs"]
mod leaders_cli;

#[derive(Debug, Parser)]
#[command(
    name = "copydesk",
    version,
    about = "Copy a lead trader's futures trades onto your own account, locally."
)]
struct Cli {
    /// Data directory (database, logs, lock). Defaults to the app's data directory.
    #[arg(long, global = true, env = copydesk::api::paths::DATA_DIR_ENV)]
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
        command: copydesk::secrets::cli::KeysCommand,
    },
    /// Write copies, fills and figures as JSON and CSV.
    Export {
        /// Output directory (default: `<data dir>/exports/<time>`).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Run the copies of a config file until Ctrl-C (state is kept in the data directory).
    Run {
        /// The config file (see docs/config.md).
        #[arg(long)]
        config: PathBuf,
    },
    /// Paper mode: copy a demo leader on an in-process simulator, no key needed.
    Demo,
    /// Print copies, figures and positions (works while `run` is running).
    Status {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Look after stored copies.
    Copies {
        #[command(subcommand)]
        command: CopiesCommand,
    },
    /// List public lead portfolios with their 7/30/90-day figures.
    Leaders {
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

#[derive(Debug, Subcommand)]
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
    let data_dir = copydesk::api::paths::data_dir(cli.data_dir);
    // Without a log file the CLI still works; it says why on stderr.
    let _log_guard = copydesk::logging::init(&data_dir)
        .map_err(|e| eprintln!("cannot write logs under {}: {e}", data_dir.display()))
        .ok();
    match cli.command {
        Command::Info { json } => {
            tracing::debug!(data_dir = %data_dir.display(), "info requested");
            let info = copydesk::api::app_info(&data_dir);
            let out = if json {
                serde_json::to_string_pretty(&info).unwrap_or_default()
            } else {
                format!(
                    "{} {}\ndata directory: {}",
                    info.name, info.version, info.data_dir
                )
            };
            println_out(&out);
            ExitCode::SUCCESS
        }
        Command::Keys { command } => {
            report(|| copydesk::secrets::cli::run(&data_dir, command).map_err(Into::into))
        }
        Command::Export { out } => report(|| {
            copydesk::store::export_data_dir(&data_dir, out.as_deref())
                .map(|r| r.summary())
                .map_err(Into::into)
        }),
        Command::Run { config } => plain(copydesk::runtime::cli::run(&config, &data_dir)),
        Command::Demo => plain(copydesk::runtime::demo::run()),
        Command::Status { json } => plain(copydesk::runtime::cli::status(&data_dir, json)),
        Command::Copies {
            command: CopiesCommand::Repair { name, config, yes },
        } => report(|| {
            block_on(copydesk::api::repair_copy(&data_dir, &config, &name, yes)).map(repair_text)
        }),
        Command::Leaders { endpoint, json } => {
            plain(leaders_cli::leaders(endpoint.as_deref(), json))
        }
        Command::Replay {
            leader,
            config,
            copy,
            days,
            endpoint,
            json,
        } => plain(leaders_cli::replay(
            &leader,
            &config,
            copy.as_deref(),
            days,
            endpoint.as_deref(),
            json,
        )),
        Command::Sim(args) => match copydesk::sim::cli::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::FAILURE
            }
        },
        Command::DebugPanic { name } => {
            report(|| copydesk::secrets::cli::debug_panic(&name).map_err(Into::into))
        }
    }
}

/// Runs one future on a runtime built here: the core builds none of its own.
fn block_on<T>(
    f: impl std::future::Future<Output = Result<T, copydesk::api::ApiError>>,
) -> Result<T, copydesk::api::ApiError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            copydesk::api::ApiError::new(
                copydesk::api::ErrorCode::Internal,
                format!("cannot start the runtime: {e}"),
            )
        })?
        .block_on(f)
}

/// `copies repair` as text: what the rebuilt ledger adopts, what it leaves, what to do next.
fn repair_text(r: copydesk::api::RepairDto) -> String {
    let mut out = match &r.stored_error {
        Some(e) => format!("copy `{}`: {e}\n", r.copy),
        None => format!(
            "copy `{}`: its stored ledger reads fine; rebuilding it anyway\n",
            r.copy
        ),
    };
    if r.adopt.is_empty() {
        out.push_str(
            "adopt: nothing (no position of this copy's orders is still open on the venue)\n",
        );
    }
    for a in &r.adopt {
        out.push_str(&format!(
            "adopt {} {} {} (journal {}, venue {}, leader {}, k {}, protective stop {})\n",
            a.symbol,
            a.direction,
            a.qty,
            a.journal_qty,
            a.venue_qty,
            a.leader_qty,
            a.k,
            a.stop_price
                .as_deref()
                .unwrap_or("none: placed at the next start")
        ));
    }
    for l in &r.left {
        out.push_str(&format!("leave {} {}: {}\n", l.symbol, l.side, l.why));
    }
    if r.applied {
        out.push_str("written: the copy starts from this ledger at the next `copydesk run`");
    } else {
        out.push_str(&format!(
            "nothing written; run `copydesk copies repair {} --config FILE --yes` to apply",
            r.copy
        ));
    }
    out
}

/// Runs a command, printing its text or its error.
fn report(f: impl FnOnce() -> Result<String, copydesk::api::ApiError>) -> ExitCode {
    match f() {
        Ok(text) => {
            println_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::debug!(code = ?e.code, "command failed");
            eprintln!("error: {}", e.message);
            ExitCode::FAILURE
        }
    }
}

/// Prints a command's text, or its error on stderr.
fn plain(r: Result<String, String>) -> ExitCode {
    match r {
        Ok(text) => {
            println_out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

#[allow(clippy::print_stdout)]
fn println_out(s: &str) {
    println!("{s}");
}
