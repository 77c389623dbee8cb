//! Recording what came of a call. Idempotent by `Idempotency-Key`: the same
//! key and body give the first answer again (marked as a replay), the same
//! key with another body is a 422, and while the first is in flight a 409.
//! The outcome is appended with its contact and any promise, plan or
//! callback, and the debtor re-planned at once, in one write.

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use chrono::DateTime;
use chrono::Utc;
use sha2::{Digest, Sha256};

use crate::api::{OutcomeRequest, OutcomeResponse};
use crate::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Firmness, Money,
};
use crate::schedule::offers;
use crate::server::app::{AppState, Body, Id, plan_debtor, verdict};
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::store::{Change, Idempotency};

pub const REPLAY_HEADER: &str = "idempotency-replayed";

/// The key from the header: 1 to 200 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "an Idempotency-Key header is required",
        )
        .field("Idempotency-Key")
    };
    let key = headers
        .get("idempotency-key")
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?
        .trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            "1 to 200 visible ASCII characters",
        )
        .field("Idempotency-Key"));
    }
    Ok(key.to_string())
}

pub async fn record(
    State(state): State<AppState>,
    caller: Caller,
    Id(debtor_id): Id,
    headers: HeaderMap,
    Body(req, raw): Body<OutcomeRequest>,
) -> Result<Response, ApiError> {
    let key = idempotency_key(&headers)?;
    let user = caller.0.id;
    let now = state.clock.now();
    // The body's meaning, not its bytes, is what must match on a replay;
    // the request's own bytes are close enough and cheap.
    let body_hash = Sha256::digest(&raw).to_vec();
    match state
        .store
        .idempotency_begin(user, &key, &body_hash, now)
        .await?
    {
        Idempotency::New => {}
        Idempotency::Replay { status, body } => {
            let mut response =
                (StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body).into_response();
            response
                .headers_mut()
                .insert(REPLAY_HEADER, HeaderValue::from_static("true"));
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            return Ok(response);
        }
        Idempotency::InFlight => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "in_flight",
                "a request with this Idempotency-Key is still being answered",
            )
            .field("Idempotency-Key"));
        }
        Idempotency::Mismatch => {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "this Idempotency-Key was used with another body",
            ));
        }
    }
    match record_new(&state, user, debtor_id, req, now).await {
        Ok(done) => {
            let body = serde_json::to_string(&done).expect("responses serialize");
            state
                .store
                .idempotency_finish(user, &key, StatusCode::CREATED.as_u16(), &body)
                .await?;
            let mut response = (StatusCode::CREATED, body).into_response();
            response
                .headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            Ok(response)
        }
        Err(e) => {
            // Nothing was written: the same key may be tried again.
            state.store.idempotency_abandon(user, &key).await?;
            Err(e)
        }
    }
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
        .store
        .publish("outcome_recorded", Some(debtor_id), Some(user), &body, now)
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
