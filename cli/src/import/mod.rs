//! `fanloop import customers|events FILE.csv`: streams a CSV file into a store, row by row
//! (never the whole file in memory), each row on its own: created, updated, unchanged, or
//! refused with its line number and reason. Running it again changes nothing (upserts that
//! would change nothing are not written; events are idempotent on `event_id`); an interrupted
//! run resumes where its state file (`FILE.csv.import-state`) says it stopped.

mod customers;
mod events;
mod run;
mod state;

pub use run::{Kind, import};
