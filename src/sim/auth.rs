//! Request signing as Binance checks it: HMAC-SHA256 (hex) or Ed25519 (base64, sent
//! percent-encoded) over the raw query string followed directly by the raw body (no `&`
//! between them), with `signature` taken out of whichever half carried it, and the
//! `timestamp`/`recvWindow` rule. Works on the bytes as received, because clients
//! percent-encode characters the signature covers.

use base64::Engine as _;
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::account::SecretKey;
use super::clock::Millis;
use super::error::{WireError, WireResult};

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `payload` under `secret`.
pub fn sign(secret: &str, payload: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(payload.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Splits `signature=…` out of a raw `a=1&b=2` string: (rest, signature).
fn take_signature(raw: &str) -> (String, Option<String>) {
    let mut sig = None;
    let rest: Vec<&str> = raw
        .split('&')
        .filter(|part| {
            if let Some(v) = part.strip_prefix("signature=") {
                sig = Some(v.to_owned());
                false
            } else {
                !part.is_empty()
            }
        })
        .collect();
    (rest.join("&"), sig)
}

/// The signed payload and the signature sent, from the raw query and body.
pub fn payload_and_signature(raw_query: &str, raw_body: &str) -> (String, Option<String>) {
    let (q, sig_q) = take_signature(raw_query);
    let (b, sig_b) = take_signature(raw_body);
    let body_part = if sig_b.is_some() {
        b
    } else {
        raw_body.to_owned()
    };
    let query_part = if sig_q.is_some() {
        q
    } else {
        raw_query.to_owned()
    };
    (format!("{query_part}{body_part}"), sig_q.or(sig_b))
}

/// Checks the signature of a request. `-1102` without one, `-1022` when it does not match.
pub fn verify(secret: &str, raw_query: &str, raw_body: &str) -> WireResult<()> {
    let (payload, sig) = payload_and_signature(raw_query, raw_body);
    let sig = sig
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WireError::mandatory("signature"))?;
    if sign(secret, &payload).eq_ignore_ascii_case(&sig) {
        Ok(())
    } else {
        Err(WireError::bad(
            -1022,
            "Signature for this request is not valid.",
        ))
    }
}

/// Checks a request's signature with whatever the account's key is.
pub fn verify_with(key: &SecretKey, raw_query: &str, raw_body: &str) -> WireResult<()> {
    match key {
        SecretKey::Hmac(secret) => verify(secret, raw_query, raw_body),
        SecretKey::Ed25519(public) => verify_ed25519(public, raw_query, raw_body),
    }
}

/// Checks an Ed25519 signature: the `signature` value, percent-decoded, is the base64 of
/// the signature over the same payload HMAC keys sign.
pub fn verify_ed25519(public: &VerifyingKey, raw_query: &str, raw_body: &str) -> WireResult<()> {
    let (payload, sig) = payload_and_signature(raw_query, raw_body);
    let sig = sig
        .filter(|s| !s.is_empty())
        .ok_or_else(|| WireError::mandatory("signature"))?;
    let invalid = || WireError::bad(-1022, "Signature for this request is not valid.");
    let bytes = percent_decode(&sig)
        .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
        .ok_or_else(invalid)?;
    let signature = Signature::from_slice(&bytes).map_err(|_| invalid())?;
    public
        .verify(payload.as_bytes(), &signature)
        .map_err(|_| invalid())
}

/// `%XX` escapes decoded; `None` for a broken escape. A `+` stays a `+`: base64 uses it,
/// and clients that send it unescaped mean the character, not a space.
fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Binance's timing rule: `timestamp < serverTime + 1000` and
/// `serverTime − timestamp ≤ recvWindow`.
pub fn check_timestamp(
    timestamp: Millis,
    recv_window: Millis,
    server_time: Millis,
) -> WireResult<()> {
    if timestamp >= server_time.saturating_add(1000) {
        return Err(WireError::bad(
            -1021,
            "Timestamp for this request was 1000ms ahead of the server's time.",
        ));
    }
    if server_time.saturating_sub(timestamp) > recv_window {
        return Err(WireError::bad(
            -1021,
            "Timestamp for this request is outside of the recvWindow.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9";
    const EX1: &str = "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC&recvWindow=5000&timestamp=1591702613943";

    #[test]
    fn official_example_one_as_query_and_as_body() {
        let want = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9";
        assert_eq!(sign(SECRET, EX1), want, "spec 2.2(a) example 1");
        let q = format!("{EX1}&signature={want}");
        assert_eq!(verify(SECRET, &q, ""), Ok(()), "query form verifies");
        let b = format!("{EX1}&signature={want}");
        assert_eq!(verify(SECRET, "", &b), Ok(()), "body form verifies");
    }

    #[test]
    fn mixed_query_and_body_concatenate_without_ampersand() {
        let want = "30baaf0fab549bbeda7f5ef201898b34122da25fd23c646cac2c529aebe670a4";
        let q = "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC";
        let b = format!(
            "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943&signature={want}"
        );
        assert_eq!(verify(SECRET, q, &b), Ok(()), "spec 2.2(a) mixed example");
        let upper = b.to_uppercase().replace("QUANTITY", "quantity");
        assert!(verify(SECRET, q, &upper).is_err(), "altered body must fail");
    }

    #[test]
    fn extra_vectors() {
        for (payload, want) in [
            ("timestamp=1700000000000", "3fa05ca894e60a0e1b4af7c854b1b2f57b2d3882cd2edf8d3a19d32f1cd6e1f9"),
            ("symbol=BTCUSDT&leverage=20&timestamp=1700000000000", "90a25c919e9e38172dc5b3051ce9161b22dd6596175edb9265d793cc98046526"),
            ("symbol=BTCUSDT&side=SELL&type=MARKET&quantity=0.010&positionSide=LONG&newClientOrderId=copy-0001&newOrderRespType=RESULT&recvWindow=5000&timestamp=1700000000000", "44431d16f179478f7232786e6361270a7bc8caffdd81740f5af1adae32b27b3d"),
            ("algoType=CONDITIONAL&symbol=BTCUSDT&side=SELL&type=STOP_MARKET&triggerPrice=45000&closePosition=true&workingType=MARK_PRICE&timestamp=1700000000000", "ed5a8b1ee676b75f1a0489199c3dd2719d0799a81903aa20bb9e6461b0196072"),
        ] {
            assert_eq!(sign(SECRET, payload), want, "spec 2.2(c) vector for {payload}");
        }
    }

    #[test]
    fn signature_compare_ignores_hex_case() {
        let sig = sign(SECRET, "timestamp=1").to_uppercase();
        assert_eq!(
            verify(SECRET, &format!("timestamp=1&signature={sig}"), ""),
            Ok(()),
            "uppercase hex accepted"
        );
    }

    /// The spec's Ed25519 vector (d): RFC 8032 test-1 key over example 1.
    #[test]
    fn ed25519_vector_verifies_and_a_changed_payload_does_not() {
        let public: [u8; 32] =
            hex::decode("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
                .ok()
                .and_then(|v| v.try_into().ok())
                .expect("32-byte public key");
        let key = SecretKey::Ed25519(VerifyingKey::from_bytes(&public).expect("valid key"));
        let sig = "ATEuJPvzWUFs0d1x9FwudUJsSfMMWR%2BbkdrxtbOYgFkZj36Ol%2FvwKDGm9UWtKuq0mtnSTOQruQAwFvR128PaDg%3D%3D";
        assert_eq!(
            verify_with(&key, &format!("{EX1}&signature={sig}"), ""),
            Ok(()),
            "spec 2.2(d) signature verifies over example 1"
        );
        let changed = EX1.replace("quantity=1", "quantity=2");
        assert_eq!(
            verify_with(&key, &format!("{changed}&signature={sig}"), "").map_err(|e| e.code),
            Err(-1022),
            "the same signature over another payload is refused"
        );
        assert_eq!(
            verify_with(&key, &format!("{EX1}&signature=%ZZ"), "").map_err(|e| e.code),
            Err(-1022),
            "a broken escape is a bad signature, not a crash"
        );
    }

    #[test]
    fn timestamp_window() {
        assert!(
            check_timestamp(10_000, 5000, 10_999).is_ok(),
            "inside window"
        );
        assert_eq!(
            check_timestamp(11_000, 5000, 10_000).map_err(|e| e.code),
            Err(-1021),
            "1000 ms ahead refused"
        );
        assert_eq!(
            check_timestamp(1_000, 5000, 10_000).map_err(|e| e.code),
            Err(-1021),
            "older than recvWindow refused"
        );
    }
}
