//! `GET /v1/board`: the supervisor's snapshot (queues with what blocks
//! their debtors, agents on the floor with their lease and day, today's
//! figures and the newest events), one query per part however many agents
//! or debtors there are. "Today" is the server's UTC day.

use axum::Json;
use axum::extract::State;
use chrono::NaiveTime;
use std::collections::BTreeMap;

use crate::api::{
    BoardAgent, BoardLease, BoardQueue, BoardView, FeedView, HourTally, Tally, Today,
};
use crate::api::{ErrorBody, TICKER_KINDS, money_in, unbroken_on};
use crate::domain::{Currency, Disposition};
use crate::server::app::{AppState, Query};
use crate::server::auth::Supervisor;
use crate::server::error::ApiError;
use crate::server::presence;
use crate::server::routes::LocaleQuery;
use crate::server::store::{CallTally, FeedItem};

/// How many of the newest events the board starts with.
pub const RECENT: u32 = 50;

#[utoipa::path(get, path = "/v1/board", tag = "board", security(("bearer" = ["supervisor", "admin"])),
    params(("locale" = Option<String>, Query, description = "the language of the queues' names: pt-BR (the default) or en")),
    responses(
        (status = 200, description = "the board's snapshot", body = BoardView),
        (status = 400, description = "a query parameter of the wrong type, or given twice (`bad_query`, named in `field`)", body = ErrorBody),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
        (status = 403, description = "your role may not do this", body = ErrorBody),
        (status = 422, description = "an unknown locale", body = ErrorBody),
    ))]
pub async fn snapshot(
    State(state): State<AppState>,
    _caller: Supervisor,
    Query(q): Query<LocaleQuery>,
) -> Result<Json<BoardView>, ApiError> {
    let locale = q.locale()?;
    let now = state.clock.now();
    let day = now.date_naive();
    let day_start = day.and_time(NaiveTime::MIN).and_utc();
    let store = &state.store;
    let counts = store.queue_counts(now).await?;
    let floor = store.floor(now, presence::seen_after(now)).await?;
    let calls = store.call_tallies(day_start, None).await?;
    let money = store.feed_money_since(day_start).await?;
    // Read after the figures, as `recent`'s newest was before it was only
    // the ticker's kinds: the board skips the stream's items up to it.
    let newest_id = store.feed_bounds().await?.map_or(0, |(_, newest)| newest);
    // What its ticker shows, and the leases taken that name their debtors.
    let kinds: Vec<&str> = TICKER_KINDS
        .iter()
        .copied()
        .chain(["lease_taken"])
        .collect();
    let recent = store.feed_latest_of(&kinds, RECENT).await?;

    let queues = state
        .policy
        .queues
        .iter()
        .map(|q| {
            let c = counts.iter().find(|c| c.queue == q.id);
            BoardQueue {
                id: q.id.clone(),
                name: q.name(locale).to_string(),
                depth: c.map_or(0, |c| c.waiting),
                callable: c.map_or(0, |c| c.callable),
                blocked: c.map(|c| c.blocked.clone()).unwrap_or_default(),
                oldest_since: c.and_then(|c| c.oldest),
                leased: c.map_or(0, |c| c.leased),
            }
        })
        .collect();
    let agents = floor
        .into_iter()
        .map(|a| {
            let (calls_today, rpc_today, promises_today) = agent_today(&calls, a.id);
            BoardAgent {
                id: a.id,
                name: a.name,
                state: a.state.state,
                reason: a.state.reason,
                since: a.state.since,
                present: a.present,
                lease: a.lease.map(|(l, debtor_name)| BoardLease {
                    id: l.id,
                    debtor_id: l.debtor_id,
                    debtor_name,
                    expires_at: l.expires_at,
                }),
                calls_today,
                rpc_today,
                promises_today,
            }
        })
        .collect();
    Ok(Json(BoardView {
        generated_at: now,
        currency: state.policy.currency.code().to_string(),
        queues,
        agents,
        today: today(day, &calls, &money, state.policy.currency),
        recent: recent.iter().map(feed_view).collect(),
        newest_id,
    }))
}

/// An agent's calls, right-party contacts and promises in `calls`.
pub fn agent_today(calls: &[CallTally], agent: i64) -> (i64, i64, i64) {
    let (mut made, mut rpc, mut promises) = (0, 0, 0);
    for c in calls.iter().filter(|c| c.agent_id == agent) {
        made += c.calls;
        let d = disposition(c);
        if d.is_some_and(Disposition::is_right_party) {
            rpc += c.calls;
        }
        if d.is_some_and(is_promise) {
            promises += c.calls;
        }
    }
    (made, rpc, promises)
}

pub fn feed_view(item: &FeedItem) -> FeedView {
    FeedView {
        id: item.id,
        at: item.at,
        kind: item.kind.clone(),
        debtor_id: item.debtor_id,
        user_id: item.user_id,
        body: item.body.clone(),
    }
}

fn disposition(c: &CallTally) -> Option<Disposition> {
    let d = c.disposition.as_ref()?;
    serde_json::from_value(serde_json::Value::String(d.clone())).ok()
}

fn is_promise(d: Disposition) -> bool {
    matches!(d, Disposition::PromiseToPay | Disposition::PaymentPlan)
}

/// Today's tallies: calls by the queue worked from, payments and promises
/// kept or broken by the queue the feed names.
fn today(
    day: chrono::NaiveDate,
    calls: &[CallTally],
    money: &[FeedItem],
    currency: Currency,
) -> Today {
    let mut per_queue: BTreeMap<String, Tally> = BTreeMap::new();
    let mut total = Tally::default();
    let mut hourly: Vec<HourTally> = (0..24)
        .map(|hour| HourTally {
            hour,
            ..HourTally::default()
        })
        .collect();
    let mut add = |queue: Option<&str>, f: &dyn Fn(&mut Tally)| {
        f(&mut total);
        if let Some(q) = queue {
            f(per_queue.entry(q.to_string()).or_default());
        }
    };
    for c in calls {
        let d = disposition(c);
        let rpc = if d.is_some_and(Disposition::is_right_party) {
            c.calls
        } else {
            0
        };
        let promises = if d.is_some_and(is_promise) {
            c.calls
        } else {
            0
        };
        add(c.queue.as_deref(), &|t: &mut Tally| {
            t.contacts += c.calls;
            t.rpc += rpc;
            t.promises_made += promises;
            t.promised_minor = t.promised_minor.saturating_add(c.promised_minor);
        });
        if let Some(h) = hourly.get_mut(c.hour as usize) {
            h.contacts += c.calls;
        }
        if let Some(h) = hourly.get_mut(c.outcome_hour as usize) {
            h.promises += promises;
        }
    }
    for item in money {
        let queue = item.body["from_queue"]
            .as_str()
            .or(item.body["queue"].as_str());
        let amount = item.body["amount_minor"].as_i64().unwrap_or(0);
        match item.kind.as_str() {
            // Money in another currency is not added to the board's.
            "payment_received" if money_in(&item.body, currency) => add(queue, &|t: &mut Tally| {
                t.collected_minor = t.collected_minor.saturating_add(amount)
            }),
            "promise_kept" => {
                add(queue, &|t: &mut Tally| t.promises_kept += 1);
                if let Some(q) = unbroken_on(&item.body, day) {
                    add(Some(q), &|t: &mut Tally| {
                        t.promises_broken = (t.promises_broken - 1).max(0)
                    });
                }
            }
            "promise_broken" => add(queue, &|t: &mut Tally| t.promises_broken += 1),
            _ => {}
        }
    }
    for t in per_queue.values_mut().chain(std::iter::once(&mut total)) {
        t.rpc_rate = if t.contacts > 0 {
            t.rpc as f64 / t.contacts as f64
        } else {
            0.0
        };
    }
    Today {
        day,
        per_queue,
        total,
        hourly,
    }
}
