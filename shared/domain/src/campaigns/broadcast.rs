//! The broadcast trigger: one mail to each customer of the audience at a local date and time
//! (`2027-02-10T10:00`) read in the customer's own zone, through the hourly runs. A customer
//! is due from that moment for [`BROADCAST_WINDOW`]; a run that comes later (the campaign was
//! paused, activated late, or the runs stopped) no longer sends to them.

use jiff::{SignedDuration, Timestamp};

use super::audience::AudienceCheck;
use super::definition::LocalDateTime;
use crate::profile::Profile;
use crate::values::TimeZoneName;

/// How long after its local moment a customer still gets a broadcast.
pub const BROADCAST_WINDOW: SignedDuration = SignedDuration::from_hours(24);

/// The period of a campaign sent once at all.
pub const PERIOD_EVER: &str = "ever";

/// A broadcast as the send rules check it.
#[derive(Clone, Debug)]
pub struct BroadcastRule {
    pub at: LocalDateTime,
    pub audience: AudienceCheck,
}

impl BroadcastRule {
    /// Whether any zone can be due at `as_of`: from `at` in the earliest zone (UTC+14) to
    /// [`BROADCAST_WINDOW`] after `at` in the latest (UTC−12). Outside it a run reads no
    /// customer at all (an active broadcast whose moment has passed costs nothing hourly).
    pub fn may_be_due(at: &LocalDateTime, as_of: Timestamp) -> bool {
        let naive = |offset_h: i8| jiff::tz::Offset::constant(offset_h).to_timestamp(at.0).ok();
        match (naive(14), naive(-12)) {
            (Some(first), Some(last)) => {
                first <= as_of
                    && last
                        .checked_add(BROADCAST_WINDOW)
                        .is_ok_and(|end| as_of < end)
            }
            _ => true,
        }
    }

    /// The instant of the broadcast in `tz` (a local time in a daylight-saving gap is the
    /// instant the clocks jump to; in a fold, the earlier one).
    pub fn instant(&self, tz: &TimeZoneName) -> Option<Timestamp> {
        self.at.0.to_zoned(tz.tz()).ok().map(|z| z.timestamp())
    }

    /// Whether the customer is due at `as_of`: their local moment has come and is less than
    /// [`BROADCAST_WINDOW`] ago.
    pub fn due(&self, p: &Profile, default_tz: &TimeZoneName, as_of: Timestamp) -> bool {
        let tz = p.timezone.as_ref().unwrap_or(default_tz);
        self.instant(tz).is_some_and(|t| {
            t <= as_of && t.checked_add(BROADCAST_WINDOW).is_ok_and(|end| as_of < end)
        })
    }
}
