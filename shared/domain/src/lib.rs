//! Fanloop's domain: the types parsed once at the edge, the business rules, and the ports
//! (traits) every function and adapter shares. Nothing in this crate performs I/O.

pub mod analytics;
pub mod campaigns;
pub mod cases;
pub mod clock;
pub mod contacts;
pub mod deliverability;
pub mod error;
pub mod events;
pub mod export;
pub mod ids;
pub mod ingest;
pub mod input;
pub mod keys;
pub mod lifecycle;
pub mod lookup;
pub mod points;
pub mod ports;
pub mod profile;
pub mod rfm;
pub mod segments;
pub mod settings;
pub mod staff;
pub mod surveys;
pub mod tenant;
pub mod time;
pub mod timeline;
pub mod values;
pub mod wire;

pub use clock::{Clock, ManualClock, SystemClock};
pub use error::{FieldError, ValidationErrors};
pub use ids::{CustomerId, ExternalId, Platform, TenantId};
pub use profile::{Identity, Profile, ProfilePatch};
pub use settings::TenantSettings;
