//! The tenant's analytics counters: whole numbers per tenant-local day, added to in the same
//! atomic step as the write they count, and read a bounded number of rows per day.
//!
//! A row is `(scope, day, dim)`: the tenant's day figures (`Overview`, `dim` empty), one item
//! (`Item`, `dim` = SKU) or one streamer (`Streamer`, `dim` = streamer id). No row names a
//! customer, so erasure leaves them as they are. `day = None` is the all-time row (the points
//! liability).

use std::collections::BTreeMap;

use jiff::civil::Date;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    Overview,
    Item,
    Streamer,
}

impl Scope {
    pub const ALL: [Scope; 3] = [Scope::Overview, Scope::Item, Scope::Streamer];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Overview => "overview",
            Scope::Item => "item",
            Scope::Streamer => "streamer",
        }
    }
}

/// Where a counter lives.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RowKey {
    pub scope: Scope,
    /// The tenant-local day; `None` for the all-time row.
    pub day: Option<Date>,
    pub dim: String,
}

/// What one write adds to one row: counters (`+` or `−`) and labels to set (an item's name
/// and category, kept with the row so a report needs no other read).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RowDelta {
    pub add: BTreeMap<String, i64>,
    pub labels: BTreeMap<String, String>,
}

/// Everything one write adds to the counters, merged per row (one store write per row).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub rows: BTreeMap<RowKey, RowDelta>,
}

impl Counters {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    fn row(&mut self, scope: Scope, day: Option<Date>, dim: &str) -> &mut RowDelta {
        self.rows
            .entry(RowKey {
                scope,
                day,
                dim: dim.to_owned(),
            })
            .or_default()
    }

    /// Adds `by` to `key` of the tenant's day `day`.
    pub fn day(&mut self, day: Date, key: impl Into<String>, by: i64) {
        self.add(Scope::Overview, Some(day), "", key, by);
    }

    pub fn add(
        &mut self,
        scope: Scope,
        day: Option<Date>,
        dim: &str,
        key: impl Into<String>,
        by: i64,
    ) {
        if by == 0 {
            return;
        }
        let row = self.row(scope, day, dim);
        let v = row.add.entry(key.into()).or_insert(0);
        *v = v.saturating_add(by);
        if *v == 0 {
            row.add.retain(|_, v| *v != 0);
        }
        if row.add.is_empty() && row.labels.is_empty() {
            self.rows
                .retain(|_, r| !(r.add.is_empty() && r.labels.is_empty()));
        }
    }

    pub fn label(&mut self, scope: Scope, day: Date, dim: &str, name: &str, value: &str) {
        self.row(scope, Some(day), dim)
            .labels
            .insert(name.to_owned(), value.to_owned());
    }

    pub fn merge(&mut self, other: Counters) {
        for (k, d) in other.rows {
            for (key, by) in d.add {
                self.add(k.scope, k.day, &k.dim, key, by);
            }
            if !d.labels.is_empty() {
                self.rows.entry(k).or_default().labels.extend(d.labels);
            }
        }
    }

    /// The value `key` of a row, for tests and reports.
    pub fn get(&self, scope: Scope, day: Option<Date>, dim: &str, key: &str) -> i64 {
        self.rows
            .get(&RowKey {
                scope,
                day,
                dim: dim.to_owned(),
            })
            .and_then(|r| r.add.get(key))
            .copied()
            .unwrap_or(0)
    }
}

/// A counter row as a store loads it (the sum of its shards).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CounterRow {
    /// `None` for the all-time row.
    pub day: Option<Date>,
    pub dim: String,
    pub counts: BTreeMap<String, i64>,
    pub labels: BTreeMap<String, String>,
}

impl CounterRow {
    pub fn get(&self, key: &str) -> i64 {
        self.counts.get(key).copied().unwrap_or(0)
    }
}

/// The store's analytics shards (DynamoDB): rows of one customer always go to one shard, so
/// a tenant's writes spread over this many partitions per row and a read merges them.
pub const SHARDS: u32 = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deltas_merge_per_row_and_cancel_out() {
        let d: Date = "2026-11-02".parse().unwrap();
        let mut c = Counters::default();
        c.day(d, "purchases", 1);
        c.day(d, "purchases", 2);
        c.add(Scope::Item, Some(d), "sku-1", "buyers", 1);
        assert_eq!(c.get(Scope::Overview, Some(d), "", "purchases"), 3);
        assert_eq!(c.rows.len(), 2);
        c.add(Scope::Item, Some(d), "sku-1", "buyers", -1);
        assert_eq!(c.rows.len(), 1, "a row that adds nothing is no write");
        let mut other = Counters::default();
        other.day(d, "purchases", -3);
        c.merge(other);
        assert!(c.is_empty());
    }
}
