//! The points use cases: accrual, redemption, corrections, the balance and the ledger.

mod redeem;
pub mod service;
