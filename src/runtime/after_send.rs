//! The writes a copy makes after an order's send, kept until the event it is answering is
//! handled and then committed together: the order's outcome, its latency row, the plan's
//! audit rows and the settled ledger are one relaxed commit ([`Store::relaxed_each`]), not
//! one each. Each write keeps its own failure: one that fails is rolled back alone and
//! holds the copy (or, for rows that only describe, is logged), as it did when it was
//! committed on its own.
//!
//! Kept until: the end of the plan that made them ([`CopyRunner::execute_signal`]), the
//! end of the supervisor loop's turn, or a read of the copy's own rows that must see them.
//! A crash before the commit loses them as a power cut loses a relaxed commit the writer
//! had not synced (`runtime::writer`): the journal commit before the send was durable, so
//! recovery and reconciliation find the order by its client id and record its outcome.

use crate::store::{Store, StoreError, StoreWrite};

use super::hold::HoldKind;
use super::notify::{NotifyKind, NotifyLevel};
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

/// The writes kept since the last commit, in the order they were made.
#[derive(Default)]
pub(crate) struct AfterSend(Vec<Kept>);

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

    /// Commits the kept writes in one relaxed commit; made durable by the writer's next
    /// sync. A failed write is said and held as [`CopyRunner::journal_write`] does.
    pub(crate) fn commit_after_send(&mut self) {
        if self.after_send.0.is_empty() {
            return;
        }
        let kept = std::mem::take(&mut self.after_send.0);
        let mut labels = Vec::with_capacity(kept.len());
        let mut writes = Vec::with_capacity(kept.len());
        for k in kept {
            labels.push((k.what, k.on_failure));
            writes.push(k.write);
        }
        let answers = match self.with_store(|s| s.relaxed_each(writes)) {
            Ok((answers, _)) => answers,
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
