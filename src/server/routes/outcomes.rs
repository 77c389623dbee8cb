//! Recording what came of a call, once per `Idempotency-Key`. The outcome
//! is appended with any promise, plan or callback, and the debtor
//! re-planned at once, in one write. The call's contact is the attempt the
//! agent dialed through the server in the last half hour, given its result
//! now (so the caps count one attempt per call), or else a new one.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use chrono::{DateTime, Duration, Utc};

use crate::api::ErrorBody;
use crate::api::{AgentState, OutcomeRequest, OutcomeResponse, RECORDED_AGO};
use crate::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Firmness, Money, User,
};
use crate::schedule::{offers, plan};
use crate::server::app::{AppState, Body, Id, hold_debtor, not_leased_to_another, verdict};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::idempotent::{KEYS_KEPT_DAYS, once};
use crate::server::routes::agents::change_state;
use crate::server::store::{CallWrite, Change, Tx};

#[utoipa::path(post, path = "/v1/debtors/{id}/outcomes", tag = "calls", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the debtor's id"), ("Idempotency-Key" = String, Header, description = "the same key and body answer the first answer again"), ("Regua-Recorded-Ago" = Option<u64>, Header, description = "for an outcome sent late: how many seconds before sending it was recorded, on the sender's clock")),
    request_body = OutcomeRequest,
    responses(
        (status = 201, description = "the outcome recorded", body = OutcomeResponse),
        (status = 400, description = "no or a bad Idempotency-Key, a bad Regua-Recorded-Ago, or malformed JSON", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 403, description = "the debtor is leased to another agent (`leased_to_another`)", body = ErrorBody),
        (status = 404, description = "no such debtor", body = ErrorBody),
        (status = 422, description = "a field the rules refuse, named in `field`", body = ErrorBody),
    ))]
pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Id(debtor_id): Id,
    headers: HeaderMap,
    Body(req, raw): Body<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let user = caller.0;
    let now = state.clock.now();
    let said = recorded_when(&headers, now)?;
    let worker = state.clone();
    let scope = format!("POST /v1/debtors/{debtor_id}/outcomes");
    once(&state, user.id, scope, &headers, &raw, move |tx| {
        Box::pin(async move { record_new(&worker, tx, &user, debtor_id, req, said, now).await })
    })
    .await
}

/// A call dialed this long ago without an outcome is the one an outcome
/// tells the result of; an older one stays a call without a known result.
pub const CALL_OPEN_MINUTES: i64 = 30;

/// `said` is when the outcome happened (see [`recorded_when`]).
async fn record_new(
    state: &AppState,
    tx: &mut dyn Tx,
    user: &User,
    debtor_id: i64,
    req: OutcomeRequest,
    said: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<OutcomeResponse, ApiError> {
    let (debtor, mut history) = hold_debtor(tx, debtor_id).await?;
    // The call it tells of: dialed in the half hour before it, not after
    // (a later call of the same debtor has its own outcome coming).
    let open = tx
        .open_call(
            debtor_id,
            user.id,
            said - Duration::minutes(CALL_OPEN_MINUTES),
            said,
        )
        .await?;
    let late = now - said >= Duration::minutes(LATE_AFTER_MINUTES);
    // One that waited in the outbox while a colleague took the debtor
    // still tells of the call this agent dialed when the debtor was theirs.
    if !(late && open.is_some()) {
        not_leased_to_another(tx, debtor_id, user.id, now).await?;
    }
    // Whole seconds of age: never before the call it tells the result of.
    let at = match &open {
        Some(open) => said.max(open.attempt.at),
        None => said,
    };
    let (result, mut events) = outcome_events(state, &debtor, &history, &req, at)?;
    // Worked from the queue the call was placed from; planned now, after
    // the attempt counted, the debtor is often in none.
    let from_queue = match &open {
        Some(open) => open.queue.clone(),
        None => plan(&debtor, &history, &state.policy, now)
            .queue
            .map(|q| state.policy.queue(q).id.clone()),
    };
    let resolved_attempt = open.as_ref().map(|o| o.attempt_id);
    let ends = match open {
        // A call dialed through the server already counted as an attempt:
        // the outcome gives that attempt its result instead of adding one.
        Some(open) => {
            let mut resolved = open.attempt.clone();
            if let EventKind::Contact { result: r, .. } = &mut resolved.kind {
                *r = result;
            }
            if let Some(e) = history.iter_mut().find(|e| **e == open.attempt) {
                *e = resolved.clone();
            }
            Some((open, resolved))
        }
        None => {
            events.insert(
                0,
                Event {
                    at,
                    kind: EventKind::Contact {
                        channel: Channel::Call,
                        firmness: Firmness::Friendly,
                        result,
                        requested: false,
                    },
                },
            );
            None
        }
    };
    history.extend_from_slice(&events);
    history.sort_by_key(|e| e.at);
    let replanned = plan(&debtor, &history, &state.policy, now);
    let v = verdict(&state.policy, &debtor, &replanned, now);
    let queue = v.queue.clone();
    let ids = tx
        .apply(
            debtor_id,
            &Change {
                events: events.clone(),
                balances: vec![],
                verdict: Some(v),
                call: Some(CallWrite {
                    counted_in: state.policy.currency,
                    agent_id: user.id,
                    queue: from_queue.clone(),
                    ends,
                }),
            },
        )
        .await?;
    let id = events
        .iter()
        .zip(&ids)
        .find(|(e, _)| matches!(e.kind, EventKind::Outcome { .. }))
        .map(|(_, id)| *id)
        .expect("an outcome is always written");
    // One that waited in the agent's outbox tells of a call long over:
    // the agent has moved on since.
    if !late {
        change_state(tx, user, AgentState::WrapUp, None, None, now).await?;
    }
    // What was promised, so a board adds it up without asking again.
    let promised_in = events.iter().find_map(|e| match &e.kind {
        EventKind::Promise { amount, .. } => Some(amount.currency),
        EventKind::InstallmentPlan { installments, .. } => {
            installments.first().map(|i| i.amount.currency)
        }
        _ => None,
    });
    let promised_minor: i64 = events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Promise { amount, .. } => amount.minor,
            EventKind::InstallmentPlan { installments, .. } => {
                installments.iter().map(|i| i.amount.minor).sum()
            }
            _ => 0,
        })
        .sum();
    // Names, so that the board's events say who (a board started later
    // knows neither the debtor nor an agent who has since left).
    let body = serde_json::json!({
        "outcome_id": id,
        "debtor_name": debtor.name,
        "agent_name": user.name,
        "disposition": req.disposition,
        "promised_minor": promised_minor,
        "currency": promised_in.map(|c| c.code().to_string()),
        "queue": queue,
        "from_queue": from_queue,
        "recorded_at": at,
        "attempt_id": resolved_attempt,
    });
    tx.publish(
        "outcome_recorded",
        Some(debtor_id),
        Some(user.id),
        &body,
        now,
    )
    .await?;
    Ok(OutcomeResponse {
        id,
        debtor_id,
        disposition: req.disposition,
        recorded_at: at,
        queue,
    })
}

/// An outcome recorded this long before it arrives does not put its agent
/// in wrap-up.
const LATE_AFTER_MINUTES: i64 = 1;

/// When the outcome happened: now, less the age its sender gives in
/// `Regua-Recorded-Ago` (an outcome kept in an outbox while the server was
/// away), at most as far back as idempotency keys are kept.
fn recorded_when(headers: &HeaderMap, now: DateTime<Utc>) -> Result<DateTime<Utc>, ApiError> {
    let Some(value) = headers.get(RECORDED_AGO) else {
        return Ok(now);
    };
    let seconds = value
        .to_str()
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_header",
                "how many whole seconds ago the outcome was recorded, like 90",
            )
            .field(RECORDED_AGO)
        })?;
    let kept = Duration::days(KEYS_KEPT_DAYS);
    let ago = i64::try_from(seconds)
        .ok()
        .and_then(Duration::try_seconds)
        .map_or(kept, |ago| ago.min(kept));
    Ok(now - ago)
}

/// The contact's result, then the outcome and what the disposition brings, checked against
/// the policy's offers and the debtor's call window. `now` is when it was recorded.
fn outcome_events(
    state: &AppState,
    debtor: &Debtor,
    history: &[Event],
    req: &OutcomeRequest,
    now: DateTime<Utc>,
) -> Result<(ContactResult, Vec<Event>), ApiError> {
    let policy = &state.policy;
    let talked = req.disposition.is_right_party();
    let result = match req.disposition {
        Disposition::NoAnswer => ContactResult::NoAnswer,
        Disposition::LeftMessage => ContactResult::Voicemail,
        Disposition::WrongNumber | Disposition::Deceased => {
            ContactResult::Connected { right_party: false }
        }
        _ => ContactResult::Connected {
            right_party: talked,
        },
    };
    // What goes with another disposition would be thrown away: a client
    // that sent a promise with `no_answer` would think it recorded.
    for (field, given, belongs) in [
        ("promise", req.promise.is_some(), Disposition::PromiseToPay),
        ("plan", req.plan.is_some(), Disposition::PaymentPlan),
        (
            "callback_at",
            req.callback_at.is_some(),
            Disposition::CallbackRequested,
        ),
    ] {
        if given && req.disposition != belongs {
            return Err(ApiError::invalid(
                field,
                format!("`{field}` goes with `{}` only", belongs.name()),
            ));
        }
    }
    let note = req.note.as_ref().map(|n| n.clone().into_boxed_str());
    if note.as_ref().is_some_and(|n| n.len() > 10_000) {
        return Err(ApiError::invalid("note", "a note is at most 10,000 bytes"));
    }
    let mut events = vec![Event {
        at: now,
        kind: EventKind::Outcome {
            disposition: req.disposition,
            reason: req.reason,
            note,
        },
    }];
    let tz = debtor.time_zone.tz();
    let today = match tz {
        Some(tz) => now.with_timezone(&tz).date_naive(),
        None => now.date_naive(),
    };
    let terms = || {
        offers::terms(debtor, policy, today)
            .map_err(|e| ApiError::invalid("disposition", e.to_string()))
    };
    match req.disposition {
        Disposition::PromiseToPay => {
            let p = req.promise.as_ref().ok_or_else(|| {
                ApiError::invalid("promise", "a promise to pay needs its amount and date")
            })?;
            let terms = terms()?;
            let amount = Money::new(p.amount_minor, terms.balance.currency);
            terms
                .check_promise(amount, p.due_date, today)
                .map_err(|e| ApiError::invalid("promise", e.to_string()))?;
            let forgives = if p.settles {
                terms
                    .settlement(amount)
                    .map_err(|e| ApiError::invalid("promise.amount_minor", e.to_string()))?
            } else {
                None
            };
            events.push(Event {
                at: now,
                kind: EventKind::Promise {
                    amount,
                    date: p.due_date,
                    grace_days: policy.promise.grace_days,
                    forgives: forgives.map(Box::new),
                },
            });
        }
        Disposition::PaymentPlan => {
            let p = req.plan.as_ref().ok_or_else(|| {
                ApiError::invalid(
                    "plan",
                    "a payment plan needs its installments and first date",
                )
            })?;
            let installments = terms()?
                .installments(p.installments, p.first_date, today)
                .map_err(|e| ApiError::invalid("plan", e.to_string()))?;
            events.push(Event {
                at: now,
                kind: EventKind::InstallmentPlan {
                    installments: installments.into(),
                    grace_days: policy.promise.grace_days,
                },
            });
        }
        Disposition::CallbackRequested => {
            let due = req.callback_at.ok_or_else(|| {
                ApiError::invalid("callback_at", "a callback needs its date and time")
            })?;
            // Its time may have passed since, while the outcome waited to
            // be sent: the debtor is then called back as soon as may be.
            if due <= now {
                return Err(ApiError::invalid(
                    "callback_at",
                    "a callback is for later than when it is recorded",
                ));
            }
            let latest = policy.latest_callback(now);
            if due > latest {
                return Err(ApiError::invalid(
                    "callback_at",
                    format!(
                        "a callback is at most {} days ahead (until {latest})",
                        policy.callback_max_days
                    ),
                ));
            }
            if let Err(refusal) = policy
                .compliance
                .check(debtor, history, Channel::Call, true, due)
            {
                let when = refusal
                    .clears_at
                    .map_or(String::new(), |t| format!("; the next allowed time is {t}"));
                return Err(ApiError::invalid(
                    "callback_at",
                    format!("{}{when}", refusal.block),
                ));
            }
            events.push(Event {
                at: now,
                kind: EventKind::Callback { due },
            });
        }
        _ => {}
    }
    Ok((result, events))
}
