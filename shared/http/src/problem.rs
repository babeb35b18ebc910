//! RFC 9457 problem details. Every error response is `application/problem+json`; internal
//! detail goes to the log, never into a response.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fanloop_domain::error::{FieldError, ParseError, ValidationErrors};
use fanloop_domain::ports::StoreError;
use serde::Serialize;
use utoipa::ToSchema;

pub const PROBLEM_BASE: &str = "https://fanloop.dev/problems/";

#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI whose last segment is a stable slug (`validation-error`, `not-found`, …).
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// For 403: the scope the request needs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<&'static str>,
    /// For 422: every invalid field.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

#[derive(Debug)]
pub enum ApiError {
    Validation(ValidationErrors),
    MalformedJson(String),
    UnsupportedMediaType,
    PayloadTooLarge,
    Unauthorized(&'static str),
    /// The key is valid but lacks the scope the request needs.
    Forbidden(fanloop_domain::keys::Scope),
    /// The key's rate (settings `api.rate_per_s`) is used up: retry after these seconds.
    RateLimited(u64),
    NotFound(String),
    MethodNotAllowed,
    Conflict {
        slug: &'static str,
        detail: String,
        errors: Vec<FieldError>,
    },
    Unavailable,
    Internal,
}

impl ApiError {
    /// A single invalid field.
    pub fn field(field: &str, e: impl std::fmt::Display) -> Self {
        ApiError::Validation(ValidationErrors::single(field, e.to_string()))
    }

    pub fn not_found(what: impl Into<String>) -> Self {
        ApiError::NotFound(what.into())
    }

    fn parts(&self) -> (StatusCode, &'static str, &'static str) {
        match self {
            ApiError::Validation(_) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation-error",
                "Invalid request fields",
            ),
            ApiError::MalformedJson(_) => {
                (StatusCode::BAD_REQUEST, "malformed-json", "Malformed JSON")
            }
            ApiError::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
            ),
            ApiError::PayloadTooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload-too-large",
                "Payload too large",
            ),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized", "Unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", "Forbidden"),
            ApiError::RateLimited(_) => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate-limited",
                "Too many requests",
            ),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not-found", "Not found"),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method-not-allowed",
                "Method not allowed",
            ),
            ApiError::Conflict { slug, .. } => (StatusCode::CONFLICT, slug, "Conflict"),
            ApiError::Unavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "Service unavailable",
            ),
            ApiError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal error",
            ),
        }
    }

    pub fn problem(&self) -> Problem {
        let (status, slug, title) = self.parts();
        let (detail, errors) = match self {
            ApiError::Validation(v) => (
                "One or more fields are invalid; see errors.".to_owned(),
                v.0.clone(),
            ),
            ApiError::MalformedJson(d) => (format!("The body is not valid JSON: {d}."), vec![]),
            ApiError::UnsupportedMediaType => {
                ("Send the body as application/json.".to_owned(), vec![])
            }
            ApiError::PayloadTooLarge => (
                format!("The body is larger than {} bytes.", crate::BODY_LIMIT),
                vec![],
            ),
            ApiError::Unauthorized(why) => ((*why).to_owned(), vec![]),
            ApiError::Forbidden(scope) => (
                format!(
                    "This API key lacks the `{}` scope this request needs.",
                    scope.as_str()
                ),
                vec![],
            ),
            ApiError::RateLimited(secs) => (
                format!("This API key's request rate is used up; retry in {secs} s."),
                vec![],
            ),
            ApiError::NotFound(what) => (format!("{what} was not found."), vec![]),
            ApiError::MethodNotAllowed => (
                "This method is not allowed on this resource.".to_owned(),
                vec![],
            ),
            ApiError::Conflict { detail, errors, .. } => (detail.clone(), errors.clone()),
            ApiError::Unavailable => (
                "A dependency is unavailable; retry later.".to_owned(),
                vec![],
            ),
            ApiError::Internal => (
                "An unexpected error occurred; it has been logged.".to_owned(),
                vec![],
            ),
        };
        Problem {
            kind: format!("{PROBLEM_BASE}{slug}"),
            title: title.to_owned(),
            status: status.as_u16(),
            detail,
            scope: match self {
                ApiError::Forbidden(s) => Some(s.as_str()),
                _ => None,
            },
            errors,
        }
    }
}

impl From<ValidationErrors> for ApiError {
    fn from(v: ValidationErrors) -> Self {
        ApiError::Validation(v)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ApiError::Conflict {
                slug: "conflict",
                detail: "A concurrent update to the same resource won; retry the request.".into(),
                errors: vec![],
            },
            StoreError::Unavailable(msg) => {
                tracing::error!(error = %msg, "store unavailable");
                ApiError::Unavailable
            }
            StoreError::Corrupt(msg) => {
                tracing::error!(error = %msg, "stored data could not be read");
                ApiError::Internal
            }
        }
    }
}

impl From<ParseError> for ApiError {
    fn from(e: ParseError) -> Self {
        ApiError::field("(body)", e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = self.problem();
        let status =
            StatusCode::from_u16(problem.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut res = (status, body).into_response();
        res.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let ApiError::RateLimited(secs) = self
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if matches!(self, ApiError::Unauthorized(_)) {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    }
}
