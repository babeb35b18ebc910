//! Assembling function routers into one service: `/v1` behind the API key, public routes
//! beside it, `/openapi.json`, and problem+json for unknown routes and methods.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use utoipa::openapi::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::auth::require_api_key;
use crate::problem::ApiError;
use crate::state::AppState;
use crate::telemetry::log_requests;

/// Largest accepted request body (64 KiB); larger is 413.
pub const BODY_LIMIT: usize = 64 * 1024;

/// `api` holds the authenticated routes (paths relative to `/v1`), `public` the routes that
/// need no key (unsubscribe links). Returns the service and the OpenAPI document of these
/// routes; `/openapi.json` serves the complete checked-in one ([`crate::openapi`]).
pub fn assemble(
    api: OpenApiRouter<AppState>,
    public: OpenApiRouter<AppState>,
    state: AppState,
) -> (Router, OpenApi) {
    let (api_router, mut doc) = OpenApiRouter::new().nest("/v1", api).split_for_parts();
    let (public_router, public_doc) = public.split_for_parts();
    doc.merge(public_doc);
    crate::openapi::complete(&mut doc);

    let api_router = api_router.route_layer(middleware::from_fn_with_state(
        state.clone(),
        require_api_key,
    ));
    let router = Router::new()
        .merge(api_router)
        .merge(public_router)
        .route(
            "/openapi.json",
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    crate::openapi::DOCUMENT,
                )
            }),
        )
        .fallback(|| async { ApiError::not_found("The resource").into_response() })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed.into_response() })
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(log_requests))
        .with_state(state);
    (router, doc)
}
