//! What agents are doing: ready, on a call, wrapping up or paused (with a
//! reason). Each change reaches the supervisors' board as `agent_state`.

use axum::Json;
use axum::extract::State;

use crate::api::{AgentState, AgentStateView, StateRequest};
use crate::domain::User;
use crate::server::app::{AppState, Body};
use crate::server::auth::Caller;
use crate::server::error::ApiError;

/// Longest pause reason kept.
pub const MAX_REASON: usize = 200;

pub async fn put_my_state(
    State(state): State<AppState>,
    caller: Caller,
    Body(req, _): Body<StateRequest>,
) -> Result<Json<AgentStateView>, ApiError> {
    let reason = checked_reason(&req)?;
    let view = change_state(&state, &caller.0, req.state, reason.as_deref()).await?;
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

/// Sets `agent`'s state and tells the board when it changed.
pub async fn change_state(
    state: &AppState,
    agent: &User,
    new: AgentState,
    reason: Option<&str>,
) -> Result<AgentStateView, ApiError> {
    let (view, changed) = state
        .store
        .set_agent_state(agent.id, new, reason, state.clock.now())
        .await?;
    if changed {
        let body = serde_json::json!({
            "user_id": agent.id,
            "name": agent.name,
            "state": view.state,
            "reason": view.reason,
            "since": view.since,
        });
        state
            .publish("agent_state", None, Some(agent.id), body)
            .await?;
    }
    Ok(view)
}
