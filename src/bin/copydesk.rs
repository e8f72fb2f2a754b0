//! The `copydesk` command line: the same engine as the desktop app, for servers.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

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
    /// Run the simulated exchange (Binance USD-M wire protocol) until Ctrl-C.
    Sim(copydesk::sim::cli::SimArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let data_dir = copydesk::api::paths::data_dir(cli.data_dir);
    match cli.command {
        Command::Info { json } => {
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
        Command::Sim(args) => match copydesk::sim::cli::run(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        },
    }
}

#[allow(clippy::print_stdout)]
fn println_out(s: &str) {
    println!("{s}");
}
