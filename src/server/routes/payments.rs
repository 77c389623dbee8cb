//! Payments from the creditor's feed, once per `Idempotency-Key`: taken off
//! the oldest debts first, kept promises counted, what a kept settlement
//! forgives taken off too, the debtor re-planned (a payment in full stops
//! the régua).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

use crate::api::ErrorBody;
use crate::api::{PaymentRequest, PaymentResponse};
use crate::domain::{Event, EventKind, Money, forgiven_by};
use crate::schedule::{Policy, plan};
use crate::server::app::{AppState, Body, hold_debtor, verdict};
use crate::server::auth::Supervisor;
use crate::server::error::ApiError;
use crate::server::idempotent::once;
use crate::server::store::{Change, DebtBalance, Tx};
use chrono::{DateTime, Utc};

#[utoipa::path(post, path = "/v1/payments", tag = "payments", security(("bearer" = ["supervisor", "admin"])),
    params(("Idempotency-Key" = String, Header, description = "the same key and body answer the first answer again")),
    request_body = PaymentRequest,
    responses(
        (status = 201, description = "the payment recorded", body = PaymentResponse),
        (status = 400, description = "no or a bad Idempotency-Key", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody), (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 404, description = "no such debtor (`debtor_id`)", body = ErrorBody),
        (status = 422, description = "an amount or date the rules refuse", body = ErrorBody),
    ))]
pub async fn record(
    State(state): State<AppState>,
    caller: Supervisor,
    headers: HeaderMap,
    Body(req, raw): Body<PaymentRequest>,
) -> Result<Response, ApiError> {
    let user = caller.0.id;
    let (policy, now) = (state.policy.clone(), state.clock.now());
    let scope = "POST /v1/payments".to_string();
    once(&state, user, scope, &headers, &raw, move |tx| {
        Box::pin(async move { record_new(&policy, tx, user, req, now).await })
    })
    .await
}

/// A floor for `paid_at`, so that no year a timeline cannot write (or
/// no collection would chase) is kept.
fn earliest_payment() -> DateTime<Utc> {
    DateTime::from_timestamp(946_684_800, 0).expect("2000-01-01 is a time")
}

async fn record_new(
    policy: &Policy,
    tx: &mut dyn Tx,
    user: i64,
    req: PaymentRequest,
    now: DateTime<Utc>,
) -> Result<PaymentResponse, ApiError> {
    if req.amount_minor <= 0 {
        return Err(ApiError::invalid(
            "amount_minor",
            "a payment is more than zero",
        ));
    }
    let at = req.paid_at.unwrap_or(now);
    if at > now {
        return Err(ApiError::invalid(
            "paid_at",
            "a payment cannot be in the future",
        ));
    }
    if at < earliest_payment() {
        return Err(ApiError::invalid(
            "paid_at",
            "a payment before 2000 is not one a portfolio holds",
        ));
    }
    let (debtor, mut history) = hold_debtor(tx, req.debtor_id).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            e.field("debtor_id")
        } else {
            e
        }
    })?;
    let before = plan(&debtor, &history, policy, now);
    let owed: i64 = debtor.debts.iter().map(|d| d.balance.minor.max(0)).sum();
    if req.amount_minor > owed {
        return Err(ApiError::invalid(
            "amount_minor",
            format!("more than what is owed ({owed})"),
        ));
    }
    let currency = debtor
        .debts
        .first()
        .map(|d| d.balance.currency)
        .ok_or_else(|| ApiError::invalid("debtor_id", "this debtor has no debts"))?;
    let event = Event {
        at,
        kind: EventKind::Payment {
            amount: Money::new(req.amount_minor, currency),
        },
    };
    let mut paid = debtor.clone();
    paid.take_off(req.amount_minor);
    let unpaid = history.clone();
    let mut events = vec![event];
    history.extend_from_slice(&events);
    history.sort_by_key(|e| e.at);
    let mut p = plan(&paid, &history, policy, now);
    let kept = p.promises.kept > before.promises.kept;
    // A settlement it kept forgives what is left, up to what was agreed.
    let agreed: i64 = forgiven_by(&unpaid, &history, debtor.time_zone.tz(), now)
        .iter()
        .filter(|f| f.currency == currency)
        .map(|f| f.minor)
        .sum();
    let forgiven = agreed.min(owed - req.amount_minor);
    if forgiven > 0 {
        paid.take_off(forgiven);
        let event = Event {
            at,
            kind: EventKind::Forgiven {
                amount: Money::new(forgiven, currency),
            },
        };
        events.push(event.clone());
        history.push(event);
        history.sort_by_key(|e| e.at);
        p = plan(&paid, &history, policy, now);
    }
    let balances = paid
        .debts
        .iter()
        .zip(&debtor.debts)
        .filter(|(after, before)| after != before)
        .map(|(after, _)| DebtBalance {
            debt_id: after.id,
            balance_minor: after.balance.minor,
            interest_fees_minor: after.interest_and_fees.minor,
        })
        .collect();
    let v = verdict(policy, &paid, &p, now);
    let queue = v.queue.clone();
    let ids = tx
        .apply(
            req.debtor_id,
            &Change {
                events,
                balances,
                verdict: Some(v),
                call: None,
            },
        )
        .await?;
    // Net of any credit on a debt, as the plan counts it.
    let balance_minor = paid
        .debts
        .iter()
        .map(|d| d.balance.minor)
        .sum::<i64>()
        .max(0);
    let worked_from = before.queue.map(|q| policy.queue(q).id.clone());
    // A debtor under a promise waits in no queue: the payment, and the
    // promise it keeps, count for the queue the promise was made from.
    let from_queue = if kept || worked_from.is_none() {
        tx.promise_queue(req.debtor_id)
            .await?
            .or(worked_from.clone())
    } else {
        worked_from.clone()
    };
    let body = serde_json::json!({
        "payment_id": ids[0],
        "debtor_name": debtor.name,
        "amount_minor": req.amount_minor,
        "balance_minor": balance_minor,
        "forgiven_minor": forgiven,
        "currency": currency.code(),
        "from_queue": from_queue,
    });
    tx.publish(
        "payment_received",
        Some(req.debtor_id),
        Some(user),
        &body,
        now,
    )
    .await?;
    if kept {
        // Made in time and reported after the scheduler had counted it
        // broken (a bank's file comes days late): the board takes that
        // back.
        let unbroken = (p.promises.broken < before.promises.broken)
            .then_some(before.promises.last_broken_at)
            .flatten()
            .map(|at| serde_json::json!({ "at": at, "queue": worked_from }));
        let body = serde_json::json!({
            "debtor_id": req.debtor_id,
            "debtor_name": debtor.name,
            "from_queue": from_queue,
            "unbroken": unbroken,
        });
        tx.publish("promise_kept", Some(req.debtor_id), Some(user), &body, now)
            .await?;
    }
    Ok(PaymentResponse {
        id: ids[0],
        debtor_id: req.debtor_id,
        amount_minor: req.amount_minor,
        balance_minor,
        forgiven_minor: forgiven,
        queue,
    })
}
