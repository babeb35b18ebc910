//! The loyalty programme's rules: earning, daily caps, tiers, lots that expire, FIFO spending,
//! coupons. Pure functions over an [`Account`] state the stores load and save whole.

pub mod account;
pub mod accrual_input;
pub mod corrections;
pub mod coupon;
pub mod facts;
pub mod ledger;
pub mod rewards;
pub mod rules;
#[cfg(test)]
mod test_support;
pub mod totals;

pub use account::{
    Account, AccrualOutcome, ExpiringLot, LedgerEntry, LedgerKind, PointsView, RedeemOutcome,
};
pub use corrections::{AdjustmentInput, CorrectionOutcome, ReversalInput};
pub use coupon::{COUPON_GRACE_DAYS, Coupon, CouponCode, CouponRedemption, CouponUse, CouponVoid};
pub use facts::{Context, Facts, Item};
pub use rewards::{Reward, RewardCoupon, RewardDecline, RewardId, RewardListing, StockClaim};
pub use rules::{AccrualKind, AccrualRequest, PointsSettings, ReversalMode, TierRule};
