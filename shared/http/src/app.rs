//! Assembling function routers into one service: `/v1` behind the API key, public routes
//! beside it, `/openapi.json`, and problem+json for unknown routes and methods.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::{InfoBuilder, OpenApi};
use utoipa_axum::router::OpenApiRouter;

use crate::auth::require_api_key;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::telemetry::log_requests;

/// Largest accepted request body (64 KiB); larger is 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// `api` holds the authenticated routes (paths relative to `/v1`), `public` the routes that
/// need no key (unsubscribe links). Returns the service and its OpenAPI document.
pub fn assemble(
    api: OpenApiRouter<AppState>,
    public: OpenApiRouter<AppState>,
    state: AppState,
) -> (Router, OpenApi) {
    let (api_router, mut doc) = OpenApiRouter::new().nest("/v1", api).split_for_parts();
    let (public_router, public_doc) = public.split_for_parts();
    doc.merge(public_doc);
    doc.info = InfoBuilder::new()
        .title("Fanloop API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "Loyalty and marketing automation for game studios and streaming platforms.",
        ))
        .build();
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "api_key",
        SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
    );
    let doc_json = serde_json::to_string(&doc).unwrap_or_default();

    let api_router = api_router.route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ));
    let router = Router::new()
        .merge(api_router)
        .merge(public_router)
        .route(
            "/openapi.json",
            get(move || {
                let body = doc_json.clone();
                async move {
                    (
                        [(axum::http::header::CONTENT_TYPE, "application/json")],
                        body,
                    )
                }
            }),
        )
        .fallback(|| async { ApiError::not_found("The resource").into_response() })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_requests))
        .with_state(state);
    (router, doc)
}
