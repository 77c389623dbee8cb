//! Queues and leases: the next debtor an agent may call now, held for them
//! alone until the lease expires or they let go.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use crate::api::ErrorBody;
use crate::api::{DebtorView, LeaseResponse, LeaseView, QueueDebtor, QueueView};
use crate::domain::Role;
use crate::schedule::{Policy, plan};
use crate::server::app::{AppState, Id, Name, Query, verdict};
use crate::server::auth::{Caller, Supervisor};
use crate::server::error::ApiError;
use crate::server::routes::LocaleQuery;
use crate::server::store::{Change, Lease, Tx};
use chrono::{DateTime, Duration, Utc};

#[utoipa::path(get, path = "/v1/queues", tag = "queues", security(("bearer" = [])),
    params(("locale" = Option<String>, Query, description = "the language of the queues' names: pt-BR (the default) or en")),
    responses(
        (status = 200, description = "each queue of the policy", body = Vec<QueueView>),
        (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 422, description = "an unknown locale", body = ErrorBody),
    ))]
pub async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    Query(q): Query<LocaleQuery>,
) -> Result<Json<Vec<QueueView>>, ApiError> {
    let locale = q.locale()?;
    let counts = state.store.queue_counts(state.clock.now()).await?;
    let views = state
        .policy
        .queues
        .iter()
        .map(|q| {
            let c = counts.iter().find(|c| c.queue == q.id);
            QueueView {
                id: q.id.clone(),
                name: q.name(locale).to_string(),
                depth: c.map_or(0, |c| c.waiting),
                callable: c.map_or(0, |c| c.callable),
                leased: c.map_or(0, |c| c.leased),
                oldest_since: c.and_then(|c| c.oldest),
                blocked: c.map(|c| c.blocked.clone()).unwrap_or_default(),
            }
        })
        .collect();
    Ok(Json(views))
}

/// The most debtors a queue's drill-down lists.
pub const QUEUE_DEBTORS_LIMIT: u32 = 200;

/// Who waits in a queue and what blocks those who may not be called now:
/// the board's drill-down.
#[utoipa::path(get, path = "/v1/queues/{id}/debtors", tag = "queues", security(("bearer" = ["supervisor", "admin"])),
    params(("id" = String, Path, description = "the queue's id")),
    responses(
        (status = 200, description = "callable first, then by priority; at most 200", body = Vec<QueueDebtor>),
        (status = 401, description = "no valid bearer token", body = ErrorBody), (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 404, description = "no such queue", body = ErrorBody),
    ))]
pub async fn debtors(
    State(state): State<AppState>,
    _caller: Supervisor,
    Name(queue): Name,
) -> Result<Json<Vec<QueueDebtor>>, ApiError> {
    if state.policy.queue_index(&queue).is_none() {
        return Err(no_queue(&queue));
    }
    let now = state.clock.now();
    let list = state
        .store
        .queue_debtors(&queue, now, QUEUE_DEBTORS_LIMIT)
        .await?;
    Ok(Json(list))
}

/// The 404 for a queue id from the path that the policy does not name.
fn no_queue(queue: &str) -> ApiError {
    ApiError::not_found("unknown_queue", format!("no queue '{queue}'")).field("id")
}

/// How many stale candidates a lease skips before saying the queue is empty.
const STALE_TRIES: usize = 16;

#[utoipa::path(post, path = "/v1/queues/{id}/lease", tag = "queues", security(("bearer" = [])),
    params(("id" = String, Path, description = "the queue's id")),
    responses(
        (status = 200, description = "the next debtor that may be called now, held for you", body = LeaseResponse),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "no such queue (`unknown_queue`), or nobody callable in it (`queue_empty`)", body = ErrorBody),
    ))]
pub async fn lease(
    State(state): State<AppState>,
    caller: Caller,
    Name(queue): Name,
) -> Result<Json<LeaseResponse>, ApiError> {
    if state.policy.queue_index(&queue).is_none() {
        return Err(no_queue(&queue));
    }
    let (user, name) = (caller.0.id, caller.0.name);
    let (policy, ttl, skip_for) = (state.policy.clone(), state.lease_ttl, state.skip_for);
    let now = state.clock.now();
    let leased = state
        .write(move |tx| {
            Box::pin(async move {
                let given_back = tx.release_leases_of(user, now + skip_for).await?;
                for lease in given_back {
                    tx.publish(
                        "lease_released",
                        Some(lease.debtor_id),
                        Some(user),
                        &released_body(&lease, user, &name),
                        now,
                    )
                    .await?;
                }
                lease_in(tx, &policy, &queue, user, now, ttl).await
            })
        })
        .await?;
    Ok(Json(leased))
}

/// What `lease_released` tells: which lease, whose, and who let it go
/// (by id and name: a supervisor is on no board's floor).
fn released_body(lease: &Lease, by: i64, by_name: &str) -> serde_json::Value {
    serde_json::json!({
        "lease_id": lease.id,
        "debtor_id": lease.debtor_id,
        "agent_id": lease.agent_id,
        "by": by,
        "by_name": by_name,
    })
}

/// Leases the next debtor of `queue` and writes down who took them, all in
/// `tx`: the lease, the audit line and the board's event commit together.
async fn lease_in(
    tx: &mut dyn Tx,
    policy: &Policy,
    queue: &str,
    user: i64,
    now: DateTime<Utc>,
    ttl: Duration,
) -> Result<LeaseResponse, ApiError> {
    for _ in 0..STALE_TRIES {
        let Some(lease) = tx.lease_next(queue, user, now, ttl).await? else {
            break;
        };
        // The stored verdict may be stale (a window closed since): the engine
        // decides again before the agent gets the debtor.
        let (debtor, history) = tx.file(lease.debtor_id).await?.ok_or_else(|| {
            ApiError::not_found("debtor_not_found", format!("no debtor {}", lease.debtor_id))
        })?;
        let p = plan(&debtor, &history, policy, now);
        let fresh = verdict(policy, &debtor, &p, now);
        if fresh.callable && fresh.queue.as_deref() == Some(queue) {
            tx.audit(
                Some(user),
                "lease",
                Some(debtor.id),
                &format!("lease {}", lease.id),
                now,
            )
            .await?;
            let body = serde_json::json!({
                "lease_id": lease.id,
                "debtor_id": debtor.id,
                "debtor_name": debtor.name,
                "queue": queue,
                "expires_at": lease.expires_at,
            });
            tx.publish("lease_taken", Some(debtor.id), Some(user), &body, now)
                .await?;
            return Ok(LeaseResponse {
                lease: LeaseView {
                    id: lease.id,
                    expires_at: lease.expires_at,
                },
                debtor: DebtorView::of(&debtor, false),
            });
        }
        tx.release_lease(lease.id, Some(user), None).await?;
        tx.apply(
            debtor.id,
            &Change {
                verdict: Some(fresh),
                ..Change::default()
            },
        )
        .await?;
    }
    Err(ApiError::not_found(
        "queue_empty",
        format!("nobody in '{queue}' may be called now"),
    ))
}

#[utoipa::path(post, path = "/v1/leases/{id}/renew", tag = "queues", security(("bearer" = [])), params(("id" = i64, Path, description = "the id")),
    responses(
        (status = 200, description = "the lease, extended", body = LeaseView),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "you hold no such lease", body = ErrorBody),
    ))]
pub async fn renew(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<Json<LeaseView>, ApiError> {
    let lease = state
        .store
        .renew_lease(id, caller.0.id, state.clock.now(), state.lease_ttl)
        .await?;
    let lease = lease.ok_or_else(|| {
        ApiError::not_found(
            "lease_not_found",
            format!("you hold no lease {id}: it expired or was released"),
        )
        .field("id")
    })?;
    Ok(Json(LeaseView {
        id: lease.id,
        expires_at: lease.expires_at,
    }))
}

/// Lets go of a lease: the caller's own, or anyone's for a supervisor or
/// an admin (audited).
#[utoipa::path(delete, path = "/v1/leases/{id}", tag = "queues", security(("bearer" = [])), params(("id" = i64, Path, description = "the id")),
    responses(
        (status = 204, description = "let go"),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 404, description = "you hold no such lease (a supervisor or admin: nobody does)", body = ErrorBody),
    ))]
pub async fn release(
    State(state): State<AppState>,
    caller: Caller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    let user = &caller.0;
    let anyone = matches!(user.role, Role::Supervisor | Role::Admin);
    // Whoever lets go, the agent who held the debtor moves on to others
    // first: given back unworked, they would otherwise come straight back
    // on the next lease, as the queue's top.
    let skip_until = state.clock.now() + state.skip_for;
    let released = state
        .store
        .release_lease(id, (!anyone).then_some(user.id), Some(skip_until))
        .await?;
    let Some(lease) = released else {
        return Err(
            ApiError::not_found("lease_not_found", format!("you hold no lease {id}")).field("id"),
        );
    };
    if lease.agent_id != user.id {
        state
            .store
            .audit(
                Some(user.id),
                "release_lease",
                Some(lease.debtor_id),
                &format!("lease {} of user {}", lease.id, lease.agent_id),
                state.clock.now(),
            )
            .await?;
    }
    state
        .publish(
            "lease_released",
            Some(lease.debtor_id),
            Some(lease.agent_id),
            released_body(&lease, user.id, &user.name),
        )
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
