//! The way to any regua server, the embedded one included: the console and
//! the board speak only through here. Every answer is sanitized as it
//! arrives (see [`sanitize`]) before it becomes a typed value, so no view
//! can show a server's control characters. Live updates are in [`events`],
//! writes that must not be lost in [`outbox`], files in the data directory
//! in [`session`].

mod clean_de;
pub mod events;
pub mod outbox;
mod said;
pub mod sanitize;
pub mod session;

use reqwest::{RequestBuilder, Response, Url};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::fmt;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use crate::api::{
    DebtorSummary, DebtorView, ErrorBody, LeaseResponse, LeaseView, LoginRequest, LoginResponse,
    OutcomeRequest, OutcomeResponse, PaymentRequest, PaymentResponse, PlanView, QueueView,
    UserView,
};
use crate::domain::{Event, Locale};

pub use reqwest::Method;

/// A server that does not take the connection within this is down.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A request not answered within this has failed (the event stream, which
/// stays open, has its own idle limit).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A handle on one server. Cheap to clone; the clones share the session
/// token, so a login through one is seen by all.
#[derive(Clone)]
pub struct Client {
    /// Shared by every clone: moved when this process takes over the
    /// embedded server (`launch`), and watched by the live stream.
    base: Arc<tokio::sync::watch::Sender<Arc<str>>>,
    http: reqwest::Client,
    token: Arc<RwLock<Option<String>>>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server())
            .field("logged_in", &self.token().is_some())
            .finish()
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ClientError {
    /// The server could not be reached or did not answer in time.
    Network(String),
    /// The server answered with an error body (or a status without one).
    Api {
        status: u16,
        code: String,
        message: String,
        field: Option<String>,
        details: Option<Value>,
    },
    /// The server answered something this client does not understand.
    Decode(String),
    /// The server address is not an http(s) URL.
    Address(String),
}

impl ClientError {
    /// Retrying the same request cannot help: a 4xx other than 408, 429 and
    /// a 409 `in_flight` (the first attempt is still being answered), an
    /// answer not understood, a bad address. Network errors and 5xx may
    /// pass.
    pub fn is_final(&self) -> bool {
        match self {
            ClientError::Network(_) => false,
            ClientError::Api { status, code, .. } => {
                (400..500).contains(status)
                    && *status != 408
                    && *status != 429
                    && !(*status == 409 && code == "in_flight")
            }
            ClientError::Decode(_) | ClientError::Address(_) => true,
        }
    }

    /// The machine code of an API error.
    pub fn code(&self) -> Option<&str> {
        match self {
            ClientError::Api { code, .. } => Some(code),
            _ => None,
        }
    }
}

/// One line, fit for a status bar.
impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Network(why) => write!(f, "server unreachable: {why}"),
            ClientError::Api {
                message,
                field: Some(field),
                ..
            } => write!(f, "{message} ({field})"),
            ClientError::Api { message, .. } => f.write_str(message),
            ClientError::Decode(why) => write!(f, "unexpected answer from the server: {why}"),
            ClientError::Address(why) => write!(f, "not a server address: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// How `Network` begins when the server said nothing in time, or could not
/// be reached at all ([`ClientError::said`] says these again).
pub(crate) const NO_ANSWER: &str = "no answer in time";
pub(crate) const CANNOT_CONNECT: &str = "cannot connect";

fn network(e: reqwest::Error) -> ClientError {
    if e.is_timeout() {
        return ClientError::Network(NO_ANSWER.into());
    }
    // The innermost cause says it best ("Connection refused").
    let mut cause: &dyn std::error::Error = &e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    let why = if e.is_connect() {
        format!("{CANNOT_CONNECT} ({cause})")
    } else {
        cause.to_string()
    };
    ClientError::Network(sanitize::clean(&why).into_owned())
}

/// A fresh Idempotency-Key: 128 random bits in hex.
pub fn new_key() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// Percent-encoded, for a path segment or a query value (ids from a
/// server are data too).
pub(crate) fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A successful body, typed, every string sanitized as it is read. An empty
/// body is JSON `null` (which is what `()` reads).
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ClientError> {
    let bytes = if bytes.is_empty() { b"null" } else { bytes };
    let mut json = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(clean_de::Clean::new(&mut json)).map_err(|e| {
        let path = e.path().to_string();
        ClientError::Decode(format!("{path}: {}", e.into_inner()))
    })?;
    json.end().map_err(|e| ClientError::Decode(e.to_string()))?;
    Ok(value)
}

/// An error status: the server's error body, or the status alone.
fn api_error(status: reqwest::StatusCode, bytes: &[u8]) -> ClientError {
    match decode::<ErrorBody>(bytes) {
        Ok(ErrorBody { error }) => ClientError::Api {
            status: status.as_u16(),
            code: error.code,
            message: error.message,
            field: error.field,
            details: error.details,
        },
        Err(_) => {
            let text = String::from_utf8_lossy(bytes);
            let text: String = sanitize::clean(text.trim()).chars().take(200).collect();
            let reason = status.canonical_reason().unwrap_or("error");
            ClientError::Api {
                status: status.as_u16(),
                code: format!("http_{}", status.as_u16()),
                message: if text.is_empty() {
                    format!("{} {reason}", status.as_u16())
                } else {
                    format!("{} {reason}: {text}", status.as_u16())
                },
                field: None,
                details: None,
            }
        }
    }
}

/// Reads a whole answer: the typed body, or the error it carries.
async fn answer<T: DeserializeOwned>(response: Response) -> Result<T, ClientError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(network)?;
    if status.is_success() {
        decode(&bytes)
    } else {
        Err(api_error(status, &bytes))
    }
}

/// `server` as requests use it: `http://host:port` (a bare `host:port`
/// means http) without a trailing slash.
/// `server` as the address requests go to: `http://host:port`, or a bare
/// `host:port` meaning http; anything else is an `Address` error.
pub fn base_url(server: &str) -> Result<String, ClientError> {
    let server = server.trim().trim_end_matches('/');
    let with_scheme = if server.contains("://") {
        server.to_string()
    } else {
        format!("http://{server}")
    };
    let url =
        Url::parse(&with_scheme).map_err(|e| ClientError::Address(format!("{server}: {e}")))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(ClientError::Address(format!(
            "{server}: an http:// or https:// address is needed"
        )));
    }
    Ok(with_scheme)
}

impl Client {
    /// A client for the server at `server` (`http://host:port`; a bare
    /// `host:port` means http). Nothing is sent yet.
    pub fn new(server: &str) -> Result<Client, ClientError> {
        let base = base_url(server)?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("regua/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(network)?;
        Ok(Client {
            base: Arc::new(tokio::sync::watch::Sender::new(base.into())),
            http,
            token: Arc::default(),
        })
    }

    /// The server's base URL, as requests use it.
    pub fn server(&self) -> Arc<str> {
        self.base.borrow().clone()
    }

    /// Sends this client's requests, and every clone's, to `server` from
    /// now on; the token goes with them.
    pub fn move_to(&self, server: &str) -> Result<(), ClientError> {
        let base = base_url(server)?;
        self.base.send_replace(base.into());
        Ok(())
    }

    /// Tells of each `move_to`.
    pub(crate) fn moves(&self) -> tokio::sync::watch::Receiver<Arc<str>> {
        self.base.subscribe()
    }

    pub fn token(&self) -> Option<String> {
        self.token
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Uses a token kept from before (see [`session::load_token`]), or
    /// forgets it with `None`; every clone sees the change.
    pub fn set_token(&self, token: Option<String>) {
        *self.token.write().unwrap_or_else(PoisonError::into_inner) = token;
    }

    /// A request to `path` on this server, with the token if there is one,
    /// and no time limit (the caller sets one).
    pub(crate) fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let request = self
            .http
            .request(method, format!("{}{path}", self.server()));
        match self.token() {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    async fn call<T: DeserializeOwned>(&self, request: RequestBuilder) -> Result<T, ClientError> {
        let response = request
            .timeout(REQUEST_TIMEOUT)
            .send()
            .await
            .map_err(network)?;
        answer(response).await
    }

    /// `GET path`, the answer sanitized and typed.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        self.call(self.request(Method::GET, path)).await
    }

    /// Any call: `body` as JSON when given, the `Idempotency-Key` when
    /// given (writes that create things need one, the same one with the
    /// same body on every retry: the server compares the bytes). An empty
    /// answer reads as `()` or `Value::Null`.
    pub async fn send<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<&B>,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let body = body.map(|b| serde_json::to_vec(b).expect("request bodies serialize"));
        self.send_bytes(method, path, body, idempotency_key, None)
            .await
    }

    /// [`Client::send`] with the JSON already written: the server compares
    /// an Idempotency-Key's bodies byte for byte, so a retry sends these
    /// very bytes again. `recorded_ago` says how long ago, on this
    /// machine's clock, what the request tells of happened (see
    /// [`crate::api::RECORDED_AGO`]).
    pub(crate) async fn send_bytes<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        idempotency_key: Option<&str>,
        recorded_ago: Option<chrono::Duration>,
    ) -> Result<T, ClientError> {
        let mut request = self.request(method, path);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body);
        }
        if let Some(key) = idempotency_key {
            request = request.header("Idempotency-Key", key);
        }
        if let Some(ago) = recorded_ago {
            request = request.header(
                crate::api::RECORDED_AGO,
                ago.num_seconds().max(0).to_string(),
            );
        }
        self.call(request).await
    }

    /// Logs in and keeps the token for every later call (and every clone).
    pub async fn login(&self, user: &str, password: &str) -> Result<LoginResponse, ClientError> {
        let body = LoginRequest {
            username: user.to_string(),
            password: password.to_string(),
        };
        let login: LoginResponse = self
            .send(Method::POST, "/v1/sessions", Some(&body), None)
            .await?;
        self.set_token(Some(login.token.clone()));
        Ok(login)
    }

    /// Logs out: the server forgets the token, and so does this client.
    pub async fn logout(&self) -> Result<(), ClientError> {
        let r = self
            .send::<(), ()>(Method::DELETE, "/v1/sessions/current", None, None)
            .await;
        self.set_token(None);
        r
    }

    pub async fn me(&self) -> Result<UserView, ClientError> {
        self.get("/v1/me").await
    }

    /// The queues, named in `locale`.
    pub async fn queues(&self, locale: Locale) -> Result<Vec<QueueView>, ClientError> {
        self.get(&format!("/v1/queues?locale={}", locale.code()))
            .await
    }

    /// The next debtor of a queue, held for this agent; `None` when nobody
    /// in it may be called now.
    pub async fn lease(&self, queue_id: &str) -> Result<Option<LeaseResponse>, ClientError> {
        let path = format!("/v1/queues/{}/lease", encode(queue_id));
        match self.send::<(), _>(Method::POST, &path, None, None).await {
            Ok(leased) => Ok(Some(leased)),
            Err(e @ ClientError::Api { status: 404, .. }) if e.code() == Some("queue_empty") => {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub async fn renew(&self, lease_id: i64) -> Result<LeaseView, ClientError> {
        let path = format!("/v1/leases/{lease_id}/renew");
        self.send::<(), _>(Method::POST, &path, None, None).await
    }

    pub async fn release(&self, lease_id: i64) -> Result<(), ClientError> {
        let path = format!("/v1/leases/{lease_id}");
        self.send::<(), _>(Method::DELETE, &path, None, None).await
    }

    /// The full record, the document masked (the look is audited).
    pub async fn debtor(&self, id: i64) -> Result<DebtorView, ClientError> {
        self.get(&format!("/v1/debtors/{id}")).await
    }

    /// The full record with the document shown (audited as a reveal).
    pub async fn reveal_debtor(&self, id: i64) -> Result<DebtorView, ClientError> {
        self.get(&format!("/v1/debtors/{id}?reveal=true")).await
    }

    pub async fn search(&self, q: &str, limit: u32) -> Result<Vec<DebtorSummary>, ClientError> {
        self.get(&format!("/v1/debtors?q={}&limit={limit}", encode(q)))
            .await
    }

    pub async fn timeline(&self, id: i64) -> Result<Vec<Event>, ClientError> {
        self.get(&format!("/v1/debtors/{id}/timeline")).await
    }

    /// The debtor's plan, its reasons in `locale`.
    pub async fn plan(&self, id: i64, locale: Locale) -> Result<PlanView, ClientError> {
        self.get(&format!("/v1/debtors/{id}/plan?locale={}", locale.code()))
            .await
    }

    /// Records an outcome once per key: a retry with the same key gets the
    /// first answer again. The console goes through the [`outbox`] instead,
    /// so nothing is lost while the server is away.
    pub async fn record_outcome(
        &self,
        debtor_id: i64,
        idempotency_key: &str,
        outcome: &OutcomeRequest,
    ) -> Result<OutcomeResponse, ClientError> {
        let path = format!("/v1/debtors/{debtor_id}/outcomes");
        self.send(Method::POST, &path, Some(outcome), Some(idempotency_key))
            .await
    }

    pub async fn payment(
        &self,
        idempotency_key: &str,
        payment: &PaymentRequest,
    ) -> Result<PaymentResponse, ClientError> {
        self.send(
            Method::POST,
            "/v1/payments",
            Some(payment),
            Some(idempotency_key),
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(status: u16, code: &str) -> ClientError {
        ClientError::Api {
            status,
            code: code.into(),
            message: "m".into(),
            field: None,
            details: None,
        }
    }

    #[test]
    fn what_is_final() {
        assert!(api(400, "invalid").is_final());
        assert!(api(401, "unauthorized").is_final());
        assert!(api(422, "invalid").is_final());
        assert!(api(409, "conflict").is_final());
        assert!(!api(409, "in_flight").is_final());
        assert!(!api(408, "http_408").is_final());
        assert!(!api(429, "too_many_attempts").is_final());
        assert!(!api(500, "internal").is_final());
        assert!(!api(503, "http_503").is_final());
        assert!(!ClientError::Network("refused".into()).is_final());
        assert!(ClientError::Decode("x".into()).is_final());
    }

    #[test]
    fn error_bodies_are_read_and_cleaned() {
        let body = json!({"error": {"code": "invalid", "message": "bad\u{1b}[2J date", "field": "promise.due_date"}});
        let e = api_error(
            reqwest::StatusCode::UNPROCESSABLE_ENTITY,
            body.to_string().as_bytes(),
        );
        assert_eq!(e.to_string(), "bad� date (promise.due_date)");
        assert_eq!(e.code(), Some("invalid"));
        let e = api_error(
            reqwest::StatusCode::BAD_GATEWAY,
            b"<html>upstream\x1b]0;x\x07 down</html>",
        );
        assert_eq!(
            e,
            ClientError::Api {
                status: 502,
                code: "http_502".into(),
                message: "502 Bad Gateway: <html>upstream� down</html>".into(),
                field: None,
                details: None,
            }
        );
        assert_eq!(
            api_error(reqwest::StatusCode::SERVICE_UNAVAILABLE, b"").to_string(),
            "503 Service Unavailable"
        );
    }

    #[test]
    fn answers_are_cleaned_before_they_are_typed() {
        let user: UserView =
            decode(br#"{"id": 1, "name": "ana\u001b]52;c;aGk=\u0007", "role": "agent"}"#).unwrap();
        assert_eq!(user.name, "ana�");
        let e = decode::<UserView>(br#"{"id": "x", "name": "a", "role": "agent"}"#).unwrap_err();
        assert!(
            matches!(&e, ClientError::Decode(m) if m.starts_with("id:")),
            "{e}"
        );
        decode::<()>(b"").unwrap();
    }

    #[test]
    fn addresses_and_segments() {
        assert_eq!(
            &*Client::new("127.0.0.1:7878/").unwrap().server(),
            "http://127.0.0.1:7878"
        );
        let client = Client::new("https://regua.example/").unwrap();
        assert_eq!(&*client.server(), "https://regua.example");
        // A clone follows the one it came from when that moves.
        let clone = client.clone();
        client.move_to("127.0.0.1:9/").unwrap();
        assert_eq!(&*clone.server(), "http://127.0.0.1:9");
        assert!(client.move_to("ftp://x").is_err());
        assert_eq!(
            &*clone.server(),
            "http://127.0.0.1:9",
            "a bad address moves nothing"
        );
        assert!(matches!(
            Client::new("ftp://x"),
            Err(ClientError::Address(_))
        ));
        assert_eq!(encode("late_30"), "late_30");
        assert_eq!(encode("a/b?c d"), "a%2Fb%3Fc%20d");
        let key = new_key();
        assert_eq!(key.len(), 32);
        assert_ne!(key, new_key());
    }

    #[test]
    fn clones_share_the_token() {
        let a = Client::new("127.0.0.1:1").unwrap();
        let b = a.clone();
        a.set_token(Some("t".into()));
        assert_eq!(b.token().as_deref(), Some("t"));
        assert_eq!(
            format!("{b:?}"),
            r#"Client { server: "http://127.0.0.1:1", logged_in: true }"#,
            "the token never shows"
        );
    }
}
