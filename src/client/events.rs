//! Live updates: the server's event stream (`GET /v1/events`, Server-Sent
//! Events) read by a task that sends what happens to the UI loop. It
//! reconnects by itself with backoff, sending `Last-Event-ID` so nothing is
//! missed across a drop, and ends when the receiver is gone.
//!
//! The `text/event-stream` format is parsed here (a few lines of the WHATWG
//! rules: `id:`, `event:`, `data:`, `:` comments, a blank line dispatches);
//! the crates that do it pin other reqwest versions or bring more than they
//! save.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;

use super::{Client, ClientError, Method, api_error, decode, network};

/// The first wait before reconnecting; it doubles up to [`RETRY_MAX`] and
/// starts again after a connection succeeds.
pub const RETRY_FIRST: Duration = Duration::from_millis(500);
pub const RETRY_MAX: Duration = Duration::from_secs(10);
/// The server sends a keep-alive comment every 15 s: this long without a
/// byte means the connection is dead, even if the socket does not say so.
pub const IDLE_LIMIT: Duration = Duration::from_secs(45);
/// A line or an event longer than this ends the connection.
const MAX_PENDING: usize = 4 * 1024 * 1024;

/// One item of the server's feed, as the stream sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FeedEvent {
    pub id: i64,
    pub at: DateTime<Utc>,
    /// `outcome_recorded`, `payment_received`, `promise_broken`, ...
    pub kind: String,
    pub debtor_id: Option<i64>,
    pub user_id: Option<i64>,
    pub body: Value,
}

/// What the subscription tells the UI loop.
#[derive(Clone, Debug, PartialEq)]
pub enum Live {
    /// The stream is open (again).
    Connected,
    Event(FeedEvent),
    /// Events were missed for good (the cursor was older than the server
    /// keeps): reload what is shown.
    Reset,
    /// The stream dropped or could not open, and why; it is retried.
    Disconnected(String),
    /// The server refused the token (logged out elsewhere, or expired):
    /// retried as a drop is, but only a new login brings it back.
    SignedOut,
}

/// Follows the feed after event `after` (from now on when `None`) until
/// `tx` is closed.
pub fn subscribe(client: Client, after: Option<i64>, tx: UnboundedSender<Live>) -> JoinHandle<()> {
    tokio::spawn(follow(client, after.map(|a| a.to_string()), tx))
}

async fn follow(client: Client, mut last_id: Option<String>, tx: UnboundedSender<Live>) {
    let mut delay = RETRY_FIRST;
    let mut moves = client.moves();
    loop {
        let why = tokio::select! {
            why = connection(&client, &mut last_id, &mut delay, &tx) => why,
            _ = tx.closed() => return,
        };
        let Some(ended) = why else { return };
        if tx.send(ended).is_err() {
            return;
        }
        // A client moved to another server tries it at once.
        let moved = tokio::select! {
            _ = tokio::time::sleep(delay) => false,
            _ = moves.changed() => true,
            _ = tx.closed() => return,
        };
        delay = if moved {
            RETRY_FIRST
        } else {
            (delay * 2).min(RETRY_MAX)
        };
    }
}

/// One connection, until it ends: how it ended (`Disconnected` or
/// `SignedOut`), or `None` when the receiver is gone.
async fn connection(
    client: &Client,
    last_id: &mut Option<String>,
    delay: &mut Duration,
    tx: &UnboundedSender<Live>,
) -> Option<Live> {
    let mut request = client
        .request(Method::GET, "/v1/events")
        .header("Accept", "text/event-stream");
    if let Some(id) = last_id.as_deref() {
        request = request.header("Last-Event-ID", id);
    }
    let dropped = |why: String| Some(Live::Disconnected(why));
    let opened = tokio::time::timeout(super::REQUEST_TIMEOUT, request.send()).await;
    let mut response = match opened {
        Err(_) => return dropped(ClientError::Network(super::NO_ANSWER.into()).to_string()),
        Ok(Err(e)) => return dropped(network(e).to_string()),
        Ok(Ok(r)) => r,
    };
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return Some(Live::SignedOut);
    }
    if !status.is_success() {
        let body = response.bytes().await.unwrap_or_default();
        return dropped(api_error(status, &body).to_string());
    }
    tx.send(Live::Connected).ok()?;
    *delay = RETRY_FIRST;
    let mut parser = Parser::default();
    loop {
        let chunk = match tokio::time::timeout(IDLE_LIMIT, response.chunk()).await {
            Err(_) => return dropped("the event stream went silent".into()),
            Ok(Err(e)) => return dropped(network(e).to_string()),
            Ok(Ok(None)) => return dropped("the server closed the event stream".into()),
            Ok(Ok(Some(chunk))) => chunk,
        };
        let messages = match parser.push(&chunk) {
            Ok(messages) => messages,
            Err(why) => return dropped(why),
        };
        for message in messages {
            if message.id.is_some() {
                last_id.clone_from(&message.id);
            }
            let live = if message.event == "reset" {
                Live::Reset
            } else {
                match decode::<FeedEvent>(message.data.as_bytes()) {
                    Ok(event) => Live::Event(event),
                    // One event this client cannot read is skipped; the
                    // cursor has moved past it all the same.
                    Err(_) => continue,
                }
            };
            tx.send(live).ok()?;
        }
    }
}

/// One dispatched event: its type (`message` when unnamed), its data lines
/// joined by `\n`, and the last event id seen on the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Message {
    pub event: String,
    pub data: String,
    pub id: Option<String>,
}

/// A `text/event-stream` reader fed chunks as they come: lines end with LF,
/// CR LF or CR, even split across chunks.
#[derive(Default)]
pub(crate) struct Parser {
    line: Vec<u8>,
    /// The last chunk ended with CR: an LF first in the next is its pair.
    after_cr: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
}

impl Parser {
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<Message>, String> {
        let mut out = Vec::new();
        for &b in chunk {
            if std::mem::take(&mut self.after_cr) && b == b'\n' {
                continue;
            }
            match b {
                b'\n' | b'\r' => {
                    self.after_cr = b == b'\r';
                    let line = std::mem::take(&mut self.line);
                    if let Some(message) = self.line_done(&String::from_utf8_lossy(&line)) {
                        out.push(message);
                    }
                }
                _ => self.line.push(b),
            }
        }
        if self.line.len() + self.data.len() > MAX_PENDING {
            return Err("an event over 4 MiB from the server".into());
        }
        Ok(out)
    }

    fn line_done(&mut self, line: &str) -> Option<Message> {
        if line.is_empty() {
            let event = std::mem::take(&mut self.event);
            let mut data = std::mem::take(&mut self.data);
            if !std::mem::take(&mut self.has_data) {
                return None;
            }
            data.pop(); // the last line's '\n'
            return Some(Message {
                event: if event.is_empty() {
                    "message".into()
                } else {
                    event
                },
                data,
                id: self.last_id.clone(),
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = value.to_string(),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            "id" if !value.contains('\0') => self.last_id = Some(value.to_string()),
            // `retry` and unknown fields: our own backoff stands.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(event: &str, data: &str, id: Option<&str>) -> Message {
        Message {
            event: event.into(),
            data: data.into(),
            id: id.map(String::from),
        }
    }

    #[test]
    fn events_comments_and_multi_line_data() {
        let mut p = Parser::default();
        let got = p
            .push(
                b": keep-alive\n\nid: 7\nevent: outcome_recorded\ndata: {\"a\":\ndata:1}\n\n\
                  data: plain\n\nevent: reset\ndata: {}\n\n",
            )
            .unwrap();
        assert_eq!(
            got,
            vec![
                message("outcome_recorded", "{\"a\":\n1}", Some("7")),
                message("message", "plain", Some("7")),
                message("reset", "{}", Some("7")),
            ]
        );
    }

    #[test]
    fn lines_split_anywhere_and_any_line_ending() {
        let stream = b"id:1\r\nevent:x\r\ndata: a\r\n\r\nid: 2\rdata:  b\r\rdata\n\n";
        for cut in 0..stream.len() {
            let mut p = Parser::default();
            let mut got = p.push(&stream[..cut]).unwrap();
            got.extend(p.push(&stream[cut..]).unwrap());
            assert_eq!(
                got,
                vec![
                    message("x", "a", Some("1")),
                    message("message", " b", Some("2")),
                    message("message", "", Some("2")),
                ],
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn an_event_without_data_is_not_dispatched_and_its_type_is_forgotten() {
        let mut p = Parser::default();
        assert!(p.push(b"event: lonely\n\n").unwrap().is_empty());
        assert_eq!(
            p.push(b"data: x\n\n").unwrap(),
            vec![message("message", "x", None)]
        );
    }

    #[test]
    fn an_endless_line_is_refused() {
        let mut p = Parser::default();
        let big = vec![b'a'; MAX_PENDING + 1];
        assert!(p.push(&big).is_err());
    }
}
