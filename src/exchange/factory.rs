//! The venue factory: the one place that turns an account's `exchange` name, endpoint and
//! key into a port (`Arc<dyn Exchange>`). The runtime receives a [`VenueFactory`] (in
//! `RunOptions`) and never names an adapter, so a test or the app can hand it another
//! venue (an in-memory one, or paper accounts routed to the embedded simulator).
//! [`DefaultVenues`] builds the adapters this crate has: `binance-usdm` for now.

use std::fmt;
use std::sync::Arc;

use super::binance_usdm::{BinanceUsdm, Environment, HttpConfig, Options};
use super::{Clock, Credentials, Exchange, ExchangeError, SystemClock};

/// What every adapter may be given besides the endpoint and the key.
#[derive(Debug, Clone)]
pub struct VenueOptions {
    /// The time source the adapter signs and paces with.
    pub clock: Arc<dyn Clock>,
    /// The receive window (ms) the venue applies to signed requests; the runtime's resend
    /// rule waits out the same window.
    pub recv_window_ms: u64,
    /// Low priority on the shared request budget: reads that must never make a copy wait
    /// (a leader's history for its figures).
    pub background: bool,
}

impl Default for VenueOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            recv_window_ms: 5_000,
            background: false,
        }
    }
}

/// One account to connect.
#[derive(Debug, Clone)]
pub struct VenueRequest<'a> {
    /// The account's name, for messages.
    pub account: &'a str,
    /// The account's `exchange` field, e.g. `binance-usdm`.
    pub exchange: &'a str,
    /// The account's `endpoint` field: a network name (`mainnet`, `demo`) or a base URL.
    pub endpoint: &'a str,
    /// The key; `None` for public data only.
    pub credentials: Option<Credentials>,
    pub options: VenueOptions,
}

/// Why an account could not be connected. The messages name the field and the fix.
#[derive(Debug, thiserror::Error)]
pub enum VenueError {
    #[error("exchange `{exchange}` is not supported; use exchange = {supported}")]
    UnknownExchange {
        exchange: String,
        /// The accepted names, quoted and joined for the message.
        supported: String,
    },
    #[error("endpoint: {reason}; use {hint}")]
    BadEndpoint { reason: String, hint: String },
    #[error("{0}")]
    Adapter(#[from] ExchangeError),
}

/// Builds the port for an account.
pub trait VenueFactory: Send + Sync + fmt::Debug {
    /// Checks an account's `exchange` and `endpoint` without connecting (config checks).
    fn check(&self, exchange: &str, endpoint: &str) -> Result<(), VenueError>;

    /// The port for one account. Builds the client only; nothing is sent yet.
    fn connect(&self, request: VenueRequest<'_>) -> Result<Arc<dyn Exchange>, VenueError>;
}

/// The adapters this crate has.
#[derive(Debug, Clone, Copy, Default)]
pub struct DefaultVenues;

const BINANCE_USDM: &str = "binance-usdm";

impl DefaultVenues {
    fn binance_environment(endpoint: &str) -> Result<Environment, VenueError> {
        Environment::parse(endpoint).map_err(|e| VenueError::BadEndpoint {
            reason: e.to_string(),
            hint: "\"mainnet\", \"demo\" or a URL such as \"http://127.0.0.1:8900\"".into(),
        })
    }

    fn unknown(exchange: &str) -> VenueError {
        VenueError::UnknownExchange {
            exchange: exchange.to_owned(),
            supported: format!("\"{BINANCE_USDM}\""),
        }
    }
}

impl VenueFactory for DefaultVenues {
    fn check(&self, exchange: &str, endpoint: &str) -> Result<(), VenueError> {
        match exchange {
            BINANCE_USDM => Self::binance_environment(endpoint).map(|_| ()),
            other => Err(Self::unknown(other)),
        }
    }

    fn connect(&self, request: VenueRequest<'_>) -> Result<Arc<dyn Exchange>, VenueError> {
        match request.exchange {
            BINANCE_USDM => {
                let env = Self::binance_environment(request.endpoint)?;
                let venue = BinanceUsdm::new(
                    &env,
                    request.credentials,
                    Options {
                        clock: Some(request.options.clock),
                        http: HttpConfig {
                            recv_window_ms: request.options.recv_window_ms,
                            background: request.options.background,
                            ..HttpConfig::default()
                        },
                        ..Options::default()
                    },
                )?;
                Ok(Arc::new(venue))
            }
            other => Err(Self::unknown(other)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_exchanges_and_bad_endpoints_are_refused_with_the_fix() {
        let e = DefaultVenues
            .check("okx-swap", "mainnet")
            .expect_err("an exchange without an adapter must be refused");
        assert!(
            e.to_string().contains("use exchange = \"binance-usdm\""),
            "the message names the supported exchange: {e}"
        );
        let e = DefaultVenues
            .check("binance-usdm", "ftp://nowhere")
            .expect_err("a URL the adapter cannot use must be refused");
        assert!(
            e.to_string().starts_with("endpoint: ") && e.to_string().contains("\"mainnet\""),
            "the message names the field and the accepted forms: {e}"
        );
        DefaultVenues
            .check("binance-usdm", "http://127.0.0.1:8900")
            .expect("a loopback URL is accepted");
    }

    #[test]
    fn connect_builds_the_adapter_named_by_the_account() {
        let port = DefaultVenues
            .connect(VenueRequest {
                account: "me",
                exchange: "binance-usdm",
                endpoint: "http://127.0.0.1:8900",
                credentials: None,
                options: VenueOptions::default(),
            })
            .expect("binance-usdm connects");
        assert_eq!(
            port.venue(),
            "binance-usdm",
            "the port is the Binance adapter"
        );
    }
}
