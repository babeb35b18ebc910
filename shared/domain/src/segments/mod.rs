//! Segments: who a campaign or a staff list is for, as a filter over what Fanloop knows of a
//! customer (tier, lifecycle, RFM, tags, attributes, locale, platforms, points, activity,
//! spend). Parsed once from JSON into [`Filter`], every invalid part named by its path;
//! evaluated on a customer's [`Facts`]. No I/O.

mod eval;
mod facts;
mod filter;
mod saved;

pub use facts::Facts;
pub use filter::{Condition, Field, Filter, MAX_DEPTH, MAX_NODES, Op, Operand};
pub use saved::{FilterDoc, NewSegment, PreviewRequest, Segment, SegmentId, SegmentUpdate};

#[cfg(test)]
mod tests;
