//! The feed as this process's live streams read it: one read of the store
//! for every stream, not one each. With 200 agents' consoles open, a state
//! change woke 200 streams and each read the store: 4,000 reads a second at
//! 20 changes a second, most of a core. Now the first stream to need a new
//! item reads it for all, and keeps the newest `KEEP` items.
//!
//! Items are handed out only in id order with nothing missing before them.
//! On PostgreSQL a transaction takes its feed id when it writes the item and
//! commits a round trip later, so a newer id can be committed and seen
//! before an older one: a cursor that moved past the hole would never see
//! the older item. A hole is waited on for up to `HOLE_WAIT` (its
//! transaction commits within milliseconds), then taken as an id no item
//! will have (a transaction rolled back after taking it).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::app::AppState;
use super::routes::board::feed_view;
use super::store::{FeedItem, StoreError};

/// Items kept; a stream further behind reads the store itself.
pub const KEEP: usize = 4096;
/// How long a missing id holds back the items after it.
pub const HOLE_WAIT: Duration = Duration::from_secs(2);
/// A look at the store this often even without a notice, in case one was
/// lost.
const LOOK_EVERY: Duration = Duration::from_secs(15);
/// How often a hole is looked at again, for all streams.
pub const HOLE_LOOK: Duration = Duration::from_millis(10);
const READ: u32 = 500;

/// A feed item with what every stream needs of it, worked out once.
pub struct Entry {
    pub item: FeedItem,
    /// Who held the item's debtor when it was read: agents see their
    /// leased debtors' items.
    pub holder: Option<i64>,
    /// The item as the stream sends it.
    pub data: String,
}

/// What `Feed::after` found.
pub struct Read {
    pub entries: Vec<Arc<Entry>>,
    /// A missing id holds back newer items: ask again shortly rather than
    /// wait for the next notice.
    pub holding: bool,
}

#[derive(Default)]
pub struct Feed(tokio::sync::Mutex<Kept>);

#[derive(Default)]
struct Kept {
    /// Every item after `base` up to the newest kept is in `entries`
    /// (`None` until the first read).
    base: Option<i64>,
    entries: VecDeque<Arc<Entry>>,
    /// The first missing id and when it was first missed.
    hole: Option<(i64, Instant)>,
    looked: Option<Instant>,
}

impl Kept {
    fn newest(&self) -> Option<i64> {
        self.entries.back().map(|e| e.item.id).or(self.base)
    }

    fn after(&self, cursor: i64, limit: usize) -> Vec<Arc<Entry>> {
        let start = self.entries.partition_point(|e| e.item.id <= cursor);
        self.entries.range(start..).take(limit).cloned().collect()
    }
}

impl Feed {
    /// Up to `limit` items after `cursor`, in order, with nothing missing
    /// before them.
    pub async fn after(
        &self,
        state: &AppState,
        cursor: i64,
        limit: usize,
    ) -> Result<Read, StoreError> {
        let mut kept = self.0.lock().await;
        let base = *kept.base.get_or_insert(cursor);
        if cursor < base {
            // Further behind than what is kept: from the store, up to where
            // the kept items begin (all long committed).
            drop(kept);
            let items = state.store.feed_after(cursor, limit as u32).await?;
            let mut entries = Vec::with_capacity(items.len());
            for item in items.into_iter().filter(|i| i.id <= base) {
                entries.push(Arc::new(entry(state, item).await));
            }
            if entries.is_empty() {
                // Nothing between the cursor and what is kept.
                return Box::pin(self.after(state, base, limit)).await;
            }
            return Ok(Read {
                entries,
                holding: false,
            });
        }
        let found = kept.after(cursor, limit);
        if !found.is_empty() {
            return Ok(Read {
                entries: found,
                holding: false,
            });
        }
        let newest = kept.newest().unwrap_or(base);
        let told = *state.latest.borrow();
        let since = kept.looked.map(|t| t.elapsed());
        // While a hole is open every stream asks again shortly: the store is
        // looked at once per `HOLE_LOOK` for all of them.
        let due = match kept.hole {
            Some(_) => since.is_none_or(|t| t >= HOLE_LOOK),
            None => told > newest || since.is_none_or(|t| t >= LOOK_EVERY),
        };
        if !due {
            return Ok(Read {
                entries: Vec::new(),
                holding: kept.hole.is_some(),
            });
        }
        kept.looked = Some(Instant::now());
        let items = state.store.feed_after(newest, READ).await?;
        let mut expected = newest + 1;
        for item in items {
            if item.id != expected {
                match kept.hole {
                    Some((id, since)) if id == expected && since.elapsed() >= HOLE_WAIT => {
                        tracing::warn!("feed: no item {id} after {HOLE_WAIT:?}: taken as none");
                    }
                    Some((id, _)) if id == expected => break,
                    _ => {
                        kept.hole = Some((expected, Instant::now()));
                        break;
                    }
                }
            }
            kept.hole = None;
            expected = item.id + 1;
            kept.entries.push_back(Arc::new(entry(state, item).await));
        }
        while kept.entries.len() > KEEP {
            let gone = kept.entries.pop_front().expect("more than KEEP");
            kept.base = Some(gone.item.id);
        }
        Ok(Read {
            entries: kept.after(cursor, limit),
            holding: kept.hole.is_some(),
        })
    }
}

async fn entry(state: &AppState, item: FeedItem) -> Entry {
    let holder = match item.debtor_id {
        Some(d) => state
            .store
            .lease_on(d, state.clock.now())
            .await
            .ok()
            .flatten()
            .map(|l| l.agent_id),
        None => None,
    };
    let data = serde_json::to_string(&feed_view(&item)).expect("feed items serialize");
    Entry { item, holder, data }
}
