//! `regua serve --ssh-listen ADDR`: the board over plain `ssh`, nothing to
//! install. A supervisor or admin logs in with their regua password (the
//! same failed-login limits as `POST /v1/sessions`) or a public key added
//! with `regua users add-key`; agents are refused. Each session gets a
//! token of its own and runs the board through `client` against this
//! server's HTTP address, as any remote board would; its frames go down
//! the channel and its size follows the client's window. Keys, theme,
//! thresholds and locale are the server's config file's; colour goes off
//! for a client that sends `NO_COLOR` (`ssh -o SetEnv=NO_COLOR=1`) or whose
//! terminal (`TERM` of its pty request) draws none. When the server stops,
//! each board ends as if quit, so the client's terminal is given back, and
//! says why.

use chrono::Utc;
use russh::keys::{Algorithm, PrivateKey, PublicKey};
use russh::server::{Auth, Handler, Msg, Session};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};

use crate::board::model::Board;
use crate::board::run::{self, Input};
use crate::client::Client;
use crate::config::BoardConfig;
use crate::console::keymap::Keymap;
use crate::console::theme::Theme;
use crate::domain::{Locale, Role, User};
use crate::server::app::{AppState, login_key};
use crate::server::auth::{hash_password, new_token, verify_password};
use crate::server::routes::sessions::{FAILURE_WINDOW_MINUTES, MAX_FAILURES};

/// What every SSH session shares.
pub struct Endpoint {
    pub state: AppState,
    /// This server's HTTP address, for the sessions' clients.
    pub api: String,
    pub keymap: Keymap,
    pub theme: Theme,
    pub limits: BoardConfig,
    pub locale: Locale,
    pub open: Arc<OpenBoards>,
    /// How long a connection may take to sign in (OpenSSH's
    /// `LoginGraceTime`): one that never does is let go.
    pub login_grace: Duration,
}

/// The login grace unless `REGUA_SSH_LOGIN_GRACE` says otherwise, as
/// OpenSSH's default.
pub const LOGIN_GRACE: Duration = Duration::from_secs(120);

/// The SSH boards open now: a stopping server waits for each to say
/// goodbye before the process ends.
#[derive(Default)]
pub struct OpenBoards(tokio::sync::watch::Sender<usize>);

/// One open board, counted until dropped.
struct OpenBoard(Arc<OpenBoards>);

impl OpenBoards {
    fn open(self: &Arc<Self>) -> OpenBoard {
        self.0.send_modify(|n| *n += 1);
        OpenBoard(self.clone())
    }

    /// Waits until every board has closed, or `limit` has passed.
    pub async fn closed(&self, limit: Duration) {
        let mut open = self.0.subscribe();
        let _ = tokio::time::timeout(limit, open.wait_for(|n| *n == 0)).await;
    }
}

impl Drop for OpenBoard {
    fn drop(&mut self) {
        self.0.0.send_modify(|n| *n -= 1);
    }
}

/// The host key at `path`, made (ed25519, mode 0600) the first time, so
/// clients see the same key on every start.
pub fn host_key(path: &Path) -> Result<PrivateKey, String> {
    let name = path.display();
    match std::fs::read_to_string(path) {
        Ok(text) => PrivateKey::from_openssh(text).map_err(|e| format!("{name}: {e}")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = PrivateKey::random(&mut rand::rng(), Algorithm::Ed25519)
                .map_err(|e| format!("making a host key: {e}"))?;
            let text = key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .map_err(|e| format!("{name}: {e}"))?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            let mut file = {
                use std::os::unix::fs::OpenOptionsExt;
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| format!("{name}: {e}"))?
            };
            file.write_all(text.as_bytes())
                .map_err(|e| format!("{name}: {e}"))?;
            Ok(key)
        }
        Err(e) => Err(format!("{name}: {e}")),
    }
}

/// How a supervisor may sign in: a password, or a key added with
/// `regua users add-key`.
fn methods() -> MethodSet {
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::Password);
    methods.push(MethodKind::PublicKey);
    methods
}

/// Serves SSH on `listener` until the task is dropped.
pub async fn serve(
    listener: tokio::net::TcpListener,
    key: PrivateKey,
    endpoint: Arc<Endpoint>,
) -> std::io::Result<()> {
    let grace = endpoint.login_grace;
    let config = Arc::new(russh::server::Config {
        keys: vec![key],
        methods: methods(),
        auth_rejection_time: Duration::from_secs(1),
        auth_rejection_time_initial: Some(Duration::ZERO),
        // A client that answers the keepalives stays however idle its
        // board; this bounds the wait for its first line, and for a
        // connection told to go that does not close.
        inactivity_timeout: Some(grace),
        keepalive_interval: Some(Duration::from_secs(30)),
        nodelay: true,
        ..Default::default()
    });
    loop {
        let (socket, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            // Out of descriptors, say: the connections open go on, and
            // new ones are taken again once some close.
            Err(e) => {
                tracing::warn!("ssh: accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let connection = Connection {
            endpoint: endpoint.clone(),
            peer: Some(peer),
            signed_in: Arc::default(),
            user: None,
            size: (80, 24),
            input: None,
            keys: Default::default(),
            channel: None,
            no_color: false,
        };
        tokio::spawn(within_grace(config.clone(), socket, connection, grace));
    }
}

/// Runs one connection, let go when it has not signed in within the
/// login grace: it would otherwise hold its socket and task for good,
/// answering keepalives.
async fn within_grace(
    config: Arc<russh::server::Config>,
    socket: tokio::net::TcpStream,
    connection: Connection,
    grace: Duration,
) {
    let signed_in = connection.signed_in.clone();
    let deadline = tokio::time::Instant::now() + grace;
    // A second handle on the socket, to cut it should the session not end
    // when told to (it reads nothing sent while a key exchange waits).
    let Ok((socket, spare)) = socket
        .into_std()
        .and_then(|s| Ok((s.try_clone()?, s)))
        .and_then(|(s, spare)| Ok((tokio::net::TcpStream::from_std(s)?, spare)))
    else {
        return;
    };
    let started = russh::server::run_stream(config, socket, connection);
    let Ok(Ok(session)) = tokio::time::timeout_at(deadline, started).await else {
        return;
    };
    let handle = session.handle();
    tokio::pin!(session);
    tokio::select! {
        _ = &mut session => return,
        () = tokio::time::sleep_until(deadline) => {}
    }
    if !signed_in.load(Ordering::Acquire) {
        tracing::info!("ssh: no login within the grace time: let go");
        let _ = handle
            .disconnect(
                russh::Disconnect::ByApplication,
                "no login within the grace time".into(),
                "en".into(),
            )
            .await;
        if tokio::time::timeout(Duration::from_secs(2), &mut session)
            .await
            .is_ok()
        {
            return;
        }
        let _ = spare.shutdown(std::net::Shutdown::Both);
    }
    let _ = session.await;
}

struct Connection {
    endpoint: Arc<Endpoint>,
    peer: Option<SocketAddr>,
    /// Set once a supervisor is let in.
    signed_in: Arc<AtomicBool>,
    user: Option<User>,
    size: (u16, u16),
    input: Option<UnboundedSender<Input>>,
    /// The channel's bytes as keys (pastes dropped).
    keys: crate::board::keys::Decoder,
    channel: Option<Channel<Msg>>,
    /// The client asked for no colour, or its terminal has none.
    no_color: bool,
}

/// Terminals that draw no colour at all.
fn colourless(term: &str) -> bool {
    matches!(term, "dumb" | "vt52" | "vt100" | "vt102" | "vt220")
}

/// A window size from the client, kept within what a terminal can be.
fn size(cols: u32, rows: u32) -> (u16, u16) {
    let fit = |n: u32, default: u16| {
        if n == 0 {
            default
        } else {
            u16::try_from(n).unwrap_or(u16::MAX)
        }
    };
    (fit(cols, 80), fit(rows, 24))
}

impl Connection {
    /// Checks a password as `POST /v1/sessions` does, limits included:
    /// the failures are counted in the same place, by name and address.
    async fn password(&self, name: &str, password: &str) -> Option<User> {
        let state = &self.endpoint.state;
        let now = state.clock.now();
        let ip = self.peer.map_or("ssh".to_string(), |a| a.ip().to_string());
        let key = login_key(name, ip);
        let window = chrono::Duration::minutes(FAILURE_WINDOW_MINUTES);
        {
            let mut failed = state.failed_logins.lock().expect("not poisoned");
            failed.retain(|_, (_, first)| now - *first < window);
            if failed
                .get(&key)
                .is_some_and(|(count, _)| *count >= MAX_FAILURES)
            {
                return None;
            }
        }
        let found = state.store.user_by_name(name).await.ok().flatten();
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            // Verify against something anyway: timing tells no names.
            None => (None, hash_password("not a password".into()).await),
        };
        let ok = verify_password(password.to_string(), hash).await && user.is_some();
        let mut failed = state.failed_logins.lock().expect("not poisoned");
        if ok {
            failed.remove(&key);
            user
        } else {
            failed.entry(key).or_insert((0, now)).0 += 1;
            None
        }
    }

    /// Only supervisors and admins get in.
    fn admit(&mut self, user: Option<User>) -> Auth {
        match user {
            Some(u) if matches!(u.role, Role::Supervisor | Role::Admin) => {
                self.user = Some(u);
                self.signed_in.store(true, Ordering::Release);
                Auth::Accept
            }
            Some(u) => {
                tracing::info!("ssh: {} refused: the board is for supervisors", u.name);
                Auth::reject()
            }
            None => Auth::reject(),
        }
    }
}

impl Handler for Connection {
    type Error = russh::Error;

    async fn auth_password(&mut self, user: &str, password: &str) -> Result<Auth, Self::Error> {
        let found = self.password(user, password).await;
        Ok(match self.admit(found) {
            // A mistyped password may be typed again (ssh asks three
            // times): russh otherwise drops password from what is left to
            // try, and the one typo ends the connection. The failed-login
            // limit and the second's wait per refusal still hold.
            Auth::Reject { .. } => Auth::Reject {
                proceed_with_methods: Some(methods()),
                partial_success: false,
            },
            accepted => accepted,
        })
    }

    async fn auth_publickey(
        &mut self,
        user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        let store = &self.endpoint.state.store;
        let Ok(Some((found, _))) = store.user_by_name(user).await else {
            return Ok(Auth::reject());
        };
        let keys = store.user_keys(found.id).await.unwrap_or_default();
        let known = keys.iter().any(|k| {
            PublicKey::from_openssh(k).is_ok_and(|k| k.key_data() == key.public_key.key_data())
        });
        Ok(self.admit(known.then_some(found)))
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: russh::server::ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        // One board per connection.
        if self.channel.is_some() {
            return Ok(());
        }
        self.channel = Some(channel);
        reply.accept().await;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = size(cols, rows);
        self.no_color |= colourless(term);
        session.channel_success(channel)?;
        Ok(())
    }

    /// `NO_COLOR` alone is taken (any value but empty, as locally); other
    /// variables are refused, as OpenSSH refuses what it does not accept.
    async fn env_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        if name == "NO_COLOR" {
            self.no_color |= !value.is_empty();
            session.channel_success(channel)?;
        } else {
            session.channel_failure(channel)?;
        }
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        cols: u32,
        rows: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.size = size(cols, rows);
        if let Some(tx) = &self.input {
            let _ = tx.send(Input::Resize(self.size.0, self.size.1));
        }
        Ok(())
    }

    async fn data(
        &mut self,
        _channel: ChannelId,
        data: &[u8],
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.input {
            for k in self.keys.feed(data) {
                let _ = tx.send(Input::Key(k));
            }
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = &self.input {
            let _ = tx.send(Input::Closed);
        }
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let Some(user) = self.user.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let (tx, rx) = unbounded_channel();
        let quit = tx.clone();
        self.input = Some(tx);
        let handle = session.handle();
        let endpoint = self.endpoint.clone();
        let size = self.size;
        let mut theme = endpoint.theme;
        theme.plain |= self.no_color;
        // Counted before the task runs: a stop right now waits for it too.
        let open = endpoint.open.open();
        tokio::spawn(async move {
            let _open = open;
            let (out_tx, mut out_rx) = unbounded_channel::<Vec<u8>>();
            let sender = handle.clone();
            let pump = tokio::spawn(async move {
                while let Some(bytes) = out_rx.recv().await {
                    if sender.data(channel, bytes).await.is_err() {
                        return;
                    }
                }
            });
            let said = match session_client(&endpoint, &user).await {
                Ok((client, token_hash)) => {
                    // The server stopping ends the board as a quit would.
                    let mut closing = endpoint.state.closing.subscribe();
                    let stopper = tokio::spawn(async move {
                        if closing.wait_for(|c| *c).await.is_ok() {
                            let _ = quit.send(Input::Closed);
                        }
                    });
                    let board = Board::new(
                        endpoint.locale,
                        endpoint.keymap.clone(),
                        endpoint.limits,
                        user.name.clone(),
                        "ssh".into(),
                        endpoint.state.clock.now(),
                    );
                    let s = run::Session {
                        client,
                        clock: endpoint.state.clock.clone(),
                        board,
                        theme,
                    };
                    let r = run::run(ChannelOut::new(out_tx.clone()), size, rx, s)
                        .await
                        .map_err(|e| e.to_string());
                    stopper.abort();
                    if *endpoint.state.closing.borrow() {
                        let _ = out_tx.send(b"regua: the server is stopping\r\n".to_vec());
                    }
                    // The token was this connection's alone. Ended in the
                    // store: the server may be refusing requests by now.
                    if let Err(e) = endpoint.state.end_session(&token_hash).await {
                        tracing::warn!("ssh board for {}: ending its token: {e:?}", user.name);
                    }
                    r
                }
                Err(e) => {
                    let _ = out_tx.send(format!("regua: {e}\r\n").into_bytes());
                    Err(e)
                }
            };
            // Everything written reaches the client before the channel ends.
            drop(out_tx);
            let _ = pump.await;
            if let Err(e) = &said {
                tracing::warn!("ssh board for {}: {e}", user.name);
            }
            let _ = handle
                .exit_status_request(channel, u32::from(said.is_err()))
                .await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }
}

/// A client of this server for `user`, with a session token of their own
/// (revoked when the board ends; at worst it lasts as long as any login's),
/// and the token's hash.
async fn session_client(endpoint: &Endpoint, user: &User) -> Result<(Client, Vec<u8>), String> {
    let state = &endpoint.state;
    let (token, hash) = new_token();
    let expires = Utc::now().max(state.clock.now()) + state.session_ttl;
    state
        .store
        .create_session(&hash, user.id, expires)
        .await
        .map_err(|e| e.to_string())?;
    let client = Client::new(&endpoint.api).map_err(|e| e.to_string())?;
    client.set_token(Some(token));
    Ok((client, hash))
}

/// The board's frames, sent down the channel a flush at a time.
struct ChannelOut {
    tx: UnboundedSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl ChannelOut {
    fn new(tx: UnboundedSender<Vec<u8>>) -> ChannelOut {
        ChannelOut {
            tx,
            buf: Vec::new(),
        }
    }
}

impl Write for ChannelOut {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        self.tx
            .send(std::mem::take(&mut self.buf))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "ssh channel closed"))
    }
}
