//! Placing a call, once per `Idempotency-Key`. The server, not the console,
//! decides whether a call may happen now: the engine plans the debtor again
//! and a call the law or the policy forbids is refused with the rule and
//! when it clears. An allowed call counts against the caps from the moment
//! it is dialed; its outcome later gives that same attempt its result.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::{DateTime, Utc};

use crate::api::ErrorBody;
use crate::api::{AgentState, CallRequest, CallResponse};
use crate::domain::{Channel, ContactResult, Debtor, Event, EventKind, Firmness, User};
use crate::schedule::compliance::{Block, Refusal};
use crate::schedule::{Plan, Policy, Source, State as PlanState, plan};
use crate::server::app::{AppState, Body, Id, hold_debtor, not_leased_to_another, verdict};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::idempotent::once;
use crate::server::routes::agents::change_state;
use crate::server::store::{CallWrite, Change, Tx};

#[utoipa::path(post, path = "/v1/debtors/{id}/calls", tag = "calls", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the debtor's id"), ("Idempotency-Key" = String, Header, description = "the same key and body answer the first answer again")),
    request_body = CallRequest,
    responses(
        (status = 201, description = "the call may go ahead; its attempt counts from now", body = CallResponse),
        (status = 400, description = "no or a bad Idempotency-Key", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 403, description = "the debtor is leased to another agent (`leased_to_another`)", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
        (status = 409, description = "`call_blocked`: the rule and when it clears, in `details`", body = ErrorBody),
        (status = 422, description = "a number not the debtor's, or without consent (`phone`)", body = ErrorBody),
    ))]
pub async fn start(
    State(state): State<AppState>,
    caller: Caller,
    Id(debtor_id): Id,
    headers: HeaderMap,
    Body(req, raw): Body<CallRequest>,
) -> Result<Response, ApiError> {
    let user = caller.0;
    let now = state.clock.now();
    let policy = state.policy.clone();
    let scope = format!("POST /v1/debtors/{debtor_id}/calls");
    once(&state, user.id, scope, &headers, &raw, move |tx| {
        Box::pin(async move { start_new(&policy, tx, &user, debtor_id, req, now).await })
    })
    .await
}

async fn start_new(
    policy: &Policy,
    tx: &mut dyn Tx,
    user: &User,
    debtor_id: i64,
    req: CallRequest,
    now: DateTime<Utc>,
) -> Result<CallResponse, ApiError> {
    let (debtor, mut history) = hold_debtor(tx, debtor_id).await?;
    not_leased_to_another(tx, debtor_id, user.id, now).await?;
    let before = plan(&debtor, &history, policy, now);
    let number = req.phone.trim();
    let phone = debtor
        .phones
        .iter()
        .find(|p| p.number == number)
        .ok_or_else(|| ApiError::invalid("phone", "not one of this debtor's numbers"))?;
    if !phone.consent {
        return Err(ApiError::invalid(
            "phone",
            "the debtor has not agreed to be called on this number",
        ));
    }
    let requested = may_call(policy, &debtor, &history, &before, now)
        .map_err(|refusal| blocked(&debtor, &refusal))?;
    let firmness = before
        .actions
        .iter()
        .find(|a| a.channel == Channel::Call && a.at <= now)
        .map_or(Firmness::Friendly, |a| a.firmness);
    let attempt = Event {
        at: now,
        kind: EventKind::Contact {
            channel: Channel::Call,
            firmness,
            result: ContactResult::Dialed,
            requested,
        },
    };
    history.push(attempt.clone());
    history.sort_by_key(|e| e.at);
    let after = plan(&debtor, &history, policy, now);
    let queue = before.queue.map(|q| policy.queue(q).id.clone());
    let ids = tx
        .apply(
            debtor_id,
            &Change {
                events: vec![attempt],
                verdict: Some(verdict(policy, &debtor, &after, now)),
                call: Some(CallWrite {
                    counted_in: policy.currency,
                    agent_id: user.id,
                    queue: queue.clone(),
                    ends: None,
                }),
                ..Change::default()
            },
        )
        .await?;
    change_state(tx, user, AgentState::OnCall, None, None, now).await?;
    let body = serde_json::json!({ "attempt_id": ids[0], "debtor_id": debtor_id, "queue": queue });
    tx.publish("call_started", Some(debtor_id), Some(user.id), &body, now)
        .await?;
    Ok(CallResponse {
        attempt_id: ids[0],
        debtor_id,
        started_at: now,
    })
}

/// Whether a call may be placed now, as the engine sees it: none to one
/// who owes nothing; a call due and allowed (`true` when it is a callback
/// the debtor asked for, which the caps do not count); else the rule of a
/// call the plan holds back; else whether the rules allow an unplanned
/// call now.
fn may_call(
    policy: &Policy,
    debtor: &Debtor,
    history: &[Event],
    p: &Plan,
    now: DateTime<Utc>,
) -> Result<bool, Refusal> {
    if p.state == PlanState::PaidInFull {
        return Err(Refusal {
            block: Block::NothingOwed,
            clears_at: None,
        });
    }
    if p.callable_now {
        return Ok(p
            .actions
            .iter()
            .any(|a| a.channel == Channel::Call && a.at <= now && a.source == Source::Callback));
    }
    if let Some(b) = p.blocked.iter().find(|b| b.channel == Channel::Call) {
        return Err(b.refusal.clone());
    }
    if let PlanState::Stopped(flag) = p.state {
        return Err(Refusal {
            block: Block::Stopped(flag),
            clears_at: None,
        });
    }
    policy
        .compliance
        .check(debtor, history, Channel::Call, false, now)
        .map(|()| false)
}

/// 409 `call_blocked`: the rule in words and when a call is allowed, in the
/// debtor's own time, with both as data in `details`.
fn blocked(debtor: &Debtor, refusal: &Refusal) -> ApiError {
    let when = match (refusal.clears_at, debtor.time_zone.tz()) {
        (Some(t), Some(tz)) => format!(
            "a call is allowed from {}",
            t.with_timezone(&tz).format("%A %Y-%m-%d %H:%M local")
        ),
        (Some(t), None) => format!(
            "a call is allowed from {}",
            t.format("%A %Y-%m-%d %H:%M UTC")
        ),
        (None, _) => "no call until someone changes that".into(),
    };
    let mut e = ApiError::new(
        StatusCode::CONFLICT,
        "call_blocked",
        format!("{}; {when}", refusal.block),
    );
    e.details = Some(serde_json::json!({
        "rule": refusal.block.code(),
        "clears_at": refusal.clears_at,
    }));
    e
}
