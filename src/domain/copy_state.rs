//! A copy's run state: the one name for where a copy is in its life (copy-rules §1). The
//! `copies` table persists it and the planner reads it. Engine holds are not a run state:
//! they are runtime facts (`runtime::hold`) that make a running copy act as paused.

use serde::{Deserialize, Serialize};

/// Where a copy is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CopyState {
    /// Stored, not started yet (no `t0`).
    Created,
    Running,
    /// Paused by the user: closes and reduces only, until the user resumes.
    Paused,
    Stopped,
}

impl CopyState {
    /// The stored and printed text.
    pub fn as_str(self) -> &'static str {
        match self {
            CopyState::Created => "created",
            CopyState::Running => "running",
            CopyState::Paused => "paused",
            CopyState::Stopped => "stopped",
        }
    }
}

impl std::fmt::Display for CopyState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
