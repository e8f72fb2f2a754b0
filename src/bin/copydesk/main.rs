//! The `copydesk` command line: the same engine as the desktop app, for servers. Every
//! subcommand is one call into `copydesk::api`; the modules under `copydesk/` only read
//! input and format output. The tokio runtime is built here, once.

mod format;
mod input;
mod live;

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
    /// Print copies, figures and positions (works while `run` is running).
    Status {
        /// Print JSON (the app's StatusDto, camelCase) instead of text.
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
        Command::Status { json } => api::status_read_only(&dir).map(|s| format::status(&s, json)),
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
