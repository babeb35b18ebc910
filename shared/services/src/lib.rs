//! Use cases that more than one function needs (the staff console acts through the same ones
//! as the API): each asks for the store capability it uses and returns a typed error that the
//! HTTP edge maps to problem+json.

pub mod cases;
pub mod contacts;
pub mod keys;
pub mod points;
pub mod reports;
pub mod settings;
pub mod staff;
pub mod timeline;
