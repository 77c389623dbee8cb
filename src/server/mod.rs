//! The collection server: the API over HTTP, its auth and the store behind
//! it (SQLite for one desk, PostgreSQL for a call centre).

pub mod app;
pub mod auth;
pub mod error;
pub mod feed;
pub mod idempotent;
pub mod metrics;
pub mod presence;
pub mod routes;
pub mod store;

use chrono::{DateTime, Duration, Utc};
use rayon::prelude::*;
use std::future::Future;
use std::net::SocketAddr;
use tokio::net::TcpListener;

use crate::domain::{Debtor, Event, Role};
use crate::schedule::{Plan, Policy, plan};
use app::{AppState, verdict};
use store::{Change, Imported, StoreError, Verdict};

/// Serves the API on `listener` until `shutdown` resolves; requests in
/// flight finish first, and live streams end (their clients resume on the
/// next server). The scheduler runs beside it.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(Some((_, newest))) = state.store.feed_bounds().await {
        state.latest.send_replace(newest);
    }
    if let Err(e) = state.store.listen(state.latest.clone()).await {
        tracing::warn!("cannot listen for other servers' events: {e}");
    }
    let _scheduler = Scheduler(tokio::spawn(scheduler(state.clone())));
    let closing = state.closing.clone();
    let stop = closing.clone();
    let shutdown = async move {
        shutdown.await;
        stop.send_replace(true);
    };
    let app = app::router(state).into_make_service_with_connect_info::<SocketAddr>();
    let result = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // Stopped by an error too: what waits on the server stops as well.
    closing.send_replace(true);
    result
}

/// The scheduler's task, ended with `serve` however `serve` ends: a caller
/// that stops waiting on it drops it midway.
struct Scheduler(tokio::task::JoinHandle<()>);

impl Drop for Scheduler {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// How often the scheduler looks for debtors to re-plan and leases to end.
pub const SCHEDULER_EVERY_SECONDS: u64 = 15;

/// Re-plans debtors whose verdict asked to be looked at again (a window
/// opened, a promise ended), ends expired leases, sends agents not seen
/// lately off the floor, forgets skips that ended and idempotency keys
/// older than 7 days.
/// With several servers on one database, one leads and the others wait to
/// take over.
async fn scheduler(state: AppState) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(SCHEDULER_EVERY_SECONDS));
    let mut lead: Option<store::Lead> = None;
    loop {
        tick.tick().await;
        if let Some(held) = &mut lead
            && !held.holds().await
        {
            tracing::warn!("scheduler: the lead was lost (its connection ended); asking again");
            lead = None;
        }
        if lead.is_none() {
            lead = state.store.try_lead().await.unwrap_or_else(|e| {
                tracing::error!("scheduler: {e}");
                None
            });
        }
        if lead.is_some()
            && let Err(e) = scheduler_pass(&state).await
        {
            tracing::error!("scheduler: {e:?}");
        }
    }
}

pub async fn scheduler_pass(state: &AppState) -> Result<(), error::ApiError> {
    let now = state.clock.now();
    // Each expired lease is told: its agent's console loses it, the board
    // clears the agent's row and counts the queue again.
    for lease in state.store.expire_leases(now).await? {
        let body = serde_json::json!({
            "lease_id": lease.id,
            "debtor_id": lease.debtor_id,
            "agent_id": lease.agent_id,
            "expires_at": lease.expires_at,
        });
        state
            .publish(
                "lease_expired",
                Some(lease.debtor_id),
                Some(lease.agent_id),
                body,
            )
            .await?;
    }
    presence::lapse(state).await?;
    state.store.sessions_prune(now).await?;
    state.store.skips_prune(now).await?;
    state
        .store
        .idempotency_prune(now - Duration::days(idempotent::KEYS_KEPT_DAYS))
        .await?;
    // The feed keeps a week: enough for any reconnect and for the board's
    // today; an older cursor is told to reload (`reset`).
    state.store.feed_prune(now - Duration::days(7)).await?;
    // Re-plans move debtors between queues and make them callable or not;
    // boards and consoles hear of it only when the counts really moved, so
    // a pass that changed nothing costs them nothing.
    let mut before = None;
    let mut replanned = 0u64;
    loop {
        let due = state.store.due_for_review(now, 500).await?;
        if due.is_empty() {
            break;
        }
        if before.is_none() {
            before = Some(state.store.queue_counts(now).await?);
        }
        for id in due {
            replan(state, id).await?;
            replanned += 1;
        }
    }
    if let Some(before) = before
        && state.store.queue_counts(now).await? != before
    {
        state
            .publish(
                "queues_changed",
                None,
                None,
                serde_json::json!({ "replanned": replanned }),
            )
            .await?;
    }
    Ok(())
}

/// Plans a debtor again and stores the verdict; publishes a broken promise.
pub async fn replan(state: &AppState, debtor_id: i64) -> Result<(), error::ApiError> {
    let now = state.clock.now();
    let policy = state.policy.clone();
    state
        .write(move |tx| {
            Box::pin(async move {
                let (debtor, history) = app::hold_debtor(tx, debtor_id).await?;
                let p = plan(&debtor, &history, &policy, now);
                let (v, broke) = settle(&policy, &debtor, &history, &p, now);
                let queue = v.queue.clone();
                tx.apply(
                    debtor_id,
                    &Change {
                        verdict: Some(v),
                        ..Change::default()
                    },
                )
                .await?;
                if broke {
                    let body = serde_json::json!({
                        "debtor_id": debtor_id,
                        "debtor_name": debtor.name,
                        "queue": queue,
                    });
                    tx.publish("promise_broken", Some(debtor_id), None, &body, now)
                        .await?;
                }
                Ok(())
            })
        })
        .await
}

/// The verdict to store for a plan made `now`, and whether a promise broke
/// since the scheduler last looked (which is then published).
fn settle(
    policy: &Policy,
    debtor: &Debtor,
    history: &[Event],
    p: &Plan,
    now: DateTime<Utc>,
) -> (Verdict, bool) {
    let before = crate::domain::Ledger::fold(
        history,
        debtor.time_zone.tz(),
        now - Duration::seconds(SCHEDULER_EVERY_SECONDS as i64 * 2),
    );
    let mut v = verdict(policy, debtor, p, now);
    // Nothing left to wait for: do not come back by ourselves.
    if v.review_at.is_some_and(|t| t <= now) {
        v.review_at = None;
    }
    (v, p.promises.broken > before.broken)
}

async fn publish_broken(
    state: &AppState,
    debtor_id: i64,
    name: &str,
    queue: Option<String>,
) -> Result<(), error::ApiError> {
    state
        .publish(
            "promise_broken",
            Some(debtor_id),
            None,
            serde_json::json!({ "debtor_id": debtor_id, "debtor_name": name, "queue": queue }),
        )
        .await?;
    Ok(())
}

/// Imports a parsed portfolio and gives every debtor their verdict, as
/// `replan` would one by one: planned on every core from the debtors in
/// memory (a new debtor has no history; those already known have theirs
/// read in bulk), the verdicts written together.
pub async fn import(
    state: &AppState,
    mut debtors: Vec<Debtor>,
) -> Result<Imported, error::ApiError> {
    let now = state.clock.now();
    // In one order whatever the file's: two imports of the same debtors at
    // once then take their rows' locks in turn, where in opposite orders
    // PostgreSQL found them deadlocked and one answered 500.
    debtors.sort_unstable_by(|a, b| a.external_id.cmp(&b.external_id));
    let debtors: std::sync::Arc<[Debtor]> = debtors.into();
    let imported = state.store.import_debtors(debtors.clone(), now).await?;
    let known: Vec<i64> = imported
        .ids
        .iter()
        .zip(&imported.known)
        .filter_map(|(&id, &known)| known.then_some(id))
        .collect();
    let mut read = state.store.histories(&known).await?.into_iter();
    let histories: Vec<Vec<Event>> = imported
        .known
        .iter()
        .map(|&known| {
            if known {
                read.next().unwrap_or_default()
            } else {
                Vec::new()
            }
        })
        .collect();
    let policy = state.policy.clone();
    let named = debtors.clone();
    let settled = tokio::task::spawn_blocking(move || {
        debtors
            .par_iter()
            .zip(histories.par_iter())
            .map(|(d, history)| {
                let p = plan(d, history, &policy, now);
                settle(&policy, d, history, &p, now)
            })
            .collect::<Vec<_>>()
    })
    .await
    .expect("planning does not panic");
    let mut broken = Vec::new();
    let verdicts: Vec<(i64, Verdict)> = imported
        .ids
        .iter()
        .zip(settled)
        .enumerate()
        .map(|(i, (&id, (v, broke)))| {
            if broke {
                broken.push((id, i, v.queue.clone()));
            }
            (id, v)
        })
        .collect();
    state
        .store
        .set_verdicts(verdicts, store::import_mark(now))
        .await?;
    for (id, i, queue) in broken {
        publish_broken(state, id, &named[i].name, queue).await?;
    }
    Ok(imported)
}

/// The demo users of DESIGN.md, password `demo`.
pub const DEMO_USERS: [(&str, Role); 6] = [
    ("ana", Role::Agent),
    ("bruno", Role::Agent),
    ("carla", Role::Agent),
    ("davi", Role::Agent),
    ("sofia", Role::Supervisor),
    ("admin", Role::Admin),
];

/// Seeds an empty database with the demo users and a believable portfolio:
/// `debtors` synthetic debtors (valid CPFs, names, every UF with its zone,
/// debts at every stage) with 45 days of history lived through the engine
/// (calls, messages, promises kept and broken, payments), each planned. A
/// database that has users is left alone.
pub async fn seed_demo(state: &AppState, debtors: usize, seed: u64) -> Result<bool, StoreError> {
    // A real portfolio, or users added by hand, are not the demo's to mix
    // into (nor to overwrite, where its external ids meet theirs).
    if !state.store.is_empty().await? {
        return Ok(false);
    }
    let now = state.clock.now();
    let hash = auth::hash_password("demo".into()).await;
    for (name, role) in DEMO_USERS {
        state.store.create_user(name, role, &hash, now).await?;
    }
    let today = now
        .with_timezone(&state.policy.business_time_zone)
        .date_naive();
    let policy = state.policy.clone();
    // The lived-in history ends yesterday: today's calls are still to make,
    // as on any morning at a call centre.
    let yesterday = today.pred_opt().unwrap_or(today);
    let lived = tokio::task::spawn_blocking(move || {
        crate::simulate::lived_in(&policy, debtors, 45, seed, yesterday)
    })
    .await
    .expect("the simulation does not panic");
    let portfolio: Vec<_> = lived.iter().map(|(d, _)| d.clone()).collect();
    let ids = state.store.import_debtors(portfolio.into(), now).await?.ids;
    for (id, (_, history)) in ids.iter().zip(lived) {
        // Nothing in a demo history is later than now.
        let history: Vec<_> = history.into_iter().filter(|e| e.at <= now).collect();
        state
            .store
            .apply(
                *id,
                &Change {
                    events: history,
                    ..Change::default()
                },
            )
            .await?;
        if let Err(e) = replan(state, *id).await {
            tracing::warn!("demo debtor {id}: {e:?}");
        }
    }
    Ok(true)
}
