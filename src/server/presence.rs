//! Who is on the floor: an agent whose console holds the live stream open.
//! A token is kept for the next start and outlives the console by hours, so
//! a live session says nothing about who is at their desk; the stream does.
//! Each open stream marks its agent seen every `SEEN_EVERY_SECONDS`; the
//! last to close marks them gone at once, and the scheduler forgets those
//! not seen for `GONE_AFTER_SECONDS` (a server or a network that went
//! without a word). Arriving and leaving are told to the board
//! (`agent_arrived`, `agent_left`), not to agents' consoles.
//!
//! Streams are counted per process: with several servers, an agent whose
//! consoles hold streams on two of them and who closes one leaves the
//! board until the other's next mark (up to 15 s) brings them back.

use chrono::{DateTime, Duration, NaiveTime, Utc};
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::app::AppState;
use super::error::ApiError;
use super::routes::agents::state_body;
use super::routes::board::agent_today;
use crate::domain::{Role, User};

/// The feed items that say who is on the floor.
pub const KINDS: &[&str] = &["agent_arrived", "agent_left"];

pub const SEEN_EVERY_SECONDS: u64 = 15;
/// Three marks missed.
pub const GONE_AFTER_SECONDS: i64 = 45;

/// Seen after this, an agent is on the floor at `now`.
pub fn seen_after(now: DateTime<Utc>) -> DateTime<Utc> {
    now - Duration::seconds(GONE_AFTER_SECONDS)
}

/// The live streams this process holds open, by agent: one closing while
/// another is open (a console restarted, a second terminal) leaves the
/// agent on the floor.
#[derive(Default)]
pub struct Streams(Mutex<HashMap<i64, usize>>);

impl Streams {
    fn open(&self) -> MutexGuard<'_, HashMap<i64, usize>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An agent's open stream; marks them gone when the last one drops.
pub struct Here {
    state: AppState,
    user: User,
}

/// Counts the stream in and marks its agent seen; `None` for other roles,
/// who are never on the floor.
pub async fn arrive(state: &AppState, user: &User) -> Result<Option<Here>, ApiError> {
    if user.role != Role::Agent {
        return Ok(None);
    }
    *state.streams.open().entry(user.id).or_default() += 1;
    // Counted first: should marking fail, dropping `Here` counts it out.
    let here = Here {
        state: state.clone(),
        user: user.clone(),
    };
    here.seen().await?;
    Ok(Some(here))
}

impl Here {
    /// Marks the agent seen now; tells the board when they were not on the
    /// floor until now, with their state (as `agent_state` gives it).
    pub async fn seen(&self) -> Result<(), ApiError> {
        let now = self.state.clock.now();
        let id = self.user.id;
        let arrived = self
            .state
            .write(move |tx| {
                Box::pin(async move {
                    Ok(match tx.see(id, Some(now)).await? {
                        Some((_, before)) => before.is_none_or(|t| t <= seen_after(now)),
                        None => false,
                    })
                })
            })
            .await?;
        if !arrived {
            return Ok(());
        }
        // Back after a break with the day's calls behind them: the board's
        // new row starts from those. Read once they are known to arrive
        // (rarely: not at every mark), outside the writer's transaction.
        let day_start = now.date_naive().and_time(NaiveTime::MIN).and_utc();
        let calls = self.state.store.call_tallies(day_start, Some(id)).await?;
        let (made, rpc, promises) = agent_today(&calls, id);
        let user = self.user.clone();
        // The state as it is when told: one set meanwhile (a supervisor's
        // pause) is not undone by an older reading.
        self.state
            .write(move |tx| {
                Box::pin(async move {
                    let Some((s, _)) = tx.see(id, Some(now)).await? else {
                        return Ok(());
                    };
                    let mut body = state_body(&user, &s, None);
                    body["calls_today"] = made.into();
                    body["rpc_today"] = rpc.into();
                    body["promises_today"] = promises.into();
                    tx.publish("agent_arrived", None, Some(id), &body, now)
                        .await
                        .map_err(Into::into)
                })
            })
            .await
    }
}

impl Drop for Here {
    fn drop(&mut self) {
        let mut open = self.state.streams.open();
        let Some(n) = open.get_mut(&self.user.id) else {
            return;
        };
        *n -= 1;
        if *n > 0 {
            return;
        }
        open.remove(&self.user.id);
        drop(open);
        // A stopping server ends every stream: the consoles resume on the
        // next server and their agents stay on the floor (one that does not
        // come back goes at the scheduler's lapse).
        if *self.state.closing.borrow() {
            return;
        }
        let (state, id) = (self.state.clone(), self.user.id);
        // Dropped where the stream's connection ended, inside the runtime.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = leave(&state, id).await {
                    tracing::warn!("agent {id} leaving the floor: {e:?}");
                }
            });
        }
    }
}

/// Marks the agent gone and tells the board, unless a stream opened again
/// meanwhile.
async fn leave(state: &AppState, id: i64) -> Result<(), ApiError> {
    let now = state.clock.now();
    let streams = state.streams.clone();
    state
        .write(move |tx| {
            Box::pin(async move {
                if streams.open().contains_key(&id) {
                    return Ok(());
                }
                if let Some((_, Some(_))) = tx.see(id, None).await? {
                    tx.publish(
                        "agent_left",
                        None,
                        Some(id),
                        &serde_json::json!({ "user_id": id }),
                        now,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await
}

/// The scheduler's part: agents not seen for `GONE_AFTER_SECONDS` leave
/// the floor, and the board hears it.
pub async fn lapse(state: &AppState) -> Result<(), ApiError> {
    let now = state.clock.now();
    for id in state.store.lapse_presence(seen_after(now)).await? {
        state
            .publish(
                "agent_left",
                None,
                Some(id),
                serde_json::json!({ "user_id": id }),
            )
            .await?;
    }
    Ok(())
}
