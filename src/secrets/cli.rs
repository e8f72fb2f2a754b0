//! The `copydesk keys` commands, here so the binary stays a one-line dispatch. Credentials
//! are read from stdin (two lines: key, then secret) or, on a terminal, from a prompt that
//! does not echo; they go straight into [`Secret`]s and from there to the keychain.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use clap::Subcommand;

use super::keychain::{Keychain, SecretPart};
use super::keys::{self, KeysError};
use super::secret::Secret;
use super::source::SecretSource;
use crate::store::DataDir;

/// Environment variable that arms the hidden `debug-panic` command (tests only).
pub const TEST_PANIC_ENV: &str = "COPYDESK_TEST_PANIC";

/// `copydesk keys …`
#[derive(Debug, Clone, Subcommand)]
pub enum KeysCommand {
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

/// Runs a `keys` command against the data directory `dir`; the text is what to print.
pub fn run(dir: &Path, command: KeysCommand) -> Result<String, KeysError> {
    let keychain = Keychain::app();
    match command {
        KeysCommand::Add { name } => {
            keys::validate_name(&name)?;
            // Lock first, so nobody types a secret into a command that will be refused.
            let data = DataDir::open(dir, "copydesk keys add")?;
            let (key, secret) = read_credentials()?;
            let hint = keys::add(&data, &keychain, &name, &key, &secret)?;
            Ok(format!(
                "stored key {hint} for `{name}` in the keychain (service {})",
                keychain.service()
            ))
        }
        KeysCommand::List { json } => {
            let list = keys::list(dir)?;
            if json {
                return serde_json::to_string_pretty(&list)
                    .map_err(|e| KeysError::Refused(format!("cannot print the list: {e}")));
            }
            if list.is_empty() {
                return Ok("no keys stored; add one with `copydesk keys add NAME`".into());
            }
            Ok(list
                .iter()
                .map(|k| format!("{}\t{}", k.name, k.key_hint))
                .collect::<Vec<_>>()
                .join("\n"))
        }
        KeysCommand::Remove { name } => {
            keys::validate_name(&name)?;
            let data = DataDir::open(dir, "copydesk keys remove")?;
            keys::remove(&data, &keychain, &name)?;
            Ok(format!("removed the key of `{name}` from the keychain"))
        }
    }
}

fn read_credentials() -> Result<(Secret, Secret), KeysError> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        let key = prompt("API key: ", "api key")?;
        let secret = prompt("API secret: ", "api secret")?;
        return Ok((key, secret));
    }
    let mut lock = stdin.lock();
    let key = read_line(&mut lock, "api key")?;
    let secret = read_line(&mut lock, "api secret")?;
    Ok((key, secret))
}

fn prompt(text: &str, field: &'static str) -> Result<Secret, KeysError> {
    rpassword::prompt_password(text)
        .map(Secret::new)
        .map_err(|_| KeysError::InvalidCredential {
            field,
            problem: "could not be read from the terminal",
        })
}

fn read_line(input: &mut impl BufRead, field: &'static str) -> Result<Secret, KeysError> {
    // Room for any real credential up front, so the buffer is not reallocated (which would
    // leave an unzeroed copy behind) while the line is read.
    let mut line = String::with_capacity(4096);
    let n = input
        .read_line(&mut line)
        .map_err(|_| KeysError::InvalidCredential {
            field,
            problem: "could not be read from stdin (give the key and the secret on two lines)",
        })?;
    let secret = Secret::new(line);
    if n == 0 {
        return Err(KeysError::InvalidCredential {
            field,
            problem: "is missing on stdin (give the key and the secret on two lines)",
        });
    }
    let trimmed = secret.expose().trim_end_matches(['\r', '\n']);
    Ok(Secret::new(trimmed.to_owned()))
}

/// The hidden `debug-panic NAME` command: loads account `NAME`'s credentials the way the
/// engine does, then panics while holding them, so the leak test can check that a crash
/// report shows none of them. Refused unless [`TEST_PANIC_ENV`] is `1`.
pub fn debug_panic(name: &str) -> Result<String, KeysError> {
    if std::env::var_os(TEST_PANIC_ENV).is_none_or(|v| v != "1") {
        return Err(KeysError::Refused(format!(
            "debug-panic is a test hook; it runs only with {TEST_PANIC_ENV}=1"
        )));
    }
    let keychain = Keychain::app();
    let source = SecretSource::Keychain(name.to_owned());
    let key = source.resolve(name, SecretPart::ApiKey, &keychain)?;
    let secret = source.resolve(name, SecretPart::ApiSecret, &keychain)?;
    tracing::trace!(
        ?key,
        ?secret,
        account = name,
        "credentials loaded before a forced panic"
    );
    panic!("forced test panic while holding key {key:?} and secret {secret:?} ({key}, {secret})");
}
