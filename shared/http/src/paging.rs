//! Paged reads: the `limit` and `cursor` query parameters, and opaque cursors (a versioned
//! prefix and the hex of the position), so clients cannot build or depend on positions.

use serde::Deserialize;
use utoipa::IntoParams;

use crate::problem::ApiError;

/// The query of a paged read, newest first.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–100, default 20.
    #[param(value_type = Option<u32>, minimum = 1, maximum = 100)]
    pub limit: Option<String>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl PageQuery {
    /// `limit`: 1 to 100, 20 when absent.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit.as_deref() {
            None => Ok(20),
            Some(l) => match l.parse::<usize>() {
                Ok(n) if (1..=100).contains(&n) => Ok(n),
                _ => Err(ApiError::field(
                    "limit",
                    "must be a whole number from 1 to 100",
                )),
            },
        }
    }

    /// The position `cursor` names, if given: one this API returned with `prefix`.
    pub fn position(&self, prefix: &str) -> Result<Option<Vec<u8>>, ApiError> {
        self.cursor
            .as_deref()
            .map(|c| {
                c.strip_prefix(prefix)
                    .and_then(|h| hex::decode(h).ok())
                    .ok_or_else(|| ApiError::field("cursor", "is not a cursor this API returned"))
            })
            .transpose()
    }
}

/// The cursor of a position, for `next_cursor`.
pub fn cursor(prefix: &str, position: &[u8]) -> String {
    format!("{prefix}{}", hex::encode(position))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_foreign_ones_are_refused() {
        let q = PageQuery {
            limit: Some("7".into()),
            cursor: Some(cursor("xc1.", b"2026#e1")),
        };
        assert_eq!(q.limit().unwrap(), 7);
        assert_eq!(q.position("xc1.").unwrap().unwrap(), b"2026#e1");
        assert!(q.position("yc1.").is_err());
        for bad in ["0", "101", "ten"] {
            let q = PageQuery {
                limit: Some(bad.into()),
                cursor: None,
            };
            assert!(q.limit().is_err(), "{bad}");
        }
        assert_eq!(PageQuery::default().limit().unwrap(), 20);
    }
}
