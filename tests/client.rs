//! The client over real HTTP: a real server on 127.0.0.1 over a SQLite
//! file, with a clock the test sets (a Tuesday morning in São Paulo, so
//! calls are allowed). Each server runs on a runtime of its own, so a test
//! can kill it the way a crash would (every connection dropped at once) and
//! start another on the same port and file.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

use regua::api::{OutcomeRequest, PaymentRequest};
use regua::client::events::{Live, subscribe};
use regua::client::outbox::{Gist, Outbox, OutboxKind, OutboxStatus};
use regua::client::{Client, ClientError, Method, session};
use regua::domain::{Clock, Disposition, EventKind, Locale, Role};
use regua::schedule::default_policy;
use regua::server::app::AppState;
use regua::server::store::connect;

struct TestClock(DateTime<Utc>);

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        self.0
    }
}

/// Tuesday 2026-03-10, 10:00 in São Paulo.
fn morning() -> DateTime<Utc> {
    chrono_tz::America::Sao_Paulo
        .with_ymd_and_hms(2026, 3, 10, 10, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

#[derive(Clone, Copy)]
enum Seed {
    /// The demo portfolio and users.
    Demo,
    /// One agent, `ana`, and nobody to call.
    Empty,
    /// Whatever the file holds already.
    None,
}

struct Server {
    addr: SocketAddr,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Server {
    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops it the hard way: every connection drops.
    fn kill(mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A server over `db`, on `at` (a free port when `None`).
async fn start(db: &Path, at: Option<SocketAddr>, seed: Seed) -> Server {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let url = format!("sqlite://{}", db.display());
    let addr = runtime
        .spawn(async move {
            let store = connect(&url).await.unwrap();
            let state = AppState::new(store, default_policy(), Arc::new(TestClock(morning())));
            match seed {
                Seed::Demo => {
                    regua::server::seed_demo(&state, 80, 3).await.unwrap();
                }
                Seed::Empty => {
                    let hash = regua::server::auth::hash_password("demo".into()).await;
                    state
                        .store
                        .create_user("ana", Role::Agent, &hash, morning())
                        .await
                        .unwrap();
                }
                Seed::None => {}
            }
            let at = at.unwrap_or_else(|| "127.0.0.1:0".parse().unwrap());
            // The port of a server just killed may take a moment to free.
            let deadline = Instant::now() + Duration::from_secs(5);
            let listener = loop {
                match tokio::net::TcpListener::bind(at).await {
                    Ok(listener) => break listener,
                    Err(e) if Instant::now() < deadline => {
                        eprintln!("bind {at}: {e}; again");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                    Err(e) => panic!("bind {at}: {e}"),
                }
            };
            let addr = listener.local_addr().unwrap();
            tokio::spawn(regua::server::serve(
                listener,
                state,
                std::future::pending(),
            ));
            addr
        })
        .await
        .unwrap();
    Server {
        addr,
        runtime: Some(runtime),
    }
}

fn db(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("regua.db")
}

async fn logged_in(server: &str, user: &str) -> Client {
    let client = Client::new(server).unwrap();
    client.login(user, "demo").await.unwrap();
    client
}

/// A debtor leased to `client`'s agent.
async fn lease_any(client: &Client) -> (i64, i64) {
    for q in client.queues(Locale::En).await.unwrap() {
        if q.callable > 0
            && let Some(leased) = client.lease(&q.id).await.unwrap()
        {
            return (leased.lease.id, leased.debtor.id);
        }
    }
    panic!("nobody to lease");
}

fn outcome(disposition: Disposition, note: Option<&str>) -> OutcomeRequest {
    OutcomeRequest {
        note: note.map(String::from),
        ..OutcomeRequest::of(disposition)
    }
}

/// The notes of the debtor's outcomes, oldest first.
/// A server on a file of the demo portfolio, ana signed in to it with a
/// debtor leased, how many outcomes they had, and a data directory.
struct Desk {
    dir: tempfile::TempDir,
    data: tempfile::TempDir,
    server: Server,
    ana: Client,
    debtor: i64,
    before: usize,
}

async fn desk() -> Desk {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Demo).await;
    let ana = logged_in(&server.url(), "ana").await;
    let (_, debtor) = lease_any(&ana).await;
    let before = notes(&ana, debtor).await.len();
    Desk {
        dir,
        data,
        server,
        ana,
        debtor,
        before,
    }
}

/// The debtor's outcomes are those `before` and one more, with `note`.
async fn assert_one_more_note(client: &Client, debtor: i64, before: usize, note: &str) {
    let all = notes(client, debtor).await;
    assert_eq!(all.len(), before + 1, "{all:?}");
    assert_eq!(all.last().unwrap().as_deref(), Some(note));
}

async fn notes(client: &Client, debtor: i64) -> Vec<Option<String>> {
    client
        .timeline(debtor)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::Outcome { note, .. } => Some(note.map(String::from)),
            _ => None,
        })
        .collect()
}

fn api_code(e: &ClientError) -> (u16, &str) {
    match e {
        ClientError::Api { status, code, .. } => (*status, code),
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_works_a_debtor_through_the_client() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Demo).await;
    let ana = Client::new(&server.url()).unwrap();
    let same = ana.clone();
    let login = ana.login("ana", "demo").await.unwrap();
    assert_eq!(same.token(), Some(login.token), "clones share the login");
    let me = same.me().await.unwrap();
    assert_eq!((me.name.as_str(), me.role), ("ana", Role::Agent));

    let (lease, debtor) = lease_any(&ana).await;
    assert!(ana.renew(lease).await.unwrap().expires_at > morning());
    let record = ana.debtor(debtor).await.unwrap();
    assert!(!record.document_revealed && record.document.contains('*'));
    let revealed = ana.reveal_debtor(debtor).await.unwrap();
    assert!(revealed.document_revealed && !revealed.document.contains('*'));
    let first_name = record.name.split(' ').next().unwrap();
    let found = ana.search(first_name, 100).await.unwrap();
    let hit = found
        .iter()
        .find(|f| f.id == debtor)
        .expect("found by name");
    assert_eq!(hit.external_id, record.external_id);
    assert!(hit.document.contains('*'), "masked in lists");
    assert!(ana.plan(debtor, Locale::PtBr).await.unwrap().callable_now);

    // Once per key, and the note comes back harmless: lines kept, no escape.
    let before = notes(&ana, debtor).await.len();
    let note = "paga dia 15\r\n\u{1b}]52;c;cm0gLXJmIC8=\u{7}ligar \u{1b}[2Jde novo\u{202E}";
    let request = outcome(Disposition::NoAnswer, Some(note));
    let first = ana.record_outcome(debtor, "k-1", &request).await.unwrap();
    let again = ana.record_outcome(debtor, "k-1", &request).await.unwrap();
    assert_eq!(first, again, "a retry gets the first answer");
    let all = notes(&ana, debtor).await;
    assert_eq!(all.len(), before + 1, "recorded once");
    assert_eq!(
        all.last().unwrap().as_deref(),
        Some("paga dia 15\n�ligar �de novo")
    );
    let other = outcome(Disposition::Refused, None);
    let e = ana.record_outcome(debtor, "k-1", &other).await.unwrap_err();
    assert_eq!(api_code(&e), (422, "invalid"));
    assert!(e.is_final());
    assert!(e.to_string().contains("(Idempotency-Key)"), "{e}");

    ana.release(lease).await.unwrap();
    let e = ana.release(lease).await.unwrap_err();
    assert_eq!(api_code(&e), (404, "lease_not_found"));
    let e = ana.debtor(999_999).await.unwrap_err();
    assert_eq!(api_code(&e), (404, "debtor_not_found"));
    let e = ana.lease("no/such queue").await.unwrap_err();
    assert_eq!(api_code(&e), (404, "unknown_queue"));

    // Payments are for supervisors: the answer says so.
    let payment = PaymentRequest {
        debtor_id: debtor,
        amount_minor: 100,
        paid_at: None,
    };
    let e = ana.payment("p-1", &payment).await.unwrap_err();
    assert_eq!(api_code(&e), (403, "forbidden"));
    let admin = logged_in(&server.url(), "admin").await;
    let paid = admin.payment("p-1", &payment).await.unwrap();
    assert_eq!((paid.debtor_id, paid.amount_minor), (debtor, 100));

    let e = Client::new(&server.url())
        .unwrap()
        .login("ana", "nope")
        .await
        .unwrap_err();
    assert_eq!(api_code(&e), (401, "bad_credentials"));
    let e = Client::new(&server.url()).unwrap().me().await.unwrap_err();
    assert_eq!(api_code(&e), (401, "unauthorized"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_queue_is_none_and_a_dead_server_is_noticed_fast() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Empty).await;
    let ana = logged_in(&server.url(), "ana").await;
    let queue = &ana.queues(Locale::En).await.unwrap()[0];
    assert_eq!(ana.lease(&queue.id).await.unwrap(), None);
    assert_eq!(ana.search("anyone", 10).await.unwrap(), vec![]);

    // The embedded server's address, found while it answers.
    let data = tempfile::tempdir().unwrap();
    session::write_server_address(data.path(), &server.url()).unwrap();
    assert_eq!(session::live_server(data.path()).await, Some(server.url()));

    server.kill();
    let started = Instant::now();
    let e = ana.me().await.unwrap_err();
    assert!(matches!(e, ClientError::Network(_)), "{e:?}");
    assert!(!e.is_final());
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(e.to_string().starts_with("server unreachable"), "{e}");
    assert_eq!(session::live_server(data.path()).await, None);
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Live>) -> Live {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("something within 15 s")
        .expect("the subscription runs")
}

/// A stream whose token is logged out elsewhere says signed out, not a
/// drop: the console tells the agent to sign in again rather than wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_whose_session_ends_elsewhere_says_signed_out() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Demo).await;
    let ana = logged_in(&server.url(), "ana").await;
    let (live_tx, mut live) = mpsc::unbounded_channel();
    let _follow = subscribe(ana.clone(), None, live_tx);
    assert_eq!(next(&mut live).await, Live::Connected);
    let elsewhere = Client::new(&server.url()).unwrap();
    elsewhere.set_token(ana.token());
    elsewhere.logout().await.unwrap();
    // The stream ends with its session; opened again, it is refused.
    let ended = Instant::now();
    let mut seen = Vec::new();
    loop {
        let l = next(&mut live).await;
        if l == Live::SignedOut {
            break;
        }
        assert!(
            matches!(l, Live::Disconnected(_)) && ended.elapsed() < Duration::from_secs(5),
            "{l:?} after {seen:?}"
        );
        seen.push(l);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_events_resume_after_the_server_comes_back() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Demo).await;
    let addr = server.addr;
    let ana = logged_in(&server.url(), "ana").await;
    let sofia = logged_in(&server.url(), "sofia").await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = subscribe(sofia, None, tx);
    assert_eq!(next(&mut rx).await, Live::Connected);

    let (_, debtor) = lease_any(&ana).await;
    let recorded = ana
        .record_outcome(debtor, "live-1", &outcome(Disposition::NoAnswer, None))
        .await
        .unwrap();
    // Agent states pass by too; the outcome is the one followed here.
    let first = loop {
        match next(&mut rx).await {
            Live::Event(e) if e.kind == "outcome_recorded" => break e,
            Live::Event(_) => {}
            other => panic!("an event, not {other:?}"),
        }
    };
    assert_eq!(
        (first.kind.as_str(), first.debtor_id),
        ("outcome_recorded", Some(debtor))
    );
    assert_eq!(first.body["outcome_id"], recorded.id);

    server.kill();
    assert!(matches!(next(&mut rx).await, Live::Disconnected(_)));
    // Long enough for the subscription to be waiting to retry.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let server = start(&db(&dir), Some(addr), Seed::None).await;
    // Recorded before the subscription is back: it must not be missed.
    ana.record_outcome(debtor, "live-2", &outcome(Disposition::LeftMessage, None))
        .await
        .unwrap();
    let second = loop {
        match next(&mut rx).await {
            Live::Event(e) if e.kind == "outcome_recorded" => break e,
            Live::Event(_) | Live::Connected | Live::Disconnected(_) => {}
            Live::Reset => panic!("nothing was dropped from the feed"),
            Live::SignedOut => panic!("the token lives in the database, which stayed"),
        }
    };
    assert_eq!(second.kind, "outcome_recorded");
    assert!(second.id > first.id);
    assert_eq!(second.body["disposition"], "left_message");

    // The subscription ends when nobody listens.
    drop(rx);
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("ends")
        .unwrap();
    drop(server);
}

/// Reports until one satisfies `done`.
async fn until(
    rx: &mut mpsc::UnboundedReceiver<OutboxStatus>,
    done: impl Fn(&OutboxStatus) -> bool,
) -> OutboxStatus {
    loop {
        let status = tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("a report within 30 s")
            .expect("the sender runs");
        if done(&status) {
            return status;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_delivers_once_after_the_server_comes_back() {
    let Desk {
        dir,
        data,
        server,
        ana,
        debtor,
        before,
    } = desk().await;
    let addr = server.addr;
    server.kill();

    // Recorded while the server is down, 40 minutes before it comes back
    // (the console's clock), then the console quits.
    let recorded = chrono::Utc::now() - chrono::Duration::minutes(40);
    let outbox = Outbox::open(data.path(), Locale::En)
        .await
        .unwrap()
        .with_clock(Arc::new(regua::domain::ShiftedClock::starting_at(recorded)));
    let body = json!({ "disposition": "no_answer", "note": "sem resposta" });
    let id = outbox
        .enqueue(
            OutboxKind::Outcome { debtor_id: debtor },
            "o-1",
            body.clone(),
            &Gist {
                about: Some("Maria".into()),
                ..Gist::default()
            },
        )
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sender = outbox.clone().run(ana.clone(), tx);
    let status = until(&mut rx, |s| s.last_error.is_some()).await;
    assert_eq!((status.waiting, status.failed), (1, 0));
    assert!(
        status.last_error.unwrap().starts_with("server unreachable"),
        "the cause is told"
    );
    sender.abort();
    let _ = sender.await;
    drop(outbox);

    // The console starts again, then the server comes back.
    let outbox = Outbox::open(data.path(), Locale::En).await.unwrap();
    let kept = outbox.items().await.unwrap();
    assert_eq!(kept.len(), 1);
    assert!(kept[0].attempts >= 1 && !kept[0].failed);
    assert_eq!(kept[0].gist.about.as_deref(), Some("Maria"));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _sender = outbox.clone().run(ana.clone(), tx);
    let server = start(&db(&dir), Some(addr), Seed::None).await;
    let status = until(&mut rx, |s| s.delivered.is_some()).await;
    assert_eq!(
        (status.waiting, status.failed, status.last_error),
        (0, 0, None)
    );
    let delivered = status.delivered.unwrap();
    assert_eq!(
        (delivered.id, delivered.kind),
        (id, OutboxKind::Outcome { debtor_id: debtor })
    );
    assert_eq!(delivered.answer["debtor_id"], debtor);
    assert!(outbox.items().await.unwrap().is_empty());
    // Dated when it was recorded, on the server's clock: its age on the
    // console's, whatever either clock says the time is.
    let at: DateTime<Utc> =
        serde_json::from_value(delivered.answer["recorded_at"].clone()).unwrap();
    let age = morning() - at;
    assert!(
        age > chrono::Duration::minutes(39) && age < chrono::Duration::minutes(41),
        "{age}"
    );

    // Exactly once, even when the same key comes again.
    let path = format!("/v1/debtors/{debtor}/outcomes");
    let again: Value = ana
        .send(Method::POST, &path, Some(&body), Some("o-1"))
        .await
        .unwrap();
    assert_eq!(again, delivered.answer);
    assert_one_more_note(&ana, debtor, before, "sem resposta").await;
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_write_is_kept_as_failed_and_the_rest_go_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Demo).await;
    let ana = logged_in(&server.url(), "ana").await;
    let (_, debtor) = lease_any(&ana).await;
    let outbox = Outbox::open(data.path(), Locale::PtBr).await.unwrap();
    let kind = OutboxKind::Outcome { debtor_id: debtor };
    let bad = outbox
        .enqueue(
            kind.clone(),
            "bad",
            json!({ "disposition": "no_answer", "mood": "grumpy" }),
            &Gist::default(),
        )
        .await
        .unwrap();
    let good = outbox
        .enqueue(
            kind.clone(),
            "good",
            json!({ "disposition": "no_answer" }),
            &Gist::default(),
        )
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _sender = outbox.clone().run(ana.clone(), tx);
    // The refusal is reported with what was refused: the console stops
    // showing that debtor's outcome as recorded.
    let status = until(&mut rx, |s| s.refused.is_some()).await;
    assert_eq!((status.refused, status.failed), (Some(kind.clone()), 1));
    let status = until(&mut rx, |s| s.delivered.is_some()).await;
    assert_eq!(
        status.delivered.unwrap().id,
        good,
        "the refusal blocks nothing"
    );
    assert_eq!((status.waiting, status.failed), (0, 1));

    let kept = outbox.items().await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!((kept[0].id, kept[0].failed), (bad, true));
    let message = kept[0].last_error.clone().unwrap();
    // Kept as the agent reads it: the refusal in their language, the
    // server's own words for what it refused.
    assert!(
        message.starts_with("o servidor recusou") && message.contains("mood"),
        "{message}"
    );

    // Sent again, refused again, still kept; discarded only when asked.
    assert!(outbox.retry(bad).await.unwrap());
    let status = until(&mut rx, |s| s.last_error.is_some()).await;
    assert_eq!((status.waiting, status.failed), (0, 1));
    assert_eq!(status.last_error.as_deref(), Some(message.as_str()));
    assert_eq!(outbox.items().await.unwrap()[0].attempts, 2);
    assert!(outbox.discard(bad).await.unwrap());
    until(&mut rx, |s| s.failed == 0 && s.waiting == 0).await;
    assert!(outbox.items().await.unwrap().is_empty());
}

/// The embedded default on one data directory: two reguas started at once
/// share one server, and when the one running it quits (the console) the
/// other (the board) runs it on, with the same token and database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_regua_on_anothers_server_takes_it_over_when_that_one_quits() {
    use regua::launch::{Options, connect};
    let dir = tempfile::tempdir().unwrap();
    let options = |demo_user| Options {
        server: None,
        user: None,
        data_dir: dir.path().to_path_buf(),
        policy: default_policy(),
        demo_user,
        clock: Arc::new(TestClock(morning())),
    };
    let (a, b) = tokio::join!(connect(options("ana")), connect(options("sofia")));
    let (a, b) = (a.unwrap(), b.unwrap());
    let en = regua::domain::Locale::En;
    let mut labels = [a.label(en), b.label(en)];
    labels.sort_unstable();
    assert_eq!(labels, ["embedded", "embedded (shared)"], "one server");
    assert_eq!(a.client.server(), b.client.server());
    let (host, other) = if a.label(en) == "embedded" {
        (a, b)
    } else {
        (b, a)
    };
    let first = host.client.server();
    let (live_tx, mut live) = mpsc::unbounded_channel();
    let _follow = subscribe(other.client.clone(), None, live_tx);
    assert_eq!(next(&mut live).await, Live::Connected);
    let gone = Instant::now();
    host.leave().await;
    let me = loop {
        if other.client.server() != first
            && let Ok(me) = other.client.me().await
        {
            break me;
        }
        assert!(
            gone.elapsed() < Duration::from_secs(15),
            "still no server 15 s after the first quit"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let moved = Instant::now();
    eprintln!("taken over {:?} after the first quit", gone.elapsed());
    assert_eq!(me.name, other.user.name, "the same token");
    // The live stream follows.
    while !matches!(next(&mut live).await, Live::Connected) {}
    eprintln!("live again {:?} after the move", moved.elapsed());
    assert_eq!(
        session::read_server_address(dir.path()).as_deref(),
        Some(&*other.client.server())
    );
    // A third joins the server the second runs now, and leaving does not
    // stop it.
    let third = connect(options("ana")).await.unwrap();
    assert_eq!(third.label(en), "embedded (shared)");
    assert_eq!(third.client.server(), other.client.server());
    third.leave().await;
    other.client.me().await.unwrap();
    other.leave().await;
    assert_eq!(session::read_server_address(dir.path()), None);
}

/// A client moved to another server (a takeover of the embedded one) has
/// its live stream try the new one at once, not after its backoff, which
/// has grown while the old one was gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_stream_follows_its_client_to_another_server() {
    let dir = tempfile::tempdir().unwrap();
    let server = start(&db(&dir), None, Seed::Empty).await;
    let ana = logged_in(&server.url(), "ana").await;
    let gone = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    ana.move_to(&format!("http://{gone}")).unwrap();
    let (tx, mut live) = mpsc::unbounded_channel();
    let _follow = subscribe(ana.clone(), None, tx);
    // Three failures: it now waits 2 s before the next try.
    for _ in 0..3 {
        assert!(matches!(next(&mut live).await, Live::Disconnected(_)));
    }
    let moved = Instant::now();
    ana.move_to(&server.url()).unwrap();
    assert_eq!(next(&mut live).await, Live::Connected);
    assert!(
        moved.elapsed() < Duration::from_millis(1500),
        "connected {:?} after the move",
        moved.elapsed()
    );
}

/// A data directory another user (or the same user on another server)
/// used: their writes are kept for them, never sent under this token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_users_writes_wait_for_them() {
    let Desk {
        dir: _dir,
        data,
        server,
        ana,
        debtor,
        before,
    } = desk().await;
    let bruno = logged_in(&server.url(), "bruno").await;
    let as_ana = format!("ana@{}", server.url());
    let kind = OutboxKind::Outcome { debtor_id: debtor };
    let body = json!({ "disposition": "no_answer", "note": "de ana" });
    let outbox = Outbox::open(data.path(), Locale::PtBr).await.unwrap();
    let id = outbox
        .for_owner(as_ana.clone())
        .enqueue(
            kind,
            "ana-1",
            body,
            &Gist {
                about: Some("Maria".into()),
                ..Gist::default()
            },
        )
        .await
        .unwrap();

    // Bruno signs in here: ana's write is counted apart and not sent.
    let theirs = Outbox::open(data.path(), Locale::PtBr)
        .await
        .unwrap()
        .for_owner(format!("bruno@{}", server.url()));
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sender = theirs.clone().run(bruno.clone(), tx);
    let status = until(&mut rx, |_| true).await;
    assert_eq!((status.waiting, status.failed, status.others), (0, 0, 1));
    let kept = theirs.items().await.unwrap();
    assert_eq!(kept[0].other_owner.as_deref(), Some(as_ana.as_str()));
    assert!(!theirs.retry(id).await.unwrap());
    assert!(!theirs.discard(id).await.unwrap());
    // Ana on another server is someone else too.
    let elsewhere = Outbox::open(data.path(), Locale::PtBr)
        .await
        .unwrap()
        .for_owner("ana@embedded".into());
    let (tx2, mut rx2) = mpsc::unbounded_channel();
    let other = elsewhere.run(ana.clone(), tx2);
    assert_eq!(until(&mut rx2, |_| true).await.others, 1);
    other.abort();
    tokio::time::sleep(Duration::from_millis(300)).await;
    sender.abort();
    assert_eq!(notes(&ana, debtor).await.len(), before, "nothing was sent");

    // Ana comes back to this server: it goes, as hers.
    let mine = Outbox::open(data.path(), Locale::PtBr)
        .await
        .unwrap()
        .for_owner(as_ana);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _sender = mine.clone().run(ana.clone(), tx);
    let status = until(&mut rx, |s| s.delivered.is_some()).await;
    assert_eq!(status.delivered.unwrap().id, id);
    assert_one_more_note(&ana, debtor, before, "de ana").await;
    drop(server);
}

/// The server forgets a key after 7 days: a write tried before then, with
/// no answer, may have been recorded. It waits for the agent to look.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_write_already_tried_waits_for_the_agent_to_look() {
    let Desk {
        dir,
        data,
        server,
        ana,
        debtor,
        before,
    } = desk().await;
    let addr = server.addr;
    server.kill();

    // Recorded and tried a week ago, with the server out of reach.
    let week_ago = Outbox::open(data.path(), Locale::En)
        .await
        .unwrap()
        .with_clock(Arc::new(TestClock(Utc::now() - chrono::Duration::days(7))));
    let kind = OutboxKind::Outcome { debtor_id: debtor };
    let id = week_ago
        .enqueue(
            kind,
            "old-1",
            json!({ "disposition": "no_answer" }),
            &Gist::default(),
        )
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sender = week_ago.clone().run(ana.clone(), tx);
    until(&mut rx, |s| s.last_error.is_some()).await;
    sender.abort();
    let _ = sender.await;

    // Today the server answers, but the write is held, not sent.
    let server = start(&db(&dir), Some(addr), Seed::None).await;
    let outbox = Outbox::open(data.path(), Locale::En).await.unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _sender = outbox.clone().run(ana.clone(), tx);
    let status = until(&mut rx, |s| s.failed == 1).await;
    assert!(
        status.last_error.unwrap().contains("timeline"),
        "the agent is told to look"
    );
    assert_eq!(notes(&ana, debtor).await.len(), before, "nothing was sent");
    // Looked, not there: sent again, by hand.
    assert!(outbox.retry(id).await.unwrap());
    let status = until(&mut rx, |s| s.delivered.is_some()).await;
    assert_eq!(status.delivered.unwrap().id, id);
    assert_eq!(notes(&ana, debtor).await.len(), before + 1);
    drop(server);
}

/// A row this version cannot read (a newer one's kind, after a downgrade)
/// is kept for the agent and stops nothing behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_record_is_kept_and_the_rest_go_on() {
    let Desk {
        dir: _dir,
        data,
        server,
        ana,
        debtor,
        before,
    } = desk().await;
    let outbox = Outbox::open(data.path(), Locale::PtBr).await.unwrap();
    let url = format!("sqlite://{}", data.path().join("outbox.db").display());
    let file = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO outbox (kind, idempotency_key, body, created_at) \
         VALUES ('{\"kind\":\"refund\",\"payment_id\":3}', 'future', '{}', '2026-03-10T13:00:00Z')",
    )
    .execute(&file)
    .await
    .unwrap();
    let kind = OutboxKind::Outcome { debtor_id: debtor };
    let body = json!({ "disposition": "no_answer", "note": "atrás" });
    let good = outbox
        .enqueue(kind, "good", body, &Gist::default())
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let _sender = outbox.clone().run(ana.clone(), tx);
    // Reports keep coming while the sender is stuck: a deadline for all.
    let delivered = until(&mut rx, |s| s.delivered.is_some());
    let status = tokio::time::timeout(Duration::from_secs(30), delivered)
        .await
        .expect("the record behind the unreadable one is delivered");
    assert_eq!(status.delivered.unwrap().id, good);
    assert_eq!((status.waiting, status.failed), (0, 1));
    assert_one_more_note(&ana, debtor, before, "atrás").await;
    let kept = outbox.items().await.unwrap();
    assert_eq!(kept.len(), 1, "listed, not hidden");
    assert!(kept[0].failed && kept[0].kind.debtor_id().is_none());
    let why = kept[0].last_error.as_deref().unwrap();
    assert!(
        why.starts_with("registro ilegível") && why.contains("refund"),
        "{why}"
    );
    assert!(outbox.discard(kept[0].id).await.unwrap());
    drop(server);
}
