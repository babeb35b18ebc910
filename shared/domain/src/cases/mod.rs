//! Cases: the complaint and feedback work queue. A case is opened by staff, by a backend
//! (`POST /v1/cases`) or by an unhappy survey answer (its follow-up becomes a case); it has a
//! priority (high-value tiers first by default), an assignee, a status, a due time from the
//! tenant's per-priority SLA, notes, and a resolution. The queue lists open and pending cases
//! by due time.

pub mod case;
pub mod input;
pub mod settings;
pub mod store;

#[cfg(test)]
mod tests;

pub use case::{Case, CaseAuthor, CaseKind, CaseNote, CaseStatus, CaseView, FollowUpRef, Priority};
pub use input::{CaseInput, CaseText, NOTES_MAX, OpenedKind, TEXT_MAX_CHARS};
pub use settings::{CaseSettings, SlaHours};
pub use store::{CaseOpened, CaseStore};
