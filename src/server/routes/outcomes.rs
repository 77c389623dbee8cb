//! Recording what came of a call, once per `Idempotency-Key`. The outcome
//! is appended with its contact and any promise, plan or callback, and the
//! debtor re-planned at once, in one write.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use chrono::DateTime;
use chrono::Utc;

use crate::api::{OutcomeRequest, OutcomeResponse};
use crate::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Firmness, Money,
};
use crate::schedule::offers;
use crate::server::app::{AppState, Body, Id, plan_debtor, verdict};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::idempotent::once;
use crate::server::store::Change;

pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Id(debtor_id): Id,
    headers: HeaderMap,
    Body(req, raw): Body<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let user = caller.0.id;
    let now = state.clock.now();
    once(
        &state,
        user,
        &headers,
        &raw,
        record_new(&state, user, debtor_id, req, now),
    )
    .await
}

async fn record_new(
    state: &AppState,
    user: i64,
    debtor_id: i64,
    req: OutcomeRequest,
    now: DateTime<Utc>,
) -> Result<OutcomeResponse, ApiError> {
    if let Some(lease) = state.store.lease_on(debtor_id, now).await?
        && lease.agent_id != user
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "leased_to_another",
            "this debtor is leased to another agent",
        ));
    }
    let (debtor, history, _) = plan_debtor(state, debtor_id, &[]).await?;
    let events = outcome_events(state, &debtor, &history, &req, now)?;
    let (_, _, replanned) = plan_debtor(state, debtor_id, &events).await?;
    let v = verdict(&state.policy, &debtor, &replanned, now);
    let queue = v.queue.clone();
    let ids = state
        .store
        .apply(
            debtor_id,
            &Change {
                events: events.clone(),
                balances: vec![],
                verdict: Some(v),
            },
        )
        .await?;
    // The outcome is the second event written, after its contact.
    let id = ids[1];
    let body =
        serde_json::json!({ "outcome_id": id, "disposition": req.disposition, "queue": queue });
    state
        .publish("outcome_recorded", Some(debtor_id), Some(user), body)
        .await?;
    Ok(OutcomeResponse {
        id,
        debtor_id,
        disposition: req.disposition,
        recorded_at: now,
        queue,
    })
}

/// The contact, the outcome and what the disposition brings, checked against
/// the policy's offers and the debtor's call window.
fn outcome_events(
    state: &AppState,
    debtor: &Debtor,
    history: &[Event],
    req: &OutcomeRequest,
    now: DateTime<Utc>,
) -> Result<Vec<Event>, ApiError> {
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
    let note = req.note.as_ref().map(|n| n.clone().into_boxed_str());
    if note.as_ref().is_some_and(|n| n.len() > 10_000) {
        return Err(ApiError::invalid("note", "a note is at most 10,000 bytes"));
    }
    let mut events = vec![
        Event {
            at: now,
            kind: EventKind::Contact {
                channel: Channel::Call,
                firmness: Firmness::Friendly,
                result,
                requested: false,
            },
        },
        Event {
            at: now,
            kind: EventKind::Outcome {
                disposition: req.disposition,
                reason: req.reason,
                note,
            },
        },
    ];
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
            events.push(Event {
                at: now,
                kind: EventKind::Promise {
                    amount,
                    date: p.due_date,
                    grace_days: policy.promise.grace_days,
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
            if due <= now {
                return Err(ApiError::invalid(
                    "callback_at",
                    "a callback is for later than now",
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
    Ok(events)
}
