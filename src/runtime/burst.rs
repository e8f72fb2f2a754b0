//! The orders of the engine's copies in flight, and a short wait for them: the work a
//! copy does after its own order was answered (its writes after the send, its protective
//! stop) lets the other copies' orders of the same leader event go first.
//!
//! One leader event reaches every copy of it at once. The copies answered first used to
//! commit their writes after the send and send their protective stops while the others'
//! orders were still being planned, sent or matched: the engine's two threads and the
//! venue's request queue served that work before the orders still on their way. Now a
//! copy marks its orders in flight ([`Burst::sending`], from its plan's commit to the
//! last answer), and its work after them (its writes after the send, a new protective
//! stop; never a stop's cancel) waits ([`Burst::calm`]) until no copy holds a
//! ticket for a leader event it has not yet committed (`store::group_commit::Ticket`)
//! and no copy has an order in flight — or [`CALM_MAX`] at most, so that a venue slow to
//! answer one copy delays the others' stops by that long and no longer.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use crate::store::group_commit::Durability;

/// The longest the work after a copy's send waits for the other copies' orders.
pub const CALM_MAX: Duration = Duration::from_millis(20);

/// The copies' orders in flight. Shared by every copy of the engine.
#[derive(Debug, Default)]
pub(crate) struct Burst {
    sending: AtomicUsize,
    calm: Notify,
}

/// A copy's orders in flight; the count goes down when it is dropped.
#[derive(Debug)]
pub(crate) struct Sending(Arc<Burst>);

impl Drop for Sending {
    fn drop(&mut self) {
        if self.0.sending.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.0.calm.notify_waiters();
        }
    }
}

impl Burst {
    /// Marks a copy's orders in flight until the returned guard is dropped.
    pub(crate) fn sending(self: &Arc<Self>) -> Sending {
        self.sending.fetch_add(1, Ordering::SeqCst);
        Sending(self.clone())
    }

    /// Copies with orders in flight now.
    pub(crate) fn in_flight(&self) -> usize {
        self.sending.load(Ordering::SeqCst)
    }

    /// Waits until no copy has orders in flight and no ticket of `durability` is out, or
    /// `max` at most. Returns whether it was calm (not cut short by `max`).
    pub(crate) async fn calm(&self, durability: &Durability, max: Duration) -> bool {
        let waited = async {
            loop {
                let calm = self.calm.notified();
                let progress = durability.progressed();
                tokio::pin!(calm, progress);
                calm.as_mut().enable();
                progress.as_mut().enable();
                if self.in_flight() == 0 && durability.preparing() == 0 {
                    return;
                }
                tokio::select! {
                    () = calm => {}
                    () = progress => {}
                }
            }
        };
        tokio::time::timeout(max, waited).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn durability() -> (tempfile::TempDir, Arc<Durability>) {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = Durability::new(&dir.path().join("db.sqlite3"));
        (dir, d)
    }

    /// Whether `calm` is still waiting after the runtime ran everything it could.
    async fn still_waiting(calm: &tokio::task::JoinHandle<bool>) -> bool {
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        !calm.is_finished()
    }

    #[tokio::test(start_paused = true)]
    async fn nothing_in_flight_is_calm_at_once() {
        let (_dir, durability) = durability();
        let burst = Burst::default();
        let began = tokio::time::Instant::now();
        assert!(burst.calm(&durability, CALM_MAX).await);
        assert_eq!(began.elapsed(), Duration::ZERO);
    }

    /// A copy's work after its send waits for another copy's orders in flight and goes on
    /// as soon as they were answered.
    #[tokio::test(start_paused = true)]
    async fn the_work_after_a_send_waits_for_the_other_copies_orders() {
        let (_dir, durability) = durability();
        let burst = Arc::new(Burst::default());
        let other = burst.sending();
        let began = tokio::time::Instant::now();
        let calm = tokio::spawn({
            let (burst, durability) = (burst.clone(), durability.clone());
            async move { burst.calm(&durability, CALM_MAX).await }
        });
        tokio::time::sleep(CALM_MAX / 4).await;
        assert!(still_waiting(&calm).await, "an order is in flight");
        drop(other);
        assert!(
            calm.await.expect("calm"),
            "calm once the order was answered"
        );
        assert_eq!(began.elapsed(), CALM_MAX / 4);
        assert_eq!(burst.in_flight(), 0);
    }

    /// A copy handed the leader event that has not committed its plan yet holds the wait
    /// too: its order is about to be sent.
    #[tokio::test(start_paused = true)]
    async fn a_copy_still_planning_holds_it_too() {
        let (_dir, durability) = durability();
        let burst = Arc::new(Burst::default());
        let ticket = durability.ticket();
        let calm = tokio::spawn({
            let (burst, durability) = (burst.clone(), durability.clone());
            async move { burst.calm(&durability, CALM_MAX).await }
        });
        tokio::time::sleep(CALM_MAX / 4).await;
        assert!(still_waiting(&calm).await, "a ticket is out");
        // The copy commits: its ticket comes back and its orders are in flight.
        let sending = burst.sending();
        drop(ticket);
        assert!(still_waiting(&calm).await, "its order is in flight");
        drop(sending);
        assert!(calm.await.expect("calm"));
    }

    /// An order the venue is slow to answer delays the other copies' work by the bound,
    /// not by as long as it takes.
    #[tokio::test(start_paused = true)]
    async fn the_wait_ends_at_its_bound() {
        let (_dir, durability) = durability();
        let burst = Arc::new(Burst::default());
        let _slow = burst.sending();
        let began = tokio::time::Instant::now();
        assert!(!burst.calm(&durability, CALM_MAX).await, "cut short");
        assert_eq!(began.elapsed(), CALM_MAX);
    }
}
