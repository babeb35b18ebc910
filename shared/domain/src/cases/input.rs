//! The body of `POST /v1/cases`, and the texts staff write on a case.

use jiff::Timestamp;
use serde::Serialize;

use crate::error::ParseError;
use crate::ids::{CustomerId, ExternalId};
use crate::values::Title;

use super::{Case, CaseAuthor, CaseKind, Priority, SlaHours};

/// A description, note or resolution may be this long, in characters.
pub const TEXT_MAX_CHARS: usize = 4000;
/// A case keeps at most this many notes.
pub const NOTES_MAX: usize = 200;

crate::string_newtype!(
    /// What staff or the customer wrote: 1–4000 characters, not only spaces.
    CaseText,
    schema: { min_length: 1, max_length: 4000, pattern: "\\S" },
    |s| if s.trim().is_empty() || s.chars().count() > TEXT_MAX_CHARS {
        Err(ParseError::new("must be 1 to 4000 characters, not only spaces"))
    } else {
        Ok(s)
    }
);

/// What a backend or staff may open (follow-ups come from survey answers).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OpenedKind {
    Complaint,
    Feedback,
}

crate::wire_struct! {
    /// The body of `POST /v1/cases`.
    #[derive(Serialize)]
    pub struct CaseInput {
        /// Your id of the case: with it a retry opens nothing twice (the same body again
        /// answers 200 with the case as first opened). Without it each request opens one.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub case_id: Option<ExternalId>,
        pub customer_id: CustomerId,
        pub kind: OpenedKind,
        pub subject: Title,
        #[serde(skip_serializing_if = "Option::is_none")]
        pub description: Option<CaseText>,
        /// Default: `high` for a customer in a high-value tier (`cases.high_value_tiers`),
        /// else `normal`.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub priority: Option<Priority>,
    }
}

impl CaseInput {
    /// The case this body opens; `default_priority` is the customer's (see
    /// [`super::CaseSettings::default_priority`]), `generated_id` is used when the body names
    /// no id.
    pub fn into_case(
        self,
        generated_id: String,
        author: CaseAuthor,
        default_priority: Priority,
        sla: &SlaHours,
        now: Timestamp,
    ) -> Case {
        // The author is part of the request: the same id from another key is another request.
        let fingerprint = crate::points::rules::fingerprint(
            &self.customer_id,
            &serde_json::json!([&self, &author]),
        );
        let kind = match self.kind {
            OpenedKind::Complaint => CaseKind::Complaint,
            OpenedKind::Feedback => CaseKind::Feedback,
        };
        let mut case = Case::open(
            self.case_id
                .map_or(generated_id, |id| id.as_str().to_owned()),
            kind,
            Some(self.customer_id),
            self.subject.into(),
            self.description.map(String::from),
            self.priority.unwrap_or(default_priority),
            author,
            sla,
            now,
        );
        case.fingerprint = fingerprint;
        case
    }
}
