//! Request signing: HMAC-SHA256 (lowercase hex) over the exact bytes sent, or Ed25519
//! (base64, then percent-encoded) for keys given as a PKCS#8 PEM. Which one is used follows
//! the secret's form, as the venue's own clients decide it.

use std::fmt;

use base64::Engine as _;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer as _, SigningKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::exchange::credentials::Credentials;
use crate::exchange::error::ExchangeError;

/// Signs request payloads for one key.
pub enum Signer {
    Hmac(Hmac<Sha256>),
    Ed25519(Box<SigningKey>),
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Signer::Hmac(_) => f.write_str("Signer::Hmac(<redacted>)"),
            Signer::Ed25519(_) => f.write_str("Signer::Ed25519(<redacted>)"),
        }
    }
}

impl Signer {
    /// Picks the scheme from the secret: a PEM private key is Ed25519 (RSA keys are
    /// refused), anything else is an HMAC secret.
    pub fn from_credentials(creds: &Credentials) -> Result<Self, ExchangeError> {
        let secret = creds.expose_secret();
        if secret.contains("PRIVATE KEY") {
            let key =
                SigningKey::from_pkcs8_pem(secret.trim()).map_err(|_| ExchangeError::Invalid {
                    field: "api secret",
                    reason: "the PEM key is not an Ed25519 PKCS#8 private key (RSA keys are \
                             not supported)"
                        .into(),
                })?;
            return Ok(Signer::Ed25519(Box::new(key)));
        }
        if secret.is_empty() {
            return Err(ExchangeError::Invalid {
                field: "api secret",
                reason: "it is empty".into(),
            });
        }
        let mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).map_err(|_| {
            ExchangeError::Invalid {
                field: "api secret",
                reason: "it cannot be used as an HMAC key".into(),
            }
        })?;
        Ok(Signer::Hmac(mac))
    }

    /// The value of the `signature` parameter for `payload` (query string followed
    /// directly by the body), already safe to append to a query string.
    pub fn sign(&self, payload: &[u8]) -> String {
        match self {
            Signer::Hmac(mac) => {
                let mut mac = mac.clone();
                mac.update(payload);
                hex::encode(mac.finalize().into_bytes())
            }
            Signer::Ed25519(key) => {
                let sig = key.sign(payload);
                let b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_bytes());
                url::form_urlencoded::byte_serialize(b64.as_bytes()).collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::Secret;

    const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    const EXAMPLE_1: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";

    fn hmac() -> Signer {
        Signer::from_credentials(&Credentials::new("k", Secret::new(SECRET.into())))
            .expect("hmac secret accepted")
    }

    #[test]
    fn hmac_matches_the_official_usdm_example() {
        assert_eq!(
            hmac().sign(EXAMPLE_1.as_bytes()),
            "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9",
            "spec 2.2(a) example 1"
        );
    }

    #[test]
    fn hmac_signs_query_and_body_concatenated_without_separator() {
        let payload = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTCquantity=1&price=9000&recvWindow=5000&timestamp=1591702613943";
        assert_eq!(
            hmac().sign(payload.as_bytes()),
            "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4",
            "spec 2.2(a) mixed query + body"
        );
    }

    #[test]
    fn hmac_matches_the_extra_vectors() {
        let cases = [
            ("timestamp=1700000000000", "3fa05ca894e60a0e1b4af7c854b1b2f57b2d3882cd2edf8d3a19d32f1cd6e1f9"),
            ("symbol=BTCUSDT&leverage=20&timestamp=1700000000000", "90a25c919e9e38172dc5b3051ce9161b22dd6596175edb9265d793cc98046526"),
            ("symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&positionSide=LONG&newClientOrderId=copy-0001&newOrderRespType=RESULT&recvWindow=5000&timestamp=1700000000000", "44431d16f179478f7232786e6361270a7bc8caffdd81740f5af1adae32b27b3d"),
            ("algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=45000&closePosition=true&workingType=MARK_PRICE&timestamp=1700000000000", "ed5a8b1ee676b75f1a0489199c3dd2719d0799a81903aa20bb9e6461b0196072"),
        ];
        let s = hmac();
        for (payload, want) in cases {
            assert_eq!(
                s.sign(payload.as_bytes()),
                want,
                "spec 2.2(c) for {payload}"
            );
        }
    }

    #[test]
    fn spot_secret_vector_shows_the_secret_matters() {
        let spot = Signer::from_credentials(&Credentials::new(
            "k",
            Secret::new("NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j".into()),
        ))
        .expect("accepted");
        assert_eq!(
            spot.sign(b"symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1&recvWindow=5000&timestamp=1499827319559"),
            "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71",
            "spec 2.2(b) spot example"
        );
    }

    #[test]
    fn ed25519_matches_the_rfc8032_vector_url_encoded() {
        let pem = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n-----END PRIVATE KEY-----\n";
        let s = Signer::from_credentials(&Credentials::new("k", Secret::new(pem.into())))
            .expect("ed25519 accepted");
        assert!(
            matches!(s, Signer::Ed25519(_)),
            "PEM secret selects Ed25519"
        );
        assert_eq!(
            s.sign(EXAMPLE_1.as_bytes()),
            "ATEuJPvzWUFs0d1x9FwudUJsSfMMWR%2BbkdrxtbOYgFkZj36Ol%2FvwKDGm9UWtKuq0mtnSTOQruQAwFvR128PaDg%3D%3D",
            "spec 2.2(d)"
        );
    }

    #[test]
    fn bad_pem_is_refused_naming_the_field() {
        let err = Signer::from_credentials(&Credentials::new(
            "k",
            Secret::new("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----".into()),
        ))
        .expect_err("garbage PEM refused");
        assert!(
            err.to_string().contains("api secret"),
            "error names the field: {err}"
        );
    }
}
