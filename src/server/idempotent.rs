//! Writes that happen once per `Idempotency-Key`: the same key and body on
//! the same call give the first answer again (marked with
//! `Idempotency-Replayed: true`), the same key with another body or on
//! another call (another debtor's outcomes, say) is a 422, and while the
//! first request is still being answered a 409. A request that fails writes nothing and
//! frees its key for a retry. The key is taken in the same transaction as
//! the request's writes: one commit, not two, for each.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::sync::Mutex;

use super::app::AppState;
use super::error::ApiError;
use super::store::{Idempotency, Tx};

pub const REPLAY_HEADER: &str = "idempotency-replayed";

/// How long a key is kept: a retry within it is answered, not done again.
pub const KEYS_KEPT_DAYS: i64 = 7;

/// The key from the header: one header, of 1 to 200 visible ASCII
/// characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let bad = |message: &str| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_idempotency_key", message)
            .field("Idempotency-Key")
    };
    let mut given = headers.get_all("idempotency-key").iter();
    let key = given.next().ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "an Idempotency-Key header is required",
        )
        .field("Idempotency-Key")
    })?;
    // Which of two the client meant is not ours to guess.
    if given.next().is_some() {
        return Err(bad("one Idempotency-Key header, not several"));
    }
    let key = key.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad("1 to 200 visible ASCII characters"));
    }
    Ok(key.to_string())
}

fn json(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    response
}

fn in_flight() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "in_flight",
        "a request with this Idempotency-Key is still being answered",
    )
    .field("Idempotency-Key")
}

/// The keys this process is answering now. A key is taken before its
/// request reaches the store, so a second request with it gets its 409
/// without waiting for the first; other servers on the same PostgreSQL
/// database learn of it from the key's lock in the store.
#[derive(Default)]
pub struct InFlight(Mutex<HashSet<(i64, String)>>);

/// A key held while its request is answered; let go when dropped.
pub struct Held<'a> {
    set: &'a InFlight,
    key: (i64, String),
}

impl InFlight {
    pub fn hold(&self, user: i64, key: &str) -> Option<Held<'_>> {
        let key = (user, key.to_string());
        let fresh = self
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.clone());
        fresh.then_some(Held { set: self, key })
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.set
            .0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.key);
    }
}

/// What became of a request: answered now, or answered before.
enum Answer {
    New(String),
    Replay { status: u16, body: String },
}

/// Runs `work` once for this user's key, call (`scope`, as `POST
/// /v1/debtors/7/outcomes`) and body; answers 201 with its result, or the
/// first answer again. The key, `work`'s writes and the answer are one
/// transaction: a request that fails leaves nothing, not even its key, so a
/// retry runs.
pub async fn once<T, F>(
    state: &AppState,
    user: i64,
    scope: String,
    headers: &HeaderMap,
    raw: &[u8],
    work: F,
) -> Result<Response, ApiError>
where
    T: Serialize + Send + 'static,
    F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T, ApiError>> + Send + 'static,
{
    let key = idempotency_key(headers)?;
    let body_hash = Sha256::digest(raw).to_vec();
    let _held = state.in_flight.hold(user, &key).ok_or_else(in_flight)?;
    let now = state.clock.now();
    let answer = state
        .write(move |tx| {
            Box::pin(async move {
                match tx
                    .idempotency_begin(user, &key, &scope, &body_hash, now)
                    .await?
                {
                    Idempotency::New => {}
                    Idempotency::Replay { status, body } => {
                        return Ok(Answer::Replay { status, body });
                    }
                    Idempotency::InFlight => return Err(in_flight()),
                    Idempotency::Mismatch => {
                        return Err(ApiError::invalid(
                            "Idempotency-Key",
                            "this Idempotency-Key was used with another body or on another call",
                        ));
                    }
                }
                let done = work(&mut *tx).await?;
                let body = serde_json::to_string(&done).expect("responses serialize");
                tx.idempotency_finish(user, &key, StatusCode::CREATED.as_u16(), &body)
                    .await?;
                Ok(Answer::New(body))
            })
        })
        .await?;
    Ok(match answer {
        Answer::New(body) => json(StatusCode::CREATED, body),
        Answer::Replay { status, body } => {
            let mut response = json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            response
                .headers_mut()
                .insert(REPLAY_HEADER, HeaderValue::from_static("true"));
            response
        }
    })
}

#[cfg(test)]
mod tests {
    use super::InFlight;

    #[test]
    fn a_key_is_held_once_until_let_go() {
        let set = InFlight::default();
        let held = set.hold(1, "k").expect("free");
        assert!(set.hold(1, "k").is_none(), "held twice");
        // Keys belong to their user.
        assert!(set.hold(2, "k").is_some());
        drop(held);
        assert!(set.hold(1, "k").is_some(), "let go");
    }
}
