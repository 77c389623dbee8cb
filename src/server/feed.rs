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

pub struct Feed {
    kept: tokio::sync::Mutex<Kept>,
    keep: usize,
}

impl Default for Feed {
    fn default() -> Feed {
        Feed {
            kept: tokio::sync::Mutex::default(),
            keep: KEEP,
        }
    }
}

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
        let mut kept = self.kept.lock().await;
        let base = *kept.base.get_or_insert(cursor);
        if cursor < base {
            // Further behind than what is kept: from the store, up to where
            // the kept items begin (all long committed).
            drop(kept);
            let now = state.clock.now();
            let items = state.store.feed_after(cursor, limit as u32, now).await?;
            let entries: Vec<_> = items
                .into_iter()
                .filter(|(i, _)| i.id <= base)
                .map(|(item, holder)| Arc::new(entry(item, holder)))
                .collect();
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
        let items = state
            .store
            .feed_after(newest, READ, state.clock.now())
            .await?;
        let mut expected = newest + 1;
        for (item, holder) in items {
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
            kept.entries.push_back(Arc::new(entry(item, holder)));
        }
        // The caller's items first: letting old ones go may take some.
        let entries = kept.after(cursor, limit);
        while kept.entries.len() > self.keep {
            let gone = kept.entries.pop_front().expect("more than kept");
            kept.base = Some(gone.item.id);
        }
        Ok(Read {
            entries,
            holding: kept.hole.is_some(),
        })
    }
}

fn entry(item: FeedItem, holder: Option<i64>) -> Entry {
    let data = serde_json::to_string(&feed_view(&item)).expect("feed items serialize");
    Entry { item, holder, data }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::SystemClock;
    use crate::schedule::default_policy;
    use crate::server::store::connect;

    fn ids(read: &Read) -> Vec<i64> {
        read.entries.iter().map(|e| e.item.id).collect()
    }

    /// Only the newest items are kept; a stream behind them reads the
    /// older ones from the store, and none is missed or sent twice.
    #[tokio::test]
    async fn the_newest_are_kept_and_older_ones_come_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("regua.db").display());
        let store = connect(&url).await.unwrap();
        let state = AppState::new(store, default_policy(), Arc::new(SystemClock));
        let feed = Feed {
            keep: 3,
            ..Feed::default()
        };
        let publish = async |n: usize| {
            let mut ids = Vec::new();
            for _ in 0..n {
                ids.push(
                    state
                        .publish("x", None, None, serde_json::json!({}))
                        .await
                        .unwrap(),
                );
            }
            ids
        };
        // The first stream starts what is kept, from before the first item.
        let first = publish(6).await;
        let start = first[0] - 1;
        let read = feed.after(&state, start, 100).await.unwrap();
        assert_eq!(ids(&read), first, "all six, though three are kept");
        // Behind what is kept: the store, up to where the kept items begin.
        let behind = feed.after(&state, first[0], 100).await.unwrap();
        assert_eq!(ids(&behind), first[1..3]);
        let kept = feed.after(&state, first[2], 100).await.unwrap();
        assert_eq!(ids(&kept), first[3..]);
        // New items go on the end, and the oldest kept go.
        let next = publish(2).await;
        let read = feed.after(&state, first[5], 100).await.unwrap();
        assert_eq!(ids(&read), next);
        let from_store = feed.after(&state, first[3], 100).await.unwrap();
        assert_eq!(ids(&from_store), [first[4]]);
        let rest = feed.after(&state, first[4], 100).await.unwrap();
        assert_eq!(ids(&rest), [first[5], next[0], next[1]]);
    }
}
