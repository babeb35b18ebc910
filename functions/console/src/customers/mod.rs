//! Finding a customer, their page (the 360), and the actions on it: change the phone, log a
//! contact, adjust points. Each action is a form with the session's CSRF token and a request
//! id rendered into the form, which makes a resubmission a retry (the contact id, the
//! adjustment id and the audit entry's id), and answers with a redirect back to the page.

mod actions;
pub(crate) mod forms;
mod page;
mod search;

pub use actions::{adjust_points, edit_phone, log_contact, void_coupon};
pub(crate) use forms::{audit, invalid, invalid_all, new_request_id, request_id, reused};
pub(crate) use page::PageError;
pub use page::customer;
pub use search::{search, search_post};
