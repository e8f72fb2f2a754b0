//! Where the adapter connects: mainnet, demo trading, or any base URL (the local
//! simulator). WebSocket and wallet URLs follow the REST choice.

use url::Url;

use crate::exchange::error::ExchangeError;

const MAINNET_REST: &str = "https://fapi.binance.com";
const MAINNET_WS: &str = "wss://fstream.binance.com";
const MAINNET_WALLET: &str = "https://api.binance.com";
const DEMO_REST: &str = "https://demo-fapi.binance.com";
const DEMO_WS: &str = "wss://demo-fstream.binance.com";

/// A Binance USD-M environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Environment {
    Mainnet,
    /// Demo trading; it has no wallet API, so key permissions cannot be read there.
    Demo,
    /// Any base URL serving the same API (e.g. `http://127.0.0.1:8900`). The private
    /// stream and the wallet API are expected on the same host.
    Custom(Url),
}

impl Environment {
    /// Parses `mainnet`, `demo` or an `http(s)://` base URL.
    pub fn parse(s: &str) -> Result<Self, ExchangeError> {
        match s.trim() {
            "mainnet" => Ok(Environment::Mainnet),
            "demo" => Ok(Environment::Demo),
            other => {
                let url = Url::parse(other).map_err(|e| ExchangeError::Invalid {
                    field: "environment",
                    reason: format!("`{other}` is not mainnet, demo or a URL: {e}"),
                })?;
                match url.scheme() {
                    "http" | "https" if url.host().is_some() => Ok(Environment::Custom(url)),
                    _ => Err(ExchangeError::Invalid {
                        field: "environment",
                        reason: format!("`{other}` must be an http or https URL with a host"),
                    }),
                }
            }
        }
    }

    /// The URLs this environment uses.
    pub fn endpoints(&self) -> Result<Endpoints, ExchangeError> {
        match self {
            Environment::Mainnet => Ok(Endpoints {
                rest: fixed(MAINNET_REST)?,
                ws: fixed(MAINNET_WS)?,
                wallet: Some(fixed(MAINNET_WALLET)?),
            }),
            Environment::Demo => Ok(Endpoints {
                rest: fixed(DEMO_REST)?,
                ws: fixed(DEMO_WS)?,
                wallet: None,
            }),
            Environment::Custom(u) => {
                let mut ws = u.clone();
                let scheme = if u.scheme() == "https" { "wss" } else { "ws" };
                ws.set_scheme(scheme).map_err(|()| ExchangeError::Invalid {
                    field: "environment",
                    reason: format!("cannot derive a WebSocket URL from `{u}`"),
                })?;
                Ok(Endpoints {
                    rest: u.clone(),
                    ws,
                    wallet: Some(u.clone()),
                })
            }
        }
    }
}

/// Resolved URLs of one environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// REST base.
    pub rest: Url,
    /// Base of the WebSocket host (`wss://`, or `ws://` for a plain-http custom base).
    pub ws: Url,
    /// Base of the wallet API that reports key permissions, if the environment has one.
    pub wallet: Option<Url>,
}

impl Endpoints {
    /// The user-data stream URL for a listen key: the private endpoint with no `events`
    /// filter, so `listenKeyExpired` and `ALGO_UPDATE` are delivered too.
    pub fn private_stream_url(&self, listen_key: &str) -> Url {
        let mut url = self.ws.clone();
        url.set_path("/private/ws");
        url.query_pairs_mut()
            .clear()
            .append_pair("listenKey", listen_key);
        url
    }

    /// A combined market-stream URL on one of the venue's split hosts: `market` (mark
    /// prices) or `public` (book tickers), with the given streams.
    pub fn market_stream_url(&self, host_path: &str, streams: &str) -> Url {
        let mut url = self.ws.clone();
        url.set_path(&format!("/{host_path}/stream"));
        // Stream names (`!markPrice@arr@1s`) go as written: the venue expects them so.
        url.set_query(
            (!streams.is_empty())
                .then(|| format!("streams={streams}"))
                .as_deref(),
        );
        url
    }

    /// Key for the process-wide weight limiter: the REST host and port (the venue counts
    /// weight per IP, and one host is one IP budget).
    pub fn limiter_key(&self) -> String {
        format!(
            "{}:{}",
            self.rest.host_str().unwrap_or_default(),
            self.rest.port_or_known_default().unwrap_or_default()
        )
    }
}

fn fixed(s: &str) -> Result<Url, ExchangeError> {
    Url::parse(s).map_err(|e| ExchangeError::Invalid {
        field: "environment",
        reason: format!("built-in URL `{s}` does not parse: {e}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_rest_choice() {
        let m = Environment::parse("mainnet")
            .and_then(|e| e.endpoints())
            .expect("mainnet parses");
        assert_eq!(
            m.rest.as_str(),
            "https://fapi.binance.com/",
            "mainnet REST base"
        );
        assert_eq!(
            m.private_stream_url("abc").as_str(),
            "wss://fstream.binance.com/private/ws?listenKey=abc",
            "mainnet uses the new private endpoint"
        );
        let d = Environment::parse("demo")
            .and_then(|e| e.endpoints())
            .expect("demo parses");
        assert_eq!(
            d.private_stream_url("k").as_str(),
            "wss://demo-fstream.binance.com/private/ws?listenKey=k",
            "demo uses the demo private stream host"
        );
        assert_eq!(d.wallet, None, "demo has no wallet API");
        let c = Environment::parse("http://127.0.0.1:8900")
            .and_then(|e| e.endpoints())
            .expect("custom parses");
        assert_eq!(
            c.private_stream_url("k").as_str(),
            "ws://127.0.0.1:8900/private/ws?listenKey=k",
            "plain http custom base gives ws:// on the same host"
        );
        assert_eq!(
            c.limiter_key(),
            "127.0.0.1:8900",
            "limiter keyed by host and port"
        );
    }

    #[test]
    fn garbage_environment_is_refused_naming_the_field() {
        let err = Environment::parse("ftp://x").expect_err("ftp refused");
        assert!(err.to_string().contains("environment"), "{err}");
    }
}
