//! Client order ids: `cd` plus 30 lowercase base-36 characters of a SHA-256 hash of the
//! copy, the leader signal and the leg. Same inputs, same id, so a resend after a crash
//! can be recognised; 32 characters of `[0-9a-z]` fit every venue (Binance's 36 of
//! `[.:/_-A-Za-z0-9]`, OKX's 32 alphanumerics, BingX's lower-casing).

use sha2::{Digest, Sha256};

/// Prefix of every id this app sends.
pub const PREFIX: &str = "cd";
/// Length of every id.
pub const LEN: usize = 32;

const ALPHABET: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";

/// The id of one leg of the engine's reaction to one signal of one copy.
pub fn client_id(copy_id: &str, signal_id: &str, leg: &str) -> String {
    let mut h = Sha256::new();
    // Lengths keep ("ab","c") and ("a","bc") apart.
    for part in [copy_id, signal_id, leg] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    let mut digits: [u8; 32] = h.finalize().into();
    let mut out = [0u8; LEN - PREFIX.len()];
    // Repeated division of the 256-bit digest by 36: each remainder is one base-36 digit.
    for slot in out.iter_mut().rev() {
        let mut rem: u32 = 0;
        for byte in digits.iter_mut() {
            let acc = (rem << 8) | u32::from(*byte);
            *byte = (acc / 36) as u8;
            rem = acc % 36;
        }
        *slot = ALPHABET[rem as usize];
    }
    let mut id = String::with_capacity(LEN);
    id.push_str(PREFIX);
    id.extend(out.iter().map(|&b| char::from(b)));
    id
}

/// True when `id` has the shape of an id this app makes.
pub fn is_ours(id: &str) -> bool {
    id.len() == LEN
        && id.starts_with(PREFIX)
        && id[PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// What to do with an unfinished journal entry after a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resend {
    /// The venue knows the id: the order went out; nothing to send.
    AlreadySent,
    /// Not found, but it may still arrive within `recvWindow`: look again later.
    Wait,
    /// Not found and no longer able to arrive: send it again, same id.
    Send,
    /// Older than `max_signal_age_secs`: never resend; reconciliation takes over.
    GiveUp,
}

/// The resend rule of copy-rules.md section 6, for an entry written at `entry_ms`.
pub fn resend_decision(
    found_on_venue: bool,
    entry_ms: i64,
    now_ms: i64,
    recv_window_ms: i64,
    max_signal_age_secs: u64,
) -> Resend {
    let max_age_ms = i64::try_from(max_signal_age_secs)
        .unwrap_or(i64::MAX)
        .saturating_mul(1000);
    if found_on_venue {
        Resend::AlreadySent
    } else if now_ms - entry_ms > max_age_ms {
        Resend::GiveUp
    } else if now_ms <= entry_ms + recv_window_ms {
        Resend::Wait
    } else {
        Resend::Send
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn resend_only_after_recv_window_and_never_when_stale() {
        assert_eq!(
            resend_decision(true, 0, 90_000, 5_000, 60),
            Resend::AlreadySent,
            "found: sent"
        );
        assert_eq!(
            resend_decision(false, 0, 4_000, 5_000, 60),
            Resend::Wait,
            "may still arrive"
        );
        assert_eq!(
            resend_decision(false, 0, 6_000, 5_000, 60),
            Resend::Send,
            "window passed"
        );
        assert_eq!(
            resend_decision(false, 0, 61_000, 5_000, 60),
            Resend::GiveUp,
            "older than 60 s"
        );
    }

    #[test]
    fn same_inputs_give_the_same_id_and_any_change_another() {
        let a = client_id("copy-1", "trade:42", "open");
        assert_eq!(
            a,
            client_id("copy-1", "trade:42", "open"),
            "ids are deterministic"
        );
        assert_ne!(
            a,
            client_id("copy-1", "trade:42", "close"),
            "the leg changes the id"
        );
        assert_ne!(
            a,
            client_id("copy-2", "trade:42", "open"),
            "the copy changes the id"
        );
        assert_ne!(
            client_id("ab", "c", "x"),
            client_id("a", "bc", "x"),
            "parts are not simply concatenated"
        );
    }

    proptest! {
        #[test]
        fn ids_are_32_chars_every_venue_accepts(
            copy in ".{0,40}", signal in ".{0,40}", leg in "[a-z:0-9-]{0,20}"
        ) {
            let id = client_id(&copy, &signal, &leg);
            prop_assert_eq!(id.len(), 32, "id {} should be 32 characters", id);
            prop_assert!(id.starts_with("cd"), "id {} should start with cd", id);
            prop_assert!(
                id.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase()),
                "id {} should be lowercase base-36 (fits Binance, OKX and BingX)", id
            );
            prop_assert!(is_ours(&id), "is_ours recognises {}", id);
            prop_assert_eq!(id.clone(), client_id(&copy, &signal, &leg), "deterministic");
        }
    }
}
