//! The loyalty programme's rules: earning, daily caps, tiers, lots that expire, FIFO spending,
//! coupons. Pure functions over an [`Account`] state the stores load and save whole.

pub mod account;
pub mod accrual_input;
pub mod coupon;
pub mod rules;

pub use account::{
    Account, AccrualOutcome, ExpiringLot, LedgerEntry, LedgerKind, PointsView, RedeemOutcome,
};
pub use coupon::{Coupon, CouponCode, CouponRedemption, CouponUse};
pub use rules::{AccrualKind, AccrualRequest, PointsSettings, TierRule};
