//! What agents are doing: ready, on a call, wrapping up or paused (with a
//! reason). Each change reaches the supervisors' board as `agent_state`.

use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveTime, Utc};

use crate::api::{AgentCall, AgentState, AgentStateView, StateRequest};
use crate::api::{ErrorBody, MAX_REASON};
use crate::domain::{Role, User};
use crate::server::app::{AppState, Body, Id};
use crate::server::auth::{Caller, Supervisor};
use crate::server::error::ApiError;
use crate::server::store::Tx;

#[utoipa::path(put, path = "/v1/me/state", tag = "agents", security(("bearer" = [])),
    request_body = StateRequest,
    responses(
        (status = 200, description = "the state kept", body = AgentStateView),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 422, description = "a pause without a reason, or a reason for another state", body = ErrorBody),
    ))]
pub async fn put_my_state(
    State(state): State<AppState>,
    caller: Caller,
    Body(req, _): Body<StateRequest>,
) -> Result<Json<AgentStateView>, ApiError> {
    let reason = checked_reason(&req)?;
    let now = state.clock.now();
    let view = state
        .write(move |tx| {
            Box::pin(async move {
                change_state(tx, &caller.0, req.state, reason.as_deref(), None, now).await
            })
        })
        .await?;
    Ok(Json(view))
}

/// The most calls an agent's drill-down lists.
pub const CALLS_LIMIT: u32 = 200;

/// An agent's calls today (the server's UTC day), newest first, with what
/// came of each: the board's drill-down.
#[utoipa::path(get, path = "/v1/agents/{id}/calls", tag = "agents", security(("bearer" = ["supervisor", "admin"])),
    params(("id" = i64, Path, description = "the agent's user id")),
    responses(
        (status = 200, description = "today's calls, newest first; at most 200", body = Vec<AgentCall>),
        (status = 401, description = "no valid bearer token", body = ErrorBody), (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 404, description = "no such user", body = ErrorBody),
    ))]
pub async fn calls_today(
    State(state): State<AppState>,
    _caller: Supervisor,
    Id(id): Id,
) -> Result<Json<Vec<AgentCall>>, ApiError> {
    let day_start = state
        .clock
        .now()
        .date_naive()
        .and_time(NaiveTime::MIN)
        .and_utc();
    // An empty list would say a user who does not exist made no calls.
    if state.store.user(id).await?.is_none() {
        return Err(no_user(id));
    }
    let calls = state.store.agent_calls(id, day_start, CALLS_LIMIT).await?;
    Ok(Json(calls))
}

fn no_user(id: i64) -> ApiError {
    ApiError::not_found("user_not_found", format!("no user {id}")).field("id")
}

/// A supervisor or admin sets an agent's state (a pause for a coaching
/// session, say); audited.
#[utoipa::path(put, path = "/v1/agents/{id}/state", tag = "agents", security(("bearer" = ["supervisor", "admin"])),
    params(("id" = i64, Path, description = "the agent's user id")),
    request_body = StateRequest,
    responses(
        (status = 200, description = "the state kept", body = AgentStateView),
        (status = 401, description = "no valid bearer token", body = ErrorBody), (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 404, description = "no such user", body = ErrorBody),
        (status = 422, description = "a pause without a reason, a reason for another state, or a user who is not an agent (`id`)", body = ErrorBody),
    ))]
pub async fn put_agent_state(
    State(state): State<AppState>,
    caller: Supervisor,
    Id(id): Id,
    Body(req, _): Body<StateRequest>,
) -> Result<Json<AgentStateView>, ApiError> {
    let reason = checked_reason(&req)?;
    let agent = state.store.user(id).await?.ok_or_else(|| no_user(id))?;
    // Only agents work the floor; a supervisor pausing an admin (or another
    // supervisor) would be acting on a peer or someone above them.
    if agent.role != Role::Agent {
        return Err(ApiError::invalid(
            "id",
            format!(
                "user {id} is not an agent (role: {}): only an agent's state is set by others",
                agent.role.name()
            ),
        ));
    }
    let now = state.clock.now();
    let by = caller.0.id;
    let view = state
        .write(move |tx| {
            Box::pin(async move {
                let view =
                    change_state(tx, &agent, req.state, reason.as_deref(), Some(by), now).await?;
                let detail = match &view.reason {
                    Some(r) => format!("user {id}: {} ({r})", view.state.name()),
                    None => format!("user {id}: {}", view.state.name()),
                };
                tx.audit(Some(by), "set_agent_state", None, &detail, now)
                    .await?;
                Ok(view)
            })
        })
        .await?;
    Ok(Json(view))
}

/// A pause needs a reason (trimmed, at most `MAX_REASON` bytes); no other
/// state takes one.
fn checked_reason(req: &StateRequest) -> Result<Option<String>, ApiError> {
    let reason = req
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty());
    match (req.state, reason) {
        (AgentState::Paused, None) => Err(ApiError::invalid("reason", "a pause needs a reason")),
        (AgentState::Paused, Some(r)) if r.len() > MAX_REASON => Err(ApiError::invalid(
            "reason",
            format!("a reason is at most {MAX_REASON} bytes"),
        )),
        (AgentState::Paused, Some(r)) => Ok(Some(r.to_string())),
        (_, None) => Ok(None),
        (other, Some(_)) => Err(ApiError::invalid(
            "reason",
            format!("only a pause has a reason, not {}", other.name()),
        )),
    }
}

/// Sets `agent`'s state (`by` a supervisor, or themselves when `None`) and
/// tells the board when it changed.
pub async fn change_state(
    tx: &mut dyn Tx,
    agent: &User,
    new: AgentState,
    reason: Option<&str>,
    by: Option<i64>,
    now: DateTime<Utc>,
) -> Result<AgentStateView, ApiError> {
    let (view, changed) = tx.set_agent_state(agent.id, new, reason, now).await?;
    if changed {
        let body = state_body(agent, &view, by);
        tx.publish("agent_state", None, Some(agent.id), &body, now)
            .await?;
    }
    Ok(view)
}

/// What `agent_state` (and `agent_arrived`) tell of an agent: who, in
/// which state since when, and who set it (`None`: themselves).
pub fn state_body(agent: &User, view: &AgentStateView, by: Option<i64>) -> serde_json::Value {
    serde_json::json!({
        "user_id": agent.id,
        "name": agent.name,
        "state": view.state,
        "reason": view.reason,
        "since": view.since,
        "by": by,
    })
}
