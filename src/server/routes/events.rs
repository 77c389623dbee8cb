//! The live stream: Server-Sent Events from the feed. `Last-Event-ID`
//! resumes after the last one seen, so nothing is missed across
//! reconnects; a cursor older than what is kept gets a `reset` event first
//! (reload the snapshot). A comment every 15 s keeps proxies from closing
//! an idle stream. Agents see their own doings and their leased debtors',
//! and `queues_changed` (it names no debtor, and tells their queue screen
//! to count again). An agent's open stream keeps them on the board's floor
//! (`presence`); who arrives and leaves is the board's to hear. A stream
//! ends when its session does: at once for a logout on this server, within
//! [`SESSION_LOOK`] for one on another; and when the server stops.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::stream::{self, Stream};
use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::broadcast::error::TryRecvError;

use crate::api::{ErrorBody, FeedView};
use crate::domain::{Role, User};
use crate::server::app::AppState;
use crate::server::auth::{Caller, Session, renew_session};
use crate::server::error::ApiError;
use crate::server::feed::{Entry, HOLE_LOOK};
use crate::server::presence::{self, Here, SEEN_EVERY_SECONDS};

pub const KEEP_ALIVE_SECONDS: u64 = 15;
/// How often a stream asks whether its session still holds: a logout on
/// another server ends it within this.
pub const SESSION_LOOK: Duration = Duration::from_secs(15);

struct Cursor {
    state: AppState,
    user: User,
    /// An agent's stream keeps them on the floor while it is open.
    here: Option<Here>,
    marked: Instant,
    /// The caller's session, renewed while the stream is open: a board
    /// that only listens is still in use. One that ends ends the stream.
    session: Session,
    looked: Instant,
    /// Sessions this process ends; `look_now` when one may be this
    /// stream's (it is, or more ended than were kept to tell).
    ended: tokio::sync::broadcast::Receiver<Arc<[u8]>>,
    look_now: bool,
    /// The server is stopping.
    closing: tokio::sync::watch::Receiver<bool>,
    after: i64,
    pending: VecDeque<SseEvent>,
    latest: tokio::sync::watch::Receiver<i64>,
}

impl Cursor {
    /// Whether the caller's session still holds, renewing it while it does.
    /// Looked up again every [`SESSION_LOOK`], and at once when this
    /// process ends a session.
    async fn session_holds(&mut self) -> bool {
        let now = self.state.clock.now();
        loop {
            let heard = self.ended.try_recv();
            if matches!(heard, Err(TryRecvError::Empty | TryRecvError::Closed)) {
                break;
            }
            self.heard(heard.ok());
        }
        if std::mem::take(&mut self.look_now) || self.looked.elapsed() >= SESSION_LOOK {
            self.looked = Instant::now();
            match self
                .state
                .store
                .session_user(&self.session.token_hash, now)
                .await
            {
                Ok(None) => return false,
                Ok(Some((_, expires))) => self.session.expires = expires,
                Err(e) => tracing::warn!("event stream: looking up its session: {e}"),
            }
        }
        let s = &self.session;
        match renew_session(&self.state, &s.token_hash, s.expires, now).await {
            Ok(until) => self.session.expires = until,
            Err(e) => tracing::warn!("event stream: renewing a session: {e:?}"),
        }
        true
    }

    /// A session this process ended, or `None`: some went untold.
    fn heard(&mut self, ended: Option<Arc<[u8]>>) {
        self.look_now |= ended.is_none_or(|hash| *hash == *self.session.token_hash);
    }
}

fn visible(user: &User, e: &Entry) -> bool {
    let item = &e.item;
    if user.role != Role::Agent {
        return true;
    }
    if presence::KINDS.contains(&item.kind.as_str()) {
        return false;
    }
    item.user_id == Some(user.id) || item.kind == "queues_changed" || e.holder == Some(user.id)
}

fn sse(e: &Entry) -> SseEvent {
    SseEvent::default()
        .id(e.item.id.to_string())
        .event(e.item.kind.clone())
        .data(e.data.clone())
}

#[utoipa::path(get, path = "/v1/events", tag = "events", security(("bearer" = [])),
    params(("Last-Event-ID" = Option<i64>, Header, description = "resume after this event")),
    responses(
        (status = 200, description = "Server-Sent Events, each's data a feed item; `reset` when the cursor is older than what is kept", body = FeedView, content_type = "text/event-stream"),
        (status = 401, description = "no valid bearer token", body = ErrorBody),
    ))]
pub async fn stream(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    // Absent: from now on. Present but not an id: the client's place is
    // unknown, so it is told to load again, as for one too old.
    let resume = headers
        .get("last-event-id")
        .map(|v| v.to_str().ok().and_then(|v| v.trim().parse::<i64>().ok()));
    let bounds = state.store.feed_bounds().await?;
    let newest = bounds.map_or(0, |(_, newest)| newest);
    let mut pending = VecDeque::new();
    let mut reset = |reason: &str| {
        pending.push_back(
            SseEvent::default()
                .event("reset")
                .data(serde_json::json!({ "reason": reason }).to_string()),
        );
    };
    let after = match (resume, bounds) {
        (None, _) => newest,
        (Some(None), _) => {
            reset("cursor is not an event id");
            newest
        }
        // Older than what is kept: say so, and go on from the oldest kept.
        (Some(Some(last)), Some((oldest, _))) if last < oldest - 1 => {
            reset("cursor older than the events kept");
            oldest - 1
        }
        // An id never given (another database's, or made up): waiting for
        // it would say nothing until the feed got there.
        (Some(Some(last)), Some(_)) if last > newest => {
            reset("cursor ahead of the events kept");
            newest
        }
        // Nothing kept: a cursor of a feed long pruned, or of another
        // database. Either way the client loads again, and every item
        // from now on is after 0.
        (Some(Some(last)), None) if last != 0 => {
            reset("no events are kept");
            0
        }
        (Some(Some(last)), _) => last,
    };
    let latest = state.latest.subscribe();
    let ended = state.sessions_ended.subscribe();
    let closing = state.closing.subscribe();
    let Caller(user, session) = caller;
    let here = presence::arrive(&state, &user).await?;
    let cursor = Cursor {
        state,
        user,
        here,
        marked: Instant::now(),
        session,
        looked: Instant::now(),
        ended,
        look_now: false,
        closing,
        after,
        pending,
        latest,
    };
    let events = stream::unfold(cursor, |mut c| async move {
        let mark_every = Duration::from_secs(SEEN_EVERY_SECONDS);
        loop {
            if *c.closing.borrow() || !c.session_holds().await {
                return None;
            }
            if let Some(here) = &c.here
                && c.marked.elapsed() >= mark_every
            {
                c.marked = Instant::now();
                if let Err(e) = here.seen().await {
                    tracing::warn!("event stream: marking agent {} seen: {e:?}", c.user.id);
                }
            }
            if let Some(event) = c.pending.pop_front() {
                return Some((Ok(event), c));
            }
            match c.state.feed.after(&c.state, c.after, 200).await {
                Ok(read) if !read.entries.is_empty() => {
                    for e in &read.entries {
                        c.after = e.item.id;
                        if visible(&c.user, e) {
                            c.pending.push_back(sse(e));
                        }
                    }
                }
                // An older id is still to come: look again shortly.
                Ok(read) if read.holding => tokio::time::sleep(HOLE_LOOK).await,
                Ok(_) => {
                    // Nothing new: wait to be told, with a slow look now and
                    // then in case a notice was lost.
                    let mut wait = SESSION_LOOK.saturating_sub(c.looked.elapsed());
                    if c.here.is_some() {
                        wait = wait.min(mark_every.saturating_sub(c.marked.elapsed()));
                    }
                    let told = async {
                        tokio::select! {
                            _ = c.latest.changed() => None,
                            ended = c.ended.recv() => Some(ended),
                            _ = c.closing.changed() => None,
                        }
                    };
                    if let Ok(Some(ended)) = tokio::time::timeout(wait, told).await {
                        c.heard(ended.ok());
                    }
                }
                Err(e) => {
                    tracing::warn!("event stream: {e}");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(KEEP_ALIVE_SECONDS))))
}
