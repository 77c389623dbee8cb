//! Writes that happen once per `Idempotency-Key`: the same key and body give
//! the first answer again (marked with `Idempotency-Replayed: true`), the
//! same key with another body is a 422, and while the first request is
//! still being answered a 409. A request that fails writes nothing and
//! frees its key for a retry.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::future::BoxFuture;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::app::AppState;
use super::error::ApiError;
use super::store::{Idempotency, Tx};

pub const REPLAY_HEADER: &str = "idempotency-replayed";

/// The key from the header: 1 to 200 visible ASCII characters.
pub fn idempotency_key(headers: &HeaderMap) -> Result<String, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "missing_idempotency_key",
            "an Idempotency-Key header is required",
        )
        .field("Idempotency-Key")
    };
    let key = headers
        .get("idempotency-key")
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?
        .trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_idempotency_key",
            "1 to 200 visible ASCII characters",
        )
        .field("Idempotency-Key"));
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

/// Runs `work` once for this user's key and body; answers 201 with its
/// result, or the first answer again. The answer is kept in the same
/// transaction as what `work` wrote: both or neither.
pub async fn once<T, F>(
    state: &AppState,
    user: i64,
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
    match state
        .store
        .idempotency_begin(user, &key, &body_hash, state.clock.now())
        .await?
    {
        Idempotency::New => {}
        Idempotency::Replay { status, body } => {
            let mut response = json(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            response
                .headers_mut()
                .insert(REPLAY_HEADER, HeaderValue::from_static("true"));
            return Ok(response);
        }
        Idempotency::InFlight => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "in_flight",
                "a request with this Idempotency-Key is still being answered",
            )
            .field("Idempotency-Key"));
        }
        Idempotency::Mismatch => {
            return Err(ApiError::invalid(
                "Idempotency-Key",
                "this Idempotency-Key was used with another body",
            ));
        }
    }
    let kept = key.clone();
    let answered = state
        .write(move |tx| {
            Box::pin(async move {
                let done = work(&mut *tx).await?;
                let body = serde_json::to_string(&done).expect("responses serialize");
                tx.idempotency_finish(user, &kept, StatusCode::CREATED.as_u16(), &body)
                    .await?;
                Ok(body)
            })
        })
        .await;
    match answered {
        Ok(body) => Ok(json(StatusCode::CREATED, body)),
        Err(e) => {
            state.store.idempotency_abandon(user, &key).await?;
            Err(e)
        }
    }
}
