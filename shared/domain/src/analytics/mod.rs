//! Tenant analytics: counters written with every write they count, reports read from them a
//! bounded number of rows per day, and the daily snapshot of what needs every customer.

pub mod account;
pub mod activity;
pub mod counter;
pub mod report;
pub mod snapshot;

pub use account::account_counters;
pub use activity::{activity_counters, event_counters};
pub use counter::{CounterRow, Counters, RowDelta, RowKey, SHARDS, Scope};
pub use report::{
    Figures, ItemFigures, ItemsReport, Move, Overview, OverviewDay, StreamerFigures,
    StreamersReport, items, moves, overview, streamers,
};
pub use snapshot::{ChurnReport, Snapshot, SnapshotBuilder, TraitCount, TraitRow};
