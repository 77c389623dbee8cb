//! Logging in and out, and who the caller is. Failed logins are limited per
//! user and address, so a password cannot be guessed at network speed.

use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use chrono::Duration;
use std::net::SocketAddr;

use crate::api::ErrorBody;
use crate::api::{LoginRequest, LoginResponse, MeView, UserView};
use crate::domain::User;
use crate::server::app::{AppState, Body, login_key};
use crate::server::auth::{Caller, bearer, hash_password, new_token, token_hash, verify_password};
use crate::server::error::ApiError;

/// Failed logins allowed per user and address within the window.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW_MINUTES: i64 = 15;

/// The longest name a login is tried with: room for a name kept before
/// `users add` checked names.
const MAX_LOGIN_NAME: usize = 1024;

#[utoipa::path(post, path = "/v1/sessions", tag = "sessions",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "a token and who you are", body = LoginResponse),
        (status = 401, description = "wrong user name or password", body = ErrorBody),
        (status = 422, description = "a field missing or of the wrong type, or a user name over 1 KiB", body = ErrorBody),
        (status = 429, description = "too many failed logins", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    Body(req, _): Body<LoginRequest>,
) -> Result<Json<LoginResponse>, ApiError> {
    // Far longer than any user's name (`users add` takes 64 bytes): not
    // worth a look in the store.
    if req.username.len() > MAX_LOGIN_NAME {
        return Err(ApiError::invalid(
            "username",
            format!("a user name is at most {} bytes", User::MAX_NAME),
        ));
    }
    let now = state.clock.now();
    let key = login_key(&req.username, addr.ip().to_string());
    let window = Duration::minutes(FAILURE_WINDOW_MINUTES);
    {
        let mut failed = state.failed_logins.lock().expect("not poisoned");
        failed.retain(|_, (_, first)| now - *first < window);
        if failed
            .get(&key)
            .is_some_and(|(count, _)| *count >= MAX_FAILURES)
        {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_attempts",
                format!(
                    "too many failed logins; try again within {FAILURE_WINDOW_MINUTES} minutes"
                ),
            ));
        }
    }
    let found = state.store.user_by_name(&req.username).await?;
    // Verify against something even for an unknown user, so timing does not
    // tell which names exist.
    let (user, hash) = match found {
        Some((user, hash)) => (Some(user), hash),
        None => (None, hash_password("not a password".into()).await),
    };
    let ok = verify_password(req.password, hash).await && user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        let mut failed = state.failed_logins.lock().expect("not poisoned");
        failed.entry(key).or_insert((0, now)).0 += 1;
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "bad_credentials",
            "wrong user name or password",
        ));
    };
    state
        .failed_logins
        .lock()
        .expect("not poisoned")
        .remove(&key);
    let (token, token_hash) = new_token();
    let expires_at = now + state.session_ttl;
    state
        .store
        .create_session(&token_hash, user.id, expires_at)
        .await?;
    state.store.begin_agent_state(user.id, now).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user: UserView {
            id: user.id,
            name: user.name,
            role: user.role,
        },
    }))
}

/// Logs out: the token the call carries stops working at once, and a live
/// stream it holds open ends (other sessions of the same user go on).
#[utoipa::path(delete, path = "/v1/sessions/current", tag = "sessions", security(("bearer" = [])),
    responses((status = 204, description = "the token is revoked"), (status = 401, description = "no valid bearer token", body = ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    _caller: Caller,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    // The caller was found by this very token.
    let token = bearer(&headers).ok_or_else(ApiError::unauthorized)?;
    state.end_session(&token_hash(token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/v1/me", tag = "sessions", security(("bearer" = [])),
    responses((status = 200, description = "who you are and what you are doing", body = MeView), (status = 401, description = "no valid bearer token", body = ErrorBody)))]
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<MeView>, ApiError> {
    let u = caller.0;
    // A session from before agent states were kept has none yet.
    let s = match state.store.agent_state(u.id).await? {
        Some(s) => s,
        None => {
            state
                .store
                .begin_agent_state(u.id, state.clock.now())
                .await?
        }
    };
    Ok(Json(MeView {
        id: u.id,
        name: u.name,
        role: u.role,
        state: s.state,
        reason: s.reason,
        since: s.since,
    }))
}
