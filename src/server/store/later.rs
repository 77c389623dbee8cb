//! PostgreSQL: writes whose answer nobody waits on, held back and sent
//! together as one statement, each a data-modifying `WITH` of it. Every
//! statement costs a round trip and PostgreSQL's work to start and end it,
//! whatever it does: an outcome's writes after planning are four statements
//! this way rather than seven (README, Performance).
//!
//! The writes go in the order given, before the next statement that reads:
//! that one sees them all. Feed items go last, at the end of the
//! transaction, as one insert, so their ids keep the order they were
//! published in; nothing a transaction reads is in the feed.

use std::fmt::Write as _;

use super::exec::{Arg, Value};
use super::rows::{self, FEED_COLUMNS};

#[derive(Default)]
pub struct Later {
    writes: Vec<(&'static str, Vec<Value>)>,
    feed: Vec<Value>,
}

impl Later {
    /// Whether `sql` is held already. Two writes by one statement may touch
    /// one row, and the parts of one statement do not see each other's
    /// changes: the first is sent before the second is held.
    pub fn holds(&self, sql: &str) -> bool {
        self.writes.iter().any(|(s, _)| *s == sql)
    }

    pub fn hold(&mut self, sql: &'static str, args: &[Arg<'_>]) {
        self.writes
            .push((sql, args.iter().map(Value::from).collect()));
    }

    /// A feed item: at, kind, debtor, user, body.
    pub fn publish(&mut self, item: [Arg<'_>; FEED_COLUMNS]) {
        self.feed.extend(item.iter().map(Value::from));
    }

    /// The statement that sends the writes held (and the feed items too
    /// when `feed`), with its values; it returns one row, whose `newest`
    /// is the id of the last feed item sent. `None`: nothing to send.
    pub fn take(&mut self, feed: bool) -> Option<(String, Vec<Value>)> {
        let items = if feed {
            self.feed.len() / FEED_COLUMNS
        } else {
            0
        };
        if self.writes.is_empty() && items == 0 {
            return None;
        }
        let mut sql = String::from("WITH ");
        let mut values = Vec::new();
        for (i, (write, args)) in self.writes.drain(..).enumerate() {
            let _ = write!(sql, "w{i} AS ({}), ", renumber(write, values.len()));
            values.extend(args);
        }
        if items > 0 {
            let rows = rows::values(rows::POSTGRES, items, FEED_COLUMNS);
            let _ = write!(
                sql,
                "f AS ({}{}",
                rows::INSERT_FEED,
                renumber(&rows, values.len())
            );
            // Servers listening hear of the newest; they read the feed
            // from where they were up to it.
            let _ = write!(
                sql,
                " RETURNING id) SELECT (SELECT max(id) FROM f) AS newest, \
                 (SELECT pg_notify({}, max(id)::text) FROM f) AS notified",
                rows::FEED_CHANNEL
            );
            values.append(&mut self.feed);
        } else {
            // `WITH a AS (…), ` wants a last part before the query.
            sql.truncate(sql.len() - 2);
            sql.push_str(" SELECT NULL::bigint AS newest");
        }
        Some((sql, values))
    }
}

/// `sql` with its parameters `$1`, `$2`… numbered from `after + 1`.
fn renumber(sql: &str, after: usize) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            let n: usize = rest[..digits].parse().expect("digits");
            let _ = write!(out, "{}", n + after);
            rest = &rest[digits..];
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::store::exec::args;

    #[test]
    fn parameters_are_renumbered_past_those_before_them() {
        assert_eq!(
            renumber("UPDATE t SET a = $1, b = $10 WHERE c = $2", 9),
            "UPDATE t SET a = $10, b = $19 WHERE c = $11"
        );
        assert_eq!(renumber("SELECT 1", 3), "SELECT 1");
    }

    #[test]
    fn writes_and_feed_items_become_one_statement_in_order() {
        let mut later = Later::default();
        assert!(later.take(true).is_none());
        later.hold("INSERT INTO a (x) VALUES ($1)", &args![1]);
        later.publish(args![10, "k", Some(3), None::<i64>, "{}"]);
        later.hold("UPDATE b SET y = $1 WHERE id = $2", &args!["v", 2]);
        later.publish(args![11, "j", None::<i64>, Some(4), "[]"]);
        assert!(later.holds("INSERT INTO a (x) VALUES ($1)"));

        let (sql, values) = later.take(true).expect("something to send");
        assert_eq!(
            sql,
            "WITH w0 AS (INSERT INTO a (x) VALUES ($1)), \
             w1 AS (UPDATE b SET y = $2 WHERE id = $3), \
             f AS (INSERT INTO feed (at_ms, kind, debtor_id, user_id, body) VALUES \
             ($4, $5, $6, $7, $8), ($9, $10, $11, $12, $13) RETURNING id) \
             SELECT (SELECT max(id) FROM f) AS newest, \
             (SELECT pg_notify(left('regua_feed_' || current_schema(), 63), max(id)::text) \
             FROM f) AS notified"
        );
        assert_eq!(values.len(), 13);
        assert_eq!(values[3], Value::Int(Some(10)));
        assert_eq!(values[8], Value::Int(Some(11)));
        assert!(later.take(true).is_none(), "sent once");
    }

    #[test]
    fn feed_items_wait_for_the_end() {
        let mut later = Later::default();
        later.publish(args![10, "k", None::<i64>, None::<i64>, "{}"]);
        assert!(later.take(false).is_none(), "only feed items are held");
        later.hold("DELETE FROM a WHERE id = $1", &args![5]);
        let (sql, values) = later.take(false).expect("the write");
        assert_eq!(
            sql,
            "WITH w0 AS (DELETE FROM a WHERE id = $1) SELECT NULL::bigint AS newest"
        );
        assert_eq!(values, vec![Value::Int(Some(5))]);
        assert!(later.take(true).is_some(), "the feed item is still held");
    }
}
