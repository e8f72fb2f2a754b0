//! The writes a copy makes after an order's send, kept until the event it is answering is
//! handled and then committed together: the order's outcome, its latency row, the plan's
//! audit rows, the settled ledger, a fill's rows, the figures point and the copy's fill
//! and protection notices are one relaxed commit, not one each. At the end of a plan and
//! of a supervisor turn that commit goes through the engine's commit lane
//! ([`CopyRunner::flush_after_send`]), shared with the other copies' writes handed over
//! meanwhile; where a read must see the rows at once it is the copy's own
//! ([`CopyRunner::commit_after_send`], [`Store::relaxed_each`]). Each write keeps its own
//! failure: one that fails is rolled back alone and holds the copy (or, for rows that
//! only describe, is logged), as it did when it was committed on its own. A kept
//! notification is logged and broadcast once its commit is made.
//!
//! Kept until: the end of the plan that made them ([`CopyRunner::execute_signal`]), the
//! end of the supervisor loop's turn, or a read of the copy's own rows that must see them.
//! A crash before the commit loses them as a power cut loses a relaxed commit the writer
//! had not synced (`runtime::writer`): the journal commit before the send was durable, so
//! recovery and reconciliation find the order by its client id and record its outcome.

use crate::store::{Store, StoreError, StoreWrite};

use super::hold::HoldKind;
use super::notify::{Notification, NotifyKind, NotifyLevel};
use super::supervisor::CopyRunner;

/// What the user is told when the copy's ledger could not be saved.
pub(crate) const LEDGER_KEPT: &str = "the copy's ledger could not be saved; it is kept in memory and saved again when the database accepts writes";

/// What a write's failure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnFailure {
    /// Holds the copy ([`HoldKind::JournalWrite`]), as any failed journal write does.
    Hold,
    /// Holds the copy and tells the user the settled ledger is kept in memory.
    HoldLedger,
    /// Logged only: the row describes, it does not decide (latency, audit), or it is read
    /// again from the venue when missing (a fill row, see `fill_catchup`).
    Log,
}

struct Kept {
    what: &'static str,
    on_failure: OnFailure,
    write: StoreWrite<'static>,
}

/// The writes kept since the last commit, in the order they were made, and the
/// notifications whose rows are among them (announced once the commit is made).
#[derive(Default)]
pub(crate) struct AfterSend(Vec<Kept>, Vec<Notification>);

impl CopyRunner {
    /// Keeps a write made after a send for the next [`CopyRunner::commit_after_send`].
    pub(crate) fn after_send(
        &mut self,
        what: &'static str,
        on_failure: OnFailure,
        write: impl FnOnce(&Store) -> Result<(), StoreError> + Send + Sync + 'static,
    ) {
        self.after_send.0.push(Kept {
            what,
            on_failure,
            write: Box::new(write),
        });
    }

    /// Keeps a notification of this copy for the next [`CopyRunner::commit_after_send`]:
    /// its row joins the other writes of the turn instead of a commit of its own, and it
    /// is logged and broadcast once that commit is made (whether its row landed or not,
    /// as a notification sent on its own is).
    pub(crate) fn keep_notification(&mut self, n: Notification) {
        let copy_id = Some(self.copy_id);
        let row = n.clone();
        self.after_send("a notification", OnFailure::Log, move |s| {
            super::notify::store_row(s, copy_id, &row)
        });
        self.after_send.1.push(n);
    }

    /// Commits the kept writes in one relaxed commit; made durable by the writer's next
    /// sync. A failed write is said and held as [`CopyRunner::journal_write`] does. The
    /// kept notifications are announced after it.
    pub(crate) fn commit_after_send(&mut self) {
        let Some((labels, writes)) = self.take_kept() else {
            // A flush left half-way (the engine stopping while the lane had its writes)
            // leaves its notifications here.
            self.announce_kept();
            return;
        };
        let answers = self
            .with_store(|s| s.relaxed_each(writes))
            .map(|(answers, _)| answers);
        self.kept_answered(labels, answers);
    }

    /// As [`CopyRunner::commit_after_send`], through the engine's commit lane
    /// (`runtime::commit_lane`): the writes join the other copies' handed over meanwhile
    /// in one commit, and the copy waits for its answer without holding the database
    /// lock or a runtime thread. At 50 copies of one leader each commit after a send
    /// wrote the same pages (the journal's, the latency table's and the notifications'
    /// last leaves, their indexes) to the log again; in one commit they are written
    /// once. On its own when the engine has no lane or the lane stopped.
    pub(crate) async fn flush_after_send(&mut self) {
        let Some(lane) = self.lane.clone() else {
            self.commit_after_send();
            return;
        };
        let Some((labels, writes)) = self.take_kept() else {
            self.announce_kept();
            return;
        };
        // The other copies' orders go first, unless this copy has its next leader event
        // waiting: its own next order must not wait for them.
        if !self.next_leader_event_waits() {
            lane.calm().await;
        }
        let (write, out) =
            super::commit_lane::keeping_output(move |s: &Store| s.each_in_savepoint(writes));
        let answers = match lane.submit_after_send(write) {
            Ok(answered) => super::commit_lane::answer(answered).await.and_then(|_| {
                out.take().ok_or(StoreError::Invalid {
                    field: "journal commit",
                    message: "the commit lane did not run the writes".into(),
                })
            }),
            Err(write) => self
                .with_store(|s| s.relaxed_each([write]))
                .and_then(|(mut answers, _)| answers.pop().unwrap_or(Ok(())))
                .and_then(|()| {
                    out.take().ok_or(StoreError::Invalid {
                        field: "journal commit",
                        message: "the writes did not run".into(),
                    })
                }),
        };
        self.kept_answered(labels, answers);
    }

    /// Whether another leader event is queued for this copy behind the one it handles.
    fn next_leader_event_waits(&self) -> bool {
        self.leader_in_hand.as_ref().is_some_and(|n| {
            n.load(std::sync::atomic::Ordering::SeqCst) > usize::from(self.handling_leader)
        })
    }

    /// The kept writes and what each is, taken for a commit; `None` when there are none.
    #[allow(clippy::type_complexity)]
    fn take_kept(&mut self) -> Option<(Vec<(&'static str, OnFailure)>, Vec<StoreWrite<'static>>)> {
        if self.after_send.0.is_empty() {
            return None;
        }
        let kept = std::mem::take(&mut self.after_send.0);
        let mut labels = Vec::with_capacity(kept.len());
        let mut writes = Vec::with_capacity(kept.len());
        for k in kept {
            labels.push((k.what, k.on_failure));
            writes.push(k.write);
        }
        Some((labels, writes))
    }

    /// Reads the answers of a commit of kept writes (each write's, or the commit's own
    /// error, when none landed), then announces the kept notifications.
    fn kept_answered(
        &mut self,
        labels: Vec<(&'static str, OnFailure)>,
        answers: Result<Vec<Result<(), StoreError>>, StoreError>,
    ) {
        self.writes_answered(labels, answers);
        self.announce_kept();
    }

    fn announce_kept(&mut self) {
        for n in std::mem::take(&mut self.after_send.1) {
            self.notifier.announce(n);
        }
    }

    fn writes_answered(
        &mut self,
        labels: Vec<(&'static str, OnFailure)>,
        answers: Result<Vec<Result<(), StoreError>>, StoreError>,
    ) {
        let answers = match answers {
            Ok(answers) => answers,
            Err(e) => {
                // The commit itself failed: none of the writes landed.
                let what = labels
                    .iter()
                    .map(|(w, _)| *w)
                    .collect::<Vec<_>>()
                    .join(", ");
                let ledger = labels.iter().any(|(_, f)| *f == OnFailure::HoldLedger);
                self.write_failed(&what, ledger, &e);
                return;
            }
        };
        let mut wrote = false;
        let mut failed: Option<(&str, StoreError)> = None;
        let mut ledger_lost = false;
        for ((what, on_failure), answer) in labels.into_iter().zip(answers) {
            match answer {
                Ok(()) => wrote |= on_failure != OnFailure::Log,
                // The row is already past that state (a report read twice): nothing to
                // write, and the database works.
                Err(e @ (StoreError::InvalidTransition { .. } | StoreError::NotFound { .. })) => {
                    tracing::debug!(copy = %self.name, what, error = %e, "journal state not advanced");
                }
                Err(e) if on_failure == OnFailure::Log => {
                    tracing::warn!(copy = %self.name, what, error = %e, "not stored");
                }
                Err(e) => {
                    ledger_lost |= on_failure == OnFailure::HoldLedger;
                    if failed.is_none() {
                        failed = Some((what, e));
                    } else {
                        tracing::error!(copy = %self.name, what, error = %e, "journal write failed");
                    }
                }
            }
        }
        if let Some((what, e)) = failed {
            self.write_failed(what, ledger_lost, &e);
            return;
        }
        if wrote {
            self.release(HoldKind::JournalWrite);
        }
    }

    /// A write after the send that did not land: logged, said when it was the ledger, and
    /// the copy held until a write succeeds again.
    fn write_failed(&mut self, what: &str, ledger: bool, e: &StoreError) {
        tracing::error!(copy = %self.name, what, error = %e, "journal write failed");
        if ledger {
            self.say(NotifyLevel::Error, NotifyKind::Error, LEDGER_KEPT.into());
        }
        self.hold(
            HoldKind::JournalWrite,
            format!("{what} could not be written: {e}"),
        );
    }
}
