//! `POST /customers/{id}/points/redemptions` and `GET /rewards`: redeeming the tenant's reward
//! catalogue, and the free-form redemption left to admin keys.

use axum::extract::{Extension, State};
use axum::response::Response;
use axum::{Json, extract::Path};
use fanloop_domain::keys::Scope;
use fanloop_domain::points::rules::{MAX_AMOUNT, MAX_POINTS, UnitCode};
use fanloop_domain::points::{RewardId, RewardListing};
use fanloop_domain::wire::Bounded;
use fanloop_domain::{ExternalId, ValidationErrors};
use fanloop_http::{ApiError, AppState, AuthKey, AuthTenant, JsonBody, Problem};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::service::{self, CouponReward, RedemptionRequest, RedemptionResult, Spend};
use crate::{Write, answer};

fanloop_domain::wire_struct! {
    /// The body of a redemption: a catalogue `reward_id`, or (keys with the `admin` scope only)
    /// free-form `points` with an optional `reward` coupon. Exactly one of `reward_id` and
    /// `points`.
    pub struct RedemptionInput {
        /// Your id of the redemption: each is applied once.
        pub redemption_id: ExternalId,
        /// A reward of settings `rewards`: its cost is spent and its coupon minted.
        #[schema(value_type = Option<String>)]
        pub reward_id: Option<RewardId>,
        /// Free-form: the points to spend (admin scope).
        pub points: Option<Bounded<1, { MAX_POINTS }>>,
        /// Free-form: the coupon to mint with `points` (admin scope).
        pub reward: @nested Option<RewardInput>,
    }
}

/// What a free-form redemption buys.
#[derive(Clone, Copy, Debug, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RewardKind {
    /// A coupon for the customer, minted in the same atomic step.
    Coupon,
}

fanloop_domain::wire_struct! {
    /// The coupon of a free-form redemption.
    pub struct RewardInput {
        pub kind: RewardKind,
        pub value_minor: Bounded<1, { MAX_AMOUNT }>,
        pub currency: UnitCode,
        /// Default 30.
        pub valid_days: Option<Bounded<1, 3650>>,
    }
}

impl RedemptionInput {
    /// The request, once the fields agree with each other.
    fn into_request(self) -> Result<RedemptionRequest, ValidationErrors> {
        let spend = match (self.reward_id, self.points, self.reward) {
            (Some(id), None, None) => Spend::Reward(id),
            (None, Some(points), reward) => Spend::Points {
                points: points.get(),
                reward: reward.map(|w| {
                    let RewardKind::Coupon = w.kind;
                    CouponReward {
                        value_minor: w.value_minor.get(),
                        currency: w.currency,
                        // At most 3650: fits.
                        valid_days: w.valid_days.map_or(30, |d| d.get() as u32),
                    }
                }),
            },
            (Some(_), _, _) => {
                return Err(ValidationErrors::single(
                    "reward_id",
                    "comes alone: a catalogue reward sets the points and the coupon",
                ));
            }
            (None, None, _) => {
                return Err(ValidationErrors::single(
                    "reward_id",
                    "is required (or, with the admin scope, points)",
                ));
            }
        };
        Ok(RedemptionRequest {
            redemption_id: self.redemption_id,
            spend,
        })
    }
}

/// Spend points on a reward of the catalogue, its coupon minted in the same atomic step.
///
/// Exactly once per `redemption_id`. Never overdraws: too few points is 409
/// `insufficient-points` and nothing changes; spending takes the points that expire first. A
/// reward not for the customer's tier is 409 `reward-not-for-tier`, past its per-customer limit
/// 409 `reward-limit-reached`, out of stock 409 `reward-out-of-stock` (stock and limits hold
/// under concurrent redemptions). Free-form `points` (with an optional `reward`) need a key with
/// the `admin` scope (403 otherwise).
#[utoipa::path(post, path = "/customers/{customer_id}/points/redemptions", tag = "points",
    params(("customer_id" = fanloop_domain::CustomerId, Path)), request_body = RedemptionInput,
    responses(
        (status = 201, body = RedemptionResult), (status = 200, description = "A retry", body = RedemptionResult),
        (status = 403, description = "free-form points without the admin scope", body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "insufficient-points, reward-not-for-tier, reward-limit-reached, reward-out-of-stock, or the id reused", body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")),
    security(("api_key" = [])))]
pub(crate) async fn post_redemption(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
    Extension(AuthKey(key)): Extension<AuthKey>,
    Path(raw_id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let parse = |b| RedemptionInput::parse(b).and_then(RedemptionInput::into_request);
    let (w, req) = Write::read(&state, &tenant, raw_id, body, parse).await?;
    if matches!(req.spend, Spend::Points { .. }) && !key.scopes.contains(&Scope::Admin) {
        return Err(ApiError::Forbidden(Scope::Admin));
    }
    let store = state.store.as_ref();
    answer(service::redeem(store, &w.settings, &tenant, &w.customer, req, w.now).await)
}

/// The reward catalogue.
#[derive(Debug, Serialize, ToSchema)]
pub struct RewardCatalogue {
    pub rewards: Vec<RewardListing>,
}

/// The reward catalogue (settings `rewards`), with `redeemed` and `remaining` for each reward
/// that has a stock.
#[utoipa::path(get, path = "/rewards", tag = "points",
    responses((status = 200, body = RewardCatalogue)), security(("api_key" = [])))]
pub(crate) async fn get_rewards(
    State(state): State<AppState>,
    AuthTenant(tenant): AuthTenant,
) -> Result<Json<RewardCatalogue>, ApiError> {
    let settings = state.settings(&tenant).await?;
    Ok(Json(RewardCatalogue {
        rewards: service::rewards(state.store.as_ref(), &settings, &tenant).await?,
    }))
}
