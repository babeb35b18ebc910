//! HTTP plumbing shared by every function: application state, API-key authentication,
//! problem+json errors, the JSON body extractor, request logging, and assembling routers.

pub mod app;
pub mod auth;
pub mod extract;
pub mod openapi;
pub mod paging;
pub mod problem;
pub mod state;
pub mod telemetry;

pub use app::{BODY_LIMIT, assemble};
pub use auth::{AuthKey, AuthTenant};
pub use extract::{JsonBody, QueryParams, parse_path};
pub use paging::{PageQuery, cursor};
pub use problem::{ApiError, Problem};
pub use state::AppState;
