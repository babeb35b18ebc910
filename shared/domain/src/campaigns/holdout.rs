//! Holdouts: a campaign's control group, chosen by a hash of the campaign and the customer, so
//! the same customer is held out on every run and on every machine, and each campaign draws its
//! own group.

use sha2::{Digest, Sha256};

/// Whether `customer` is in the `percent` (0–100) of `campaign`'s audience that is recorded
/// but not mailed.
pub fn held_out(campaign: &str, customer: &str, percent: u8) -> bool {
    let mut h = Sha256::new();
    h.update(campaign.as_bytes());
    h.update(b"\n");
    h.update(customer.as_bytes());
    let d = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    // In basis points: 0..10_000, uniform enough for a share (the bias of 2^64 mod 10^4 is
    // below 10^-15).
    let bucket = u64::from_be_bytes(first) % 10_000;
    bucket < u64::from(percent.min(100)) * 100
}

#[cfg(test)]
mod tests {
    use super::held_out;

    #[test]
    fn the_share_is_the_setting_and_stable() {
        for percent in [0u8, 5, 10, 50, 100] {
            let held = (0..10_000)
                .filter(|i| held_out("lunar-new-year", &format!("c{i}"), percent))
                .count() as i64;
            let want = i64::from(percent) * 100;
            assert!((held - want).abs() <= 200, "{percent}%: {held} of 10,000");
        }
        let first: Vec<bool> = (0..1000)
            .map(|i| held_out("a", &format!("c{i}"), 10))
            .collect();
        let again: Vec<bool> = (0..1000)
            .map(|i| held_out("a", &format!("c{i}"), 10))
            .collect();
        assert_eq!(first, again, "the same customers every run");
        let other: Vec<bool> = (0..1000)
            .map(|i| held_out("b", &format!("c{i}"), 10))
            .collect();
        assert_ne!(first, other, "each campaign its own group");
        assert!(!held_out("a", "c1", 0) && held_out("a", "c1", 100));
    }
}
