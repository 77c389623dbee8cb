//! The server's shared state, its router and the pieces every route uses:
//! a JSON body reader that names the field at fault, and re-planning a
//! debtor through the engine after every write.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Request};
use axum::http::StatusCode;
use axum::{Extension, Json, Router};
use chrono::{DateTime, Duration, Utc};
use futures_util::future::BoxFuture;
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::routes;
use super::store::{self, Store, Tx, Verdict};
use crate::domain::{Channel, Clock, Debtor, Event, breaks_at};
use crate::schedule::{Plan, Policy, State, plan};

/// Bodies larger than this are refused with 413 before they are read whole.
pub const BODY_LIMIT: usize = 256 * 1024;

/// How long a JSON body may take to arrive: one shorter than its
/// `Content-Length` would otherwise hold its request open for good.
pub const BODY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Failed logins by (user name, address): how many, and the first one.
/// The name is kept as its digest: a name of any length takes 32 bytes.
pub type FailedLogins = HashMap<([u8; 32], String), (u32, DateTime<Utc>)>;

/// The key of `name`'s failed logins from `addr`.
pub fn login_key(name: &str, addr: String) -> ([u8; 32], String) {
    use sha2::Digest;
    (sha2::Sha256::digest(name.as_bytes()).into(), addr)
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub policy: Arc<Policy>,
    pub clock: Arc<dyn Clock>,
    pub lease_ttl: Duration,
    /// How long an agent who gave a debtor back is offered everyone else in
    /// the queue first.
    pub skip_for: Duration,
    pub session_ttl: Duration,
    pub failed_logins: Arc<Mutex<FailedLogins>>,
    /// The id of the newest feed item any process published: what live
    /// streams wait on.
    pub latest: Arc<tokio::sync::watch::Sender<i64>>,
    pub metrics: Arc<super::metrics::Metrics>,
    /// Idempotency keys this process is answering now.
    pub in_flight: Arc<super::idempotent::InFlight>,
    /// The agents' live streams this process holds open.
    pub streams: Arc<super::presence::Streams>,
    /// The feed as this process's live streams read it.
    pub feed: Arc<super::feed::Feed>,
    /// The token hash of each session this process ends: the live stream
    /// that holds it ends at once, and no other stream reads the store.
    pub sessions_ended: tokio::sync::broadcast::Sender<Arc<[u8]>>,
    /// Set when the server is stopping: live streams end, so it need not
    /// wait for them (they never end by themselves), and their clients
    /// resume on the next server from where they were.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, policy: Policy, clock: Arc<dyn Clock>) -> AppState {
        AppState {
            store,
            policy: Arc::new(policy),
            clock,
            lease_ttl: Duration::minutes(10),
            skip_for: Duration::minutes(15),
            session_ttl: Duration::hours(12),
            failed_logins: Arc::default(),
            latest: Arc::new(tokio::sync::watch::Sender::new(0)),
            metrics: Arc::default(),
            in_flight: Arc::default(),
            streams: Arc::default(),
            feed: Arc::default(),
            sessions_ended: tokio::sync::broadcast::Sender::new(64),
            closing: Arc::new(tokio::sync::watch::Sender::new(false)),
        }
    }

    /// Appends to the feed and wakes this process's live streams (other
    /// processes hear of it through the store's `listen`).
    pub async fn publish(
        &self,
        kind: &str,
        debtor_id: Option<i64>,
        user_id: Option<i64>,
        body: serde_json::Value,
    ) -> Result<i64, ApiError> {
        let id = self
            .store
            .publish(kind, debtor_id, user_id, &body, self.clock.now())
            .await?;
        self.wake(id);
        Ok(id)
    }

    /// Ends a session: its token stops working, and a live stream it holds
    /// open on this server ends at once (on another, at its next look).
    pub async fn end_session(&self, token_hash: &[u8]) -> Result<bool, ApiError> {
        let ended = self.store.revoke_session(token_hash).await?;
        // No stream listening is no error.
        let _ = self.sessions_ended.send(token_hash.into());
        Ok(ended)
    }

    /// Runs `work` in one transaction of the store and answers once it is
    /// durable; then wakes this process's live streams for what it
    /// published. `work` writes only through its `Tx`: reaching the store
    /// any other way from inside would wait on itself.
    pub async fn write<T, F>(&self, work: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut dyn Tx) -> BoxFuture<'t, Result<T, ApiError>> + Send + 'static,
    {
        let (out, published) = store::write(&*self.store, move |tx| {
            Box::pin(async move {
                let out = work(&mut *tx).await?;
                tx.flush().await?;
                Ok::<_, ApiError>((out, tx.published()))
            })
        })
        .await?;
        if let Some(id) = published {
            self.wake(id);
        }
        Ok(out)
    }

    /// Tells this process's live streams of feed item `id`.
    fn wake(&self, id: i64) {
        self.latest.send_if_modified(|l| {
            let newer = id > *l;
            if newer {
                *l = id;
            }
            newer
        });
    }
}

/// The API's description: bearer tokens, and each route's roles as the
/// scopes of its `bearer` requirement (none listed: any signed-in role).
#[derive(utoipa::OpenApi)]
#[openapi(
    info(title = "regua", description = "The collection API: queues, leases, debtors, calls and outcomes, payments, the board and live events."),
    modifiers(&Bearer)
)]
struct ApiDoc;

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
            );
    }
}

/// Every route, each with its OpenAPI description: the one list the router
/// and `/openapi.json` are both made from, so no route goes undocumented.
/// Add routes here, through `routes!`, and nowhere else.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(<ApiDoc as utoipa::OpenApi>::openapi())
        .routes(routes!(healthz))
        .routes(routes!(super::metrics::render))
        .routes(routes!(openapi))
        .routes(routes!(routes::sessions::login))
        .routes(routes!(routes::sessions::logout))
        .routes(routes!(routes::sessions::me))
        .routes(routes!(routes::agents::put_my_state))
        .routes(routes!(routes::agents::put_agent_state))
        .routes(routes!(routes::agents::calls_today))
        .routes(routes!(routes::queues::list))
        .routes(routes!(routes::queues::lease))
        .routes(routes!(routes::queues::debtors))
        .routes(routes!(routes::queues::renew))
        .routes(routes!(routes::queues::release))
        .routes(routes!(routes::board::snapshot))
        .routes(routes!(routes::debtors::search))
        .routes(routes!(routes::debtors::show))
        .routes(routes!(routes::debtors::timeline))
        .routes(routes!(routes::debtors::plan))
        .routes(routes!(routes::debtors::script))
        .routes(routes!(routes::calls::start))
        .routes(routes!(routes::outcomes::record))
        .routes(routes!(routes::payments::record))
        .routes(routes!(routes::events::stream))
        .routes(routes!(routes::import::portfolio))
}

pub fn router(state: AppState) -> Router {
    let (router, doc) = api().split_for_parts();
    router
        .fallback(|| async { ApiError::not_found("not_found", "no such route") })
        // axum answers an empty body (with `Allow`, which it still adds).
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this route does not take that method; `Allow` says which it takes",
            )
        })
        .layer(Extension(Arc::new(doc)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            super::metrics::track,
        ))
        .with_state(state)
}

#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses(
        (status = 200, description = "`ok`: the server and its database answer", body = String, content_type = "text/plain"),
        (status = 503, description = "`database_unavailable`: the database does not answer (within 2 s)", body = crate::api::ErrorBody),
    ))]
async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> Result<&'static str, ApiError> {
    // A balancer takes a replica whose database is gone out of its turn.
    let answered =
        tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await;
    match answered {
        Ok(Ok(())) => Ok("ok"),
        Ok(Err(e)) => Err(unavailable(&e.to_string())),
        Err(_) => Err(unavailable("no answer within 2 s")),
    }
}

fn unavailable(why: &str) -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "database_unavailable",
        format!("the database does not answer: {why}"),
    )
}

#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "this document", content_type = "application/json")))]
async fn openapi(
    Extension(doc): Extension<Arc<utoipa::openapi::OpenApi>>,
) -> Json<Arc<utoipa::openapi::OpenApi>> {
    Json(doc)
}

/// A JSON body: malformed JSON, wrong types, unknown fields and invalid
/// UTF-8 are a 4xx naming the field, never a 500; too large is a 413.
pub struct Body<T>(pub T, pub Bytes);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Body<T>, ApiError> {
        let read = tokio::time::timeout(BODY_TIMEOUT, Bytes::from_request(req, state)).await;
        let read = read.map_err(|_| body_timeout("did not arrive whole"))?;
        let bytes = read.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                too_large(BODY_LIMIT)
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "bad_body", rejection.body_text())
            }
        })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let parsed: Result<T, ApiError> = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let field = field_at(&path, &inner.to_string());
            let error = json_error(inner, &bytes);
            match field {
                Some(field) => error.field(field),
                None => error,
            }
        });
        let value = parsed?;
        de.end().map_err(|e| json_error(e, &bytes))?;
        // serde takes an object's fields in order from a list too, and
        // no request here holds a list: `[2, 1, null]` was a payment.
        if let Some(at) = list_in(&bytes) {
            let e = ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                match &at {
                    Some(field) => format!("`{field}` is a list; it is an object or a value"),
                    None => "the body is a list; it is a JSON object".to_string(),
                },
            );
            return Err(match at {
                Some(field) => e.field(field),
                None => e,
            });
        }
        Ok(Body(value, bytes))
    }
}

/// Where a JSON body holds a list, if it does: `Some(None)` for the body
/// itself, else the field's path (`promise`, `plan.first_date`).
fn list_in(body: &[u8]) -> Option<Option<String>> {
    // Most bodies have no bracket at all; one in a string is no list.
    if !body.contains(&b'[') {
        return None;
    }
    fn walk(v: &serde_json::Value, path: &str) -> Option<Option<String>> {
        let here = || Some(path.to_string()).filter(|p| !p.is_empty());
        match v {
            serde_json::Value::Array(_) => Some(here()),
            serde_json::Value::Object(fields) => fields.iter().find_map(|(k, v)| {
                let path = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(v, &path)
            }),
            _ => None,
        }
    }
    walk(&serde_json::from_slice(body).ok()?, "")
}

fn body_timeout(what: &str) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "body_timeout",
        format!("the body {what} within {} s", BODY_TIMEOUT.as_secs()),
    )
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the body is over {limit} bytes"),
    )
}

/// A large body (a portfolio file) up to `LIMIT` bytes, read as it comes:
/// a whole file may take minutes on a slow link, but a sender that goes
/// quiet for `BODY_TIMEOUT` is a 408 rather than a request held open for
/// good. Over the limit is a 413; both carry the error body.
pub struct Upload<const LIMIT: usize>(pub Vec<u8>);

impl<const LIMIT: usize, S: Send + Sync> FromRequest<S> for Upload<LIMIT> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Upload<LIMIT>, ApiError> {
        use futures_util::StreamExt;
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
        if declared.is_some_and(|n| n > LIMIT) {
            return Err(too_large(LIMIT));
        }
        // Room for what the sender declares, up to a point: the length is
        // theirs to claim, the memory ours.
        let mut bytes = Vec::with_capacity(declared.unwrap_or(0).min(64 << 20));
        let mut stream = req.into_body().into_data_stream();
        loop {
            let next = tokio::time::timeout(BODY_TIMEOUT, stream.next()).await;
            match next.map_err(|_| body_timeout("stopped arriving: nothing came"))? {
                None => return Ok(Upload(bytes)),
                Some(Err(e)) => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "bad_body",
                        format!("the body could not be read: {e}"),
                    ));
                }
                Some(Ok(chunk)) => {
                    if bytes.len() + chunk.len() > LIMIT {
                        return Err(too_large(LIMIT));
                    }
                    bytes.extend_from_slice(&chunk);
                }
            }
        }
    }
}

/// A name from the path (a queue's id); one that is not UTF-8 names
/// nothing, a 404 with the error body.
pub struct Name(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Name {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Name, ApiError> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(name)) => Ok(Name(name)),
            Err(_) => Err(ApiError::not_found("not_found", "no such name: not UTF-8").field("id")),
        }
    }
}

/// A numeric id from the path; anything else is a 404 with the error body.
pub struct Id(pub i64);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Id, ApiError> {
        match axum::extract::Path::<i64>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(Id(id)),
            Err(_) => Err(ApiError::not_found("not_found", "ids are whole numbers").field("id")),
        }
    }
}

/// Syntax is a 400; well-formed JSON of the wrong shape a 422. serde_json
/// calls a number where an enum's name should be a syntax error
/// ("expected value"), so an error that says syntax is checked against the
/// body itself: only on the way out, nothing is parsed twice when all is well.
fn json_error(e: serde_json::Error, body: &[u8]) -> ApiError {
    // IgnoredAny passes over strings without checking their UTF-8.
    let malformed = (e.is_syntax() || e.is_eof())
        && (std::str::from_utf8(body).is_err()
            || serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err());
    if malformed {
        ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string())
    } else {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", e.to_string())
    }
}

/// The field a deserializing error is about, from serde_path_to_error's
/// path ("." for the root, "?" when lost). A missing or repeated field is
/// reported at the object that should hold it, so its name is read from
/// serde's message and put after that path.
fn field_at(path: &str, message: &str) -> Option<String> {
    let named = ["missing field `", "duplicate field `"]
        .iter()
        .find_map(|start| message.strip_prefix(start)?.split('`').next());
    let path = Some(path).filter(|p| *p != "." && *p != "?");
    match (path, named) {
        (Some(path), Some(name)) => Some(format!("{path}.{name}")),
        (None, Some(name)) => Some(name.to_string()),
        (path, None) => path.map(str::to_string),
    }
}

/// Query parameters. axum's own extractor answers a bad value in plain
/// text; this one answers with the error body naming the parameter.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Query<T>, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(Query)
            .map_err(|e| {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                let error = ApiError::new(StatusCode::BAD_REQUEST, "bad_query", message.clone());
                match field_at(&path, &message) {
                    Some(field) => error.field(field),
                    None => error,
                }
            })
    }
}

/// The engine's verdict for a plan: its queue, whether it may be called
/// now, its priority, and when to look again.
pub fn verdict(policy: &Policy, debtor: &Debtor, p: &Plan, now: DateTime<Utc>) -> Verdict {
    let promise_ends = match p.state {
        State::PromisePending { last_day, .. } => Some(breaks_at(last_day, debtor.time_zone.tz())),
        _ => None,
    };
    // A debtor callable now stops being so when their window shuts: look
    // again then, or the queues count them callable all night.
    let window_shuts = p
        .callable_now
        .then(|| policy.compliance.call_window_closes(debtor, now))
        .flatten();
    let review_at = p
        .actions
        .iter()
        .map(|a| a.at)
        .chain(p.blocked.iter().filter_map(|b| b.refusal.clears_at))
        .chain(promise_ends)
        .chain(window_shuts)
        .filter(|&t| t > now)
        .min();
    // The call the plan holds back says why a queued debtor waits.
    let blocked_rule = p
        .blocked
        .iter()
        .find(|b| b.channel == Channel::Call)
        .map(|b| b.refusal.block.code())
        .or(match p.state {
            State::Stopped(flag) => Some(flag.name()),
            _ => None,
        })
        .filter(|_| p.queue.is_some() && !p.callable_now);
    Verdict {
        queue: p.queue.map(|q| policy.queue(q).id.clone()),
        callable: p.callable_now,
        priority: p.score.total,
        review_at,
        at: now,
        blocked_rule: blocked_rule.map(str::to_string),
    }
}

/// 403 when someone else holds the debtor: only the holder works them.
pub async fn not_leased_to_another(
    tx: &mut dyn Tx,
    debtor_id: i64,
    user: i64,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match tx.lease_on(debtor_id, now).await? {
        Some(lease) if lease.agent_id != user => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "leased_to_another",
            "this debtor is leased to another agent",
        )),
        _ => Ok(()),
    }
}

/// The 404 for a debtor id from the path (`id`) that names nobody.
pub fn no_debtor(id: i64) -> ApiError {
    ApiError::not_found("debtor_not_found", format!("no debtor {id}")).field("id")
}

/// A debtor and their history, held against other writers until `tx` ends.
pub async fn hold_debtor(
    tx: &mut dyn Tx,
    debtor_id: i64,
) -> Result<(Debtor, Vec<Event>), ApiError> {
    tx.hold(debtor_id)
        .await?
        .ok_or_else(|| no_debtor(debtor_id))
}

/// A debtor, their history and their plan now, for reading (writes hold the
/// debtor through `hold_debtor`).
pub async fn plan_debtor(
    state: &AppState,
    debtor_id: i64,
) -> Result<(Debtor, Vec<Event>, Plan), ApiError> {
    let debtor = (state.store.debtor(debtor_id).await?).ok_or_else(|| no_debtor(debtor_id))?;
    let history = state.store.history(debtor_id).await?;
    let p = plan(&debtor, &history, &state.policy, state.clock.now());
    Ok((debtor, history, p))
}
