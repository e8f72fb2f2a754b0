//! The key check every start runs (issue 12 item 11), in the app and the CLI alike: both
//! keys are checked live before anything is persisted or started. A key that can withdraw,
//! cannot read, or that the venue refuses is refused; a follower key that cannot trade
//! futures is refused. Where the venue cannot show a key's permissions, the adapter proves
//! a follower's trading permission with a test order, and the rest is announced as
//! "cannot verify", never as passed.

use crate::exchange::{KeyCheck, KeyFinding, KeyRole, KeyVerdict};

use super::supervisor::Venue;

/// What the start learnt from both keys.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyGate {
    /// The follower key can trade futures (its flags say so, or a test order was taken).
    pub follower_can_trade_futures: bool,
    /// What could not be verified, to announce when the copy starts.
    pub unverified: Vec<String>,
}

/// Checks both keys; `Err` is the refusal, naming the account and the fix.
pub(crate) async fn check(
    leader: &Venue,
    leader_name: &str,
    follower: &Venue,
    follower_name: &str,
) -> Result<KeyGate, String> {
    let mut gate = check_follower(follower, follower_name).await?;
    let l = leader
        .ex
        .check_key(KeyRole::Leader)
        .await
        .map_err(|e| format!("the key of `{leader_name}` could not be checked: {e}"))?;
    refuse(&l, leader_name, KeyRole::Leader)?;
    if l.verdict == KeyVerdict::CannotVerify {
        gate.unverified.push(format!(
            "key of `{leader_name}`: withdrawals, trading, IP restriction and expiry cannot be verified on this exchange; confirm on its API management page that it is read-only"
        ));
    }
    Ok(gate)
}

/// Checks the follower's key alone (a public lead portfolio has no key).
pub(crate) async fn check_follower(
    follower: &Venue,
    follower_name: &str,
) -> Result<KeyGate, String> {
    let mut gate = KeyGate::default();
    let f = follower
        .ex
        .check_key(KeyRole::Follower)
        .await
        .map_err(|e| format!("the key of `{follower_name}` could not be checked: {e}"))?;
    refuse(&f, follower_name, KeyRole::Follower)?;
    gate.follower_can_trade_futures = f.findings.iter().all(|x| {
        !matches!(
            x,
            KeyFinding::FuturesDisabled
                | KeyFinding::ReadingDisabled
                | KeyFinding::TestOrderRefused { .. }
        )
    });
    if f.verdict == KeyVerdict::CannotVerify {
        let proven = f.findings.contains(&KeyFinding::TradingProven);
        gate.unverified.push(format!(
            "key of `{follower_name}`: {}withdrawals, IP restriction and expiry cannot be verified on this exchange; confirm them on its API management page",
            if proven {
                "futures trading proven by a test order (nothing placed); "
            } else {
                ""
            }
        ));
    }
    Ok(gate)
}

/// The refusal of a key whose check refuses it, with each reason and its fix.
fn refuse(c: &KeyCheck, account: &str, role: KeyRole) -> Result<(), String> {
    if c.verdict != KeyVerdict::Refused && !c.findings.iter().any(KeyFinding::refuses) {
        return Ok(());
    }
    let reasons: Vec<String> = c
        .findings
        .iter()
        .filter(|f| f.refuses())
        .map(|f| match f {
            KeyFinding::WithdrawalsEnabled => {
                "it can withdraw funds (edit the key on the exchange and untick “Enable Withdrawals”)".to_owned()
            }
            KeyFinding::FuturesDisabled => {
                "it cannot trade futures (edit the key and tick “Enable Futures”)".to_owned()
            }
            KeyFinding::ReadingDisabled => "it cannot read (edit the key and enable reading)".to_owned(),
            KeyFinding::KeyRejected { message, .. } => format!(
                "the exchange refused it: {message} (check the key, its IP allow-list and that it is not deleted)"
            ),
            KeyFinding::TestOrderRefused { message, .. } => format!(
                "a futures test order was refused: {message} (edit the key and enable futures trading)"
            ),
            other => format!("{other:?}"),
        })
        .collect();
    let role = match role {
        KeyRole::Follower => "follower",
        KeyRole::Leader => "leader",
    };
    Err(format!(
        "the {role} key of `{account}` is refused: {}",
        if reasons.is_empty() {
            "the exchange refused it".to_owned()
        } else {
            reasons.join("; ")
        }
    ))
}
