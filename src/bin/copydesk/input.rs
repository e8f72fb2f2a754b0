//! Reads an API key and secret: two lines on stdin, or on a terminal a prompt that does
//! not echo. The text goes straight into `Secret`s.

use std::io::{BufRead, IsTerminal};

use copydesk::api::ApiError;
use copydesk::secrets::Secret;

fn refused(field: &str, problem: &str) -> ApiError {
    let name = if field == "api key" {
        "apiKey"
    } else {
        "apiSecret"
    };
    ApiError::field(
        name,
        format!("{field}: {problem}; paste it exactly as the exchange showed it"),
    )
}

/// The key, then the secret.
pub fn credentials() -> Result<(Secret, Secret), ApiError> {
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

fn prompt(text: &str, field: &str) -> Result<Secret, ApiError> {
    rpassword::prompt_password(text)
        .map(Secret::new)
        .map_err(|_| refused(field, "could not be read from the terminal"))
}

fn read_line(input: &mut impl BufRead, field: &str) -> Result<Secret, ApiError> {
    // Room for any real credential up front, so the buffer is not reallocated (which would
    // leave an unzeroed copy behind) while the line is read.
    let mut line = String::with_capacity(4096);
    let n = input.read_line(&mut line).map_err(|_| {
        refused(
            field,
            "could not be read from stdin (give the key and the secret on two lines)",
        )
    })?;
    let secret = Secret::new(line);
    if n == 0 {
        return Err(refused(
            field,
            "is missing on stdin (give the key and the secret on two lines)",
        ));
    }
    let trimmed = secret.expose().trim_end_matches(['\r', '\n']);
    Ok(Secret::new(trimmed.to_owned()))
}
