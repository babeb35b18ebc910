//! Coupon codes: 11 random Crockford base-32 symbols and a check symbol, grouped for reading
//! (`7K3M-Q9XA-2HCT`). Crockford's alphabet has no I, L, O or U; when reading, `I`/`L` are taken
//! as `1` and `O` as `0`, case and dashes are ignored. The check symbol is Luhn mod 32, which
//! catches every single mistyped symbol and every swap of two neighbours except `0`↔`Z` (as Luhn
//! mod 10 misses 09↔90), so a mistyped code is refused without a store read.

use crate::error::ParseError;
use crate::tenant::{Random, RandomError};

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const DATA_LEN: usize = 11;

#[derive(
    Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(try_from = "String", into = "String")]
pub struct CouponCode(String);

impl TryFrom<String> for CouponCode {
    type Error = ParseError;
    fn try_from(s: String) -> Result<Self, ParseError> {
        Self::parse(&s)
    }
}

impl From<CouponCode> for String {
    fn from(c: CouponCode) -> String {
        c.0
    }
}

fn value(c: u8) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        b'I' | b'L' => b'1',
        b'O' => b'0',
        c => c,
    };
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// Luhn mod N over base-32 symbol values: the symbol that makes the whole sum divisible by 32.
fn check_symbol(data: &[u32]) -> u32 {
    let mut sum = 0;
    for (i, v) in data.iter().rev().enumerate() {
        let mut addend = if i % 2 == 0 { v * 2 } else { *v };
        addend = addend / 32 + addend % 32;
        sum += addend;
    }
    (32 - sum % 32) % 32
}

impl CouponCode {
    pub fn generate(rng: &dyn Random) -> Result<Self, RandomError> {
        let mut bytes = [0u8; DATA_LEN];
        rng.fill(&mut bytes)?;
        let data: Vec<u32> = bytes.iter().map(|b| u32::from(b & 31)).collect();
        Ok(Self::from_values(&data))
    }

    fn from_values(data: &[u32]) -> Self {
        let mut symbols: Vec<u32> = data.to_vec();
        symbols.push(check_symbol(data));
        let s: String = symbols
            .iter()
            .map(|v| ALPHABET[*v as usize] as char)
            .collect();
        Self(format!("{}-{}-{}", &s[0..4], &s[4..8], &s[8..12]))
    }

    /// Reads a code as a person may type it; refuses it if the check symbol does not match.
    pub fn parse(s: &str) -> Result<Self, ParseError> {
        let invalid =
            || ParseError::new("is not a valid coupon code (12 symbols such as 7K3M-Q9XA-2HCT)");
        let symbols: Vec<u32> = s
            .bytes()
            .filter(|b| !matches!(b, b'-' | b' '))
            .map(|b| value(b).ok_or_else(invalid))
            .collect::<Result<_, _>>()?;
        if symbols.len() != DATA_LEN + 1 {
            return Err(invalid());
        }
        let code = Self::from_values(&symbols[..DATA_LEN]);
        if check_symbol(&symbols[..DATA_LEN]) != symbols[DATA_LEN] {
            return Err(ParseError::new(
                "has a wrong check symbol: the code was probably mistyped",
            ));
        }
        Ok(code)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What a coupon code looks like as typed: 12 symbols of the alphabet (case-insensitive; `I`, `L`
/// and `O` read as `1`, `1` and `0`), `-` or spaces anywhere. The check symbol is not part of the
/// format: a well-formed code whose check fails is simply not a coupon.
pub const COUPON_CODE_PATTERN: &str = "^[- ]*([0-9A-TV-Za-tv-z][- ]*){12}$";

impl utoipa::PartialSchema for CouponCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(COUPON_CODE_PATTERN))
            .examples(["7K3M-Q9XA-2HCT"])
            .into()
    }
}

impl utoipa::ToSchema for CouponCode {}

impl CouponCode {
    /// Whether `s` has the form of a code ([`COUPON_CODE_PATTERN`]), whatever its check symbol.
    pub fn is_well_formed(s: &str) -> bool {
        let symbols = s.bytes().filter(|b| !matches!(b, b'-' | b' '));
        s.bytes()
            .all(|b| matches!(b, b'-' | b' ') || value(b).is_some())
            && symbols.count() == DATA_LEN + 1
    }
}

impl std::fmt::Display for CouponCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value in minor units as people read it: 2 decimals for currencies (0 for those without
/// minor units), none for platform coins.
pub fn format_amount(value_minor: u64, currency: &str) -> String {
    const NO_MINOR_UNITS: &[&str] = &[
        "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "VND", "VUV",
        "XAF", "XOF", "XPF",
    ];
    let is_iso = currency.len() == 3 && currency.bytes().all(|b| b.is_ascii_uppercase());
    if is_iso && !NO_MINOR_UNITS.contains(&currency) {
        format!("{}.{:02} {currency}", value_minor / 100, value_minor % 100)
    } else {
        format!("{value_minor} {currency}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::OsRandom;

    #[test]
    fn generated_codes_parse_back_and_are_grouped() {
        for _ in 0..200 {
            let c = CouponCode::generate(&OsRandom).unwrap();
            assert_eq!(c.as_str().len(), 14);
            assert_eq!(CouponCode::parse(c.as_str()).unwrap(), c);
            assert_eq!(
                CouponCode::parse(&c.as_str().to_lowercase().replace('-', "")).unwrap(),
                c
            );
            assert!(!c.as_str().contains(['I', 'L', 'O', 'U']));
        }
    }

    #[test]
    fn every_single_typo_and_neighbour_swap_is_caught() {
        let blind_spot = |a: u8, b: u8| matches!((a, b), (b'0', b'Z') | (b'Z', b'0'));
        for _ in 0..100 {
            let c = CouponCode::generate(&OsRandom).unwrap();
            let symbols: Vec<u8> = c.as_str().bytes().filter(|b| *b != b'-').collect();
            for i in 0..symbols.len() {
                for &a in ALPHABET.iter().filter(|&&a| a != symbols[i]) {
                    let mut t = symbols.clone();
                    t[i] = a;
                    assert!(
                        CouponCode::parse(std::str::from_utf8(&t).unwrap()).is_err(),
                        "{c} typo at {i}"
                    );
                }
                if i + 1 < symbols.len()
                    && symbols[i] != symbols[i + 1]
                    && !blind_spot(symbols[i], symbols[i + 1])
                {
                    let mut t = symbols.clone();
                    t.swap(i, i + 1);
                    assert!(
                        CouponCode::parse(std::str::from_utf8(&t).unwrap()).is_err(),
                        "{c} swap at {i}"
                    );
                }
            }
        }
    }

    #[test]
    fn the_one_blind_spot_is_swapping_0_and_z() {
        let c = CouponCode::from_values(&[0, 31, 5, 5, 5, 5, 5, 5, 5, 5, 5]);
        let swapped = format!("Z0{}", &c.as_str().replace('-', "")[2..]);
        assert!(
            CouponCode::parse(&swapped).is_ok(),
            "Luhn mod 32 cannot see this swap"
        );
    }

    #[test]
    fn confusable_letters_are_read_as_digits() {
        let c = CouponCode::from_values(&[0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 8]);
        let typed = c.as_str().replace('0', "o").replace('1', "L");
        assert_eq!(CouponCode::parse(&typed).unwrap(), c);
        assert!(CouponCode::parse("UUUU-UUUU-UUUU").is_err());
        assert!(CouponCode::parse("ABC").is_err());
    }
}

/// A coupon bound to one customer: a value, an expiry, a single use.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Coupon {
    #[schema(value_type = String, example = "7K3M-Q9XA-2HCT")]
    pub code: CouponCode,
    #[schema(value_type = String)]
    pub customer_id: crate::ids::CustomerId,
    /// The value in minor units of `currency`.
    pub value_minor: u64,
    #[schema(value_type = String)]
    pub currency: super::rules::UnitCode,
    /// What minted it: `redemption:{id}`, later `campaign:{kind}:{period}`.
    pub source: String,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: jiff::Timestamp,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: jiff::Timestamp,
    pub redeemed: Option<CouponUse>,
    /// Voided by the tenant (support, fraud): never usable again.
    #[serde(
        with = "crate::time::serde_ts::option",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub voided_at: Option<jiff::Timestamp>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CouponUse {
    #[schema(value_type = String)]
    pub order_id: crate::ids::ExternalId,
    /// The order's amount in minor units of the coupon's currency, as the caller gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_minor: Option<u64>,
    #[serde(with = "crate::time::serde_ts")]
    #[schema(value_type = String, format = DateTime)]
    pub at: jiff::Timestamp,
}

/// The result of using a coupon on an order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CouponRedemption {
    /// Used now by this order.
    Redeemed(Coupon),
    /// This order had already used it (a retry).
    AlreadyByThisOrder(Coupon),
    UsedByAnotherOrder,
    Expired,
    Voided,
    NotFound,
}

/// The result of voiding a coupon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CouponVoid {
    /// Voided now.
    Voided(Coupon),
    /// Voided before (a retry): as it was.
    AlreadyVoided(Coupon),
    /// Used on an order: a used coupon is not voided (reverse the order's points instead).
    Redeemed,
    NotFound,
}

/// How long after its expiry a coupon is kept (for the customer's list and exports) before
/// the store may delete it (DynamoDB: its TTL).
pub const COUPON_GRACE_DAYS: i64 = 90;

impl Coupon {
    /// A new coupon for a customer, valid `valid_days` from `now`, and the event that says so.
    pub fn mint(
        code: CouponCode,
        customer_id: crate::ids::CustomerId,
        value_minor: u64,
        currency: super::rules::UnitCode,
        source: String,
        now: jiff::Timestamp,
        valid_days: u32,
    ) -> (Self, super::account::DomainEvent) {
        let expires_at = now
            .saturating_add(jiff::SignedDuration::from_hours(24 * i64::from(valid_days)))
            .unwrap_or(now);
        let event = super::account::DomainEvent::CouponMinted {
            code: code.to_string(),
        };
        (
            Self {
                code,
                customer_id,
                value_minor,
                currency,
                source,
                created_at: now,
                expires_at,
                redeemed: None,
                voided_at: None,
            },
            event,
        )
    }

    /// The rule of a coupon use by `customer` at `now`, shared by both stores. A coupon is
    /// Voids the coupon at `now`, unless it was used (rule for both stores).
    pub fn void(&self, now: jiff::Timestamp) -> CouponVoid {
        match (&self.redeemed, self.voided_at) {
            (Some(_), _) => CouponVoid::Redeemed,
            (None, Some(_)) => CouponVoid::AlreadyVoided(self.clone()),
            (None, None) => CouponVoid::Voided(Self {
                voided_at: Some(now),
                ..self.clone()
            }),
        }
    }

    /// `active`, `redeemed`, `voided` or `expired` at `now`.
    pub fn status(&self, now: jiff::Timestamp) -> &'static str {
        if self.redeemed.is_some() {
            "redeemed"
        } else if self.voided_at.is_some() {
            "voided"
        } else if now >= self.expires_at {
            "expired"
        } else {
            "active"
        }
    }

    /// A customer's list order: newest first, then by code.
    pub fn newest_first(coupons: &mut [Coupon]) {
        coupons.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(a.code.cmp(&b.code)));
    }

    /// When the store may delete it: [`COUPON_GRACE_DAYS`] after its expiry (epoch seconds).
    pub fn delete_after(&self) -> i64 {
        self.expires_at.as_second() + COUPON_GRACE_DAYS * 86_400
    }

    /// personal: to anyone but the customer it was minted for it does not exist (so a code
    /// cannot be probed through someone else's order).
    pub fn redeem(
        &self,
        customer: &crate::ids::CustomerId,
        order: &crate::ids::ExternalId,
        amount_minor: Option<u64>,
        now: jiff::Timestamp,
    ) -> CouponRedemption {
        if customer != &self.customer_id {
            return CouponRedemption::NotFound;
        }
        if self.voided_at.is_some() {
            return CouponRedemption::Voided;
        }
        match &self.redeemed {
            Some(u) if &u.order_id == order => CouponRedemption::AlreadyByThisOrder(self.clone()),
            Some(_) => CouponRedemption::UsedByAnotherOrder,
            None if now >= self.expires_at => CouponRedemption::Expired,
            None => {
                let mut used = self.clone();
                used.redeemed = Some(CouponUse {
                    order_id: order.clone(),
                    amount_minor,
                    at: now,
                });
                CouponRedemption::Redeemed(used)
            }
        }
    }
}
