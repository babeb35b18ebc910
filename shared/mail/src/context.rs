//! What a template can use: the customer, the brand, the points, the coupon, the purchase
//! that triggered the mail and its recommendations, the lot about to expire — and sample data
//! to render a template with when it is saved.

use serde::Serialize;

/// What a template can use.
#[derive(Clone, Debug, Serialize)]
pub struct MailContext {
    /// The customer's display name, if known.
    pub name: Option<String>,
    pub brand: BrandContext,
    pub points: PointsContext,
    /// `None` (null to a template) for a campaign without an offer.
    pub coupon: Option<CouponContext>,
    /// The purchase that triggered the mail (`None` for other campaigns).
    pub purchase: Option<PurchaseContext>,
    /// Up to three catalogue items for the customer (empty but for a purchase's thank-you).
    pub recommendations: Vec<ItemContext>,
    /// The lot a points-expiring reminder is about (`None` for other campaigns).
    pub expiring: Option<ExpiringContext>,
    pub unsubscribe_url: String,
}

/// Points about to expire.
#[derive(Clone, Debug, Serialize)]
pub struct ExpiringContext {
    pub points: u64,
    /// The last day they can be used, in the customer's time zone (`2026-11-30`).
    pub last_day: String,
}

/// A catalogue item.
#[derive(Clone, Debug, Serialize)]
pub struct ItemContext {
    pub sku: String,
    pub name: String,
    pub category: Option<String>,
    pub url: Option<String>,
    pub image: Option<String>,
}

/// What was bought, as the accrual said.
#[derive(Clone, Debug, Serialize)]
pub struct PurchaseContext {
    /// The item's name, else its SKU; `None` when the accrual named no item.
    pub item: Option<String>,
    pub sku: Option<String>,
    pub category: Option<String>,
    /// Formatted: `9.99 USD`; `None` without an amount.
    pub amount: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BrandContext {
    pub name: String,
    pub url: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PointsContext {
    pub balance: i64,
    pub tier: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CouponContext {
    pub code: String,
    /// Formatted: `5.00 USD`.
    pub value: String,
    pub value_minor: u64,
    pub currency: String,
    /// The last day it is valid, in the customer's time zone (`2026-12-22`).
    pub expires_on: String,
}

impl MailContext {
    /// Data to try templates with when they are saved.
    pub fn sample() -> Self {
        Self {
            name: Some("Li Wei".into()),
            brand: BrandContext {
                name: "Star Arena".into(),
                url: Some("https://example.com".into()),
            },
            points: PointsContext {
                balance: 1200,
                tier: "gold".into(),
            },
            coupon: Some(CouponContext {
                code: "7K3M-Q9XA-2HCT".into(),
                value: format_amount(500, "USD"),
                value_minor: 500,
                currency: "USD".into(),
                expires_on: "2026-12-31".into(),
            }),
            purchase: Some(PurchaseContext {
                item: Some("Dragon Skin Pack".into()),
                sku: Some("skin-dragon".into()),
                category: Some("skins".into()),
                amount: Some(format_amount(999, "USD")),
            }),
            recommendations: vec![ItemContext {
                sku: "skin-phoenix".into(),
                name: "Phoenix Skin Pack".into(),
                category: Some("skins".into()),
                url: Some("https://example.com/shop/skin-phoenix".into()),
                image: None,
            }],
            expiring: Some(ExpiringContext {
                points: 350,
                last_day: "2026-11-30".into(),
            }),
            unsubscribe_url: "https://example.com/unsubscribe/v1.x.y".into(),
        }
    }
}

pub use fanloop_domain::points::coupon::format_amount;
