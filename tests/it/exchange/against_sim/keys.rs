//! Key checks against the simulator's per-key permissions (served by `apiRestrictions` on
//! the same base URL): each refusal and each warning, from keys the simulator issued.

use copydesk::exchange::{Exchange, KeyCheck, KeyFinding, KeyRole, KeyVerdict};
use copydesk::sim::{AccountKeys, NewAccount, Permissions, SimConfig, SimHandle};
use rust_decimal_macros::dec;

use super::support::{adapter, start_sim};

const DAY_MS: i64 = 24 * 3600 * 1000;

fn keys_with(sim: &SimHandle, permissions: Permissions) -> AccountKeys {
    sim.create_account(NewAccount {
        permissions,
        ..NewAccount::usdt(dec!(100))
    })
}

async fn check(sim: &SimHandle, permissions: Permissions, role: KeyRole) -> KeyCheck {
    let keys = keys_with(sim, permissions);
    adapter(sim, &keys)
        .check_key(role)
        .await
        .expect("a key check answers with a verdict, not an error")
}

#[tokio::test]
async fn each_key_permission_case_gets_its_verdict() {
    let sim = start_sim(SimConfig::default()).await;
    let good = Permissions::default();

    let c = check(&sim, good.clone(), KeyRole::Follower).await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![]),
        "futures on, withdrawals off, IP-restricted, no expiry: accepted without warnings"
    );

    let c = check(
        &sim,
        Permissions {
            withdrawals: true,
            ..good.clone()
        },
        KeyRole::Follower,
    )
    .await;
    assert_eq!(
        c.verdict,
        KeyVerdict::Refused,
        "withdrawals enabled is refused"
    );
    assert!(
        c.findings.contains(&KeyFinding::WithdrawalsEnabled),
        "the refusal names withdrawals: {:?}",
        c.findings
    );

    let c = check(
        &sim,
        Permissions {
            futures: false,
            ..good.clone()
        },
        KeyRole::Follower,
    )
    .await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Refused, vec![KeyFinding::FuturesDisabled]),
        "a follower key without futures is refused, and the key's own flags say why"
    );

    let c = check(
        &sim,
        Permissions {
            futures: false,
            ..good.clone()
        },
        KeyRole::Leader,
    )
    .await;
    assert_eq!(
        c.verdict,
        KeyVerdict::Refused,
        "a key the futures API refuses is refused"
    );
    assert!(
        matches!(
            c.findings.as_slice(),
            [KeyFinding::KeyRejected {
                code: Some(-2015),
                ..
            }]
        ),
        "for a leader, nothing in the flags explains it, so the venue's refusal is listed: {:?}",
        c.findings
    );

    let read_only = Permissions {
        trading: false,
        ..good.clone()
    };
    let c = check(&sim, read_only.clone(), KeyRole::Leader).await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![]),
        "a read-only key is what a leader needs: accepted without warnings"
    );
    let c = check(&sim, good.clone(), KeyRole::Leader).await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![KeyFinding::LeaderKeyCanTrade]),
        "a leader key that can trade is accepted with the warning"
    );
    let c = check(&sim, read_only, KeyRole::Follower).await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Refused, vec![KeyFinding::FuturesDisabled]),
        "a read-only key cannot follow"
    );

    let c = check(
        &sim,
        Permissions {
            ip_restricted: false,
            ..good.clone()
        },
        KeyRole::Follower,
    )
    .await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![KeyFinding::NoIpRestriction]),
        "no IP restriction is accepted with a warning"
    );

    let soon = sim.now() + 7 * DAY_MS;
    let c = check(
        &sim,
        Permissions {
            expires_at: soon,
            ..good.clone()
        },
        KeyRole::Follower,
    )
    .await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (
            KeyVerdict::Accepted,
            vec![KeyFinding::ExpiresSoon { at: soon }]
        ),
        "expiry within 14 days is accepted with a warning naming the time"
    );

    let c = check(
        &sim,
        Permissions {
            expires_at: sim.now() + 30 * DAY_MS,
            ..good.clone()
        },
        KeyRole::Follower,
    )
    .await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![]),
        "expiry a month away earns no warning"
    );

    let c = check(&sim, good.clone(), KeyRole::Leader).await;
    assert_eq!(
        (c.verdict, c.findings.clone()),
        (KeyVerdict::Accepted, vec![KeyFinding::LeaderKeyCanTrade]),
        "a leader key that can trade is accepted with a warning"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_key_the_venue_does_not_know_is_refused() {
    let sim = start_sim(SimConfig::default()).await;
    let mut keys = keys_with(&sim, Permissions::default());
    keys.api_key = "0".repeat(64);
    let c = adapter(&sim, &keys)
        .check_key(KeyRole::Follower)
        .await
        .expect("a verdict");
    assert_eq!(c.verdict, KeyVerdict::Refused, "an unknown key is refused");
    assert!(
        matches!(
            c.findings.as_slice(),
            [KeyFinding::KeyRejected {
                code: Some(-2015),
                ..
            }]
        ),
        "the venue's refusal is the only finding, with its code: {:?}",
        c.findings
    );
    sim.shutdown().await;
}
