//! The runner: the one place the console does I/O. Terminal input, the
//! server's answers, the live stream and the outbox all arrive here as
//! messages; `App::update` turns each into state and effects; effects run
//! as tasks that answer with more messages. The screen is drawn only when
//! something changed: at once after a key, otherwise at most ~30 times a
//! second.

use chrono::Utc;
use ratatui::buffer::Buffer;
use reqwest::Method;
use serde::Deserialize;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

use super::app::{
    AgentState, AgentStatus, App, Effect, Msg, Offline, OutboxCount, SEARCH_LIMIT, Severity,
};
use super::dial;
use super::format::local_time;
use super::outbox_list::Unsent;
use super::terminal::{self, Input, Term};
use super::theme::Theme;
use super::views;
use super::words::words;
use crate::api::{LeaseView, OutcomeRequest};
use crate::client::events::{self, Live};
use crate::client::outbox::{Gist, Outbox, OutboxKind, OutboxStatus};
use crate::client::sanitize::clean;
use crate::client::{Client, ClientError, new_key};
use crate::domain::{Clock, Locale};

/// What reaches the loop: the app's messages, and the runner's own.
pub enum Event {
    App(Box<Msg>),
    /// The server allowed the call: hand the terminal to the dialer.
    Dial {
        debtor_id: i64,
        phone: String,
        name: String,
    },
    /// A line from the control socket, answered once the console settles.
    Control {
        line: String,
        reply: tokio::sync::oneshot::Sender<String>,
    },
}

pub struct Session {
    pub client: Client,
    pub clock: Arc<dyn Clock>,
    pub outbox: Outbox,
    pub app: App,
    pub theme: Theme,
    pub dial_command: Option<Vec<String>>,
    pub locale: Locale,
    /// Where the control socket is made (the data directory): none when
    /// the console is not to be scripted, or once making the socket failed.
    pub control_dir: Option<std::path::PathBuf>,
}

impl Session {
    /// The control socket, for the commands the console runs.
    fn socket(&self) -> Option<std::path::PathBuf> {
        self.control_dir.as_deref().map(super::control::path)
    }
}

/// The agent's state as the server keeps it.
#[derive(Deserialize)]
struct StateView {
    state: AgentStatus,
    reason: Option<String>,
    since: chrono::DateTime<Utc>,
}

impl From<StateView> for AgentState {
    fn from(s: StateView) -> AgentState {
        AgentState {
            status: s.state,
            reason: s.reason,
            since: s.since,
        }
    }
}

/// Runs the console until the agent quits or a signal asks it to stop.
pub async fn run(mut term: Term, mut s: Session) -> std::io::Result<()> {
    let (tx, mut rx) = unbounded_channel::<Event>();
    let paused = Arc::new(AtomicBool::new(false));
    let keys = tx.clone();
    terminal::spawn_reader(paused.clone(), move |input| {
        let msg = match input {
            Input::Key(k) => Msg::Key(k),
            Input::Resize(..) => Msg::Resize,
            Input::Paste(text) => Msg::Paste(text),
        };
        keys.send(Event::App(Box::new(msg))).is_ok()
    });
    let _outbox = s
        .outbox
        .clone()
        .run(s.client.clone(), forward(&tx, outbox_msg));
    let _live = events::subscribe(s.client.clone(), None, forward(&tx, live_msg));
    let mut renewer: Option<(i64, JoinHandle<()>)> = None;
    let mut signals = Signals::new()?;
    // Scripting is an extra: without its socket the console still works.
    let listening = s
        .control_dir
        .as_deref()
        .map(|d| super::control::listen(d, tx.clone(), paused.clone()));
    let control = match listening {
        Some(Ok(c)) => Some(c),
        Some(Err(e)) => {
            s.control_dir = None;
            s.app.say(
                Severity::Warn,
                format!("{}: {e}", words(s.locale).no_control),
            );
            None
        }
        None => None,
    };
    // Lines from the shell waiting for the console to settle.
    let mut asked: Vec<tokio::sync::oneshot::Sender<String>> = Vec::new();

    spawn_effect(&s, &tx, Effect::LoadQueues);
    let me = s.client.clone();
    let t = tx.clone();
    tokio::spawn(async move {
        let r: Result<StateView, ClientError> = me.get("/v1/me").await;
        if let Ok(state) = r {
            let _ = t.send(Event::App(Box::new(Msg::State(Ok(state.into())))));
        }
    });

    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let frame = Duration::from_millis(33);
    let mut last_draw = Instant::now() - frame;
    let mut dirty = true;
    let mut shown = None;
    // A key is answered at once; what the clock and the server send waits
    // for the next frame slot. A frame drawn for a tick must not hold back
    // the key after it (bursts of keys still make one frame: everything
    // waiting is taken in one batch).
    let mut key_waiting = false;
    let mut releases: Vec<JoinHandle<()>> = Vec::new();
    // Leases asked for and not yet answered, and what came after a quit:
    // a lease that arrives once the console is going is given back.
    let mut leasing: Vec<JoinHandle<()>> = Vec::new();
    let mut after_quit: Vec<Event> = Vec::new();
    let (saves, saver) = saver(s.outbox.clone(), tx.clone());
    let mut broken = None;
    loop {
        if dirty && (key_waiting || last_draw.elapsed() >= frame) {
            // A terminal gone (the SSH link dropped) ends the console, but
            // only after what was recorded is kept (below).
            if let Err(e) = draw(&mut term, &mut shown, &s.app, &s.theme) {
                broken = Some(e);
                break;
            }
            last_draw = Instant::now();
            dirty = false;
            key_waiting = false;
        }
        // Once what a script asked for is done and on screen.
        if !dirty && s.app.settled() {
            answer(&mut asked, &s.app);
        }
        let wait = if dirty {
            frame.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let mut batch = Vec::new();
        tokio::select! {
            Some(e) = rx.recv() => batch.push(e),
            _ = tick.tick() => batch.push(Event::App(Box::new(Msg::Tick(s.clock.now())))),
            _ = signals.recv() => s.app.quit = true,
            _ = tokio::time::sleep(wait) => {}
        }
        // Everything already waiting is taken in one go, then one draw.
        while let Ok(e) = rx.try_recv() {
            batch.push(e);
        }
        let mut batch = batch.into_iter();
        while let Some(event) = batch.next() {
            if s.app.quit {
                after_quit.push(event);
                after_quit.extend(batch.by_ref());
                break;
            }
            // A line from the shell: a chain goes as a key's, answered once
            // the console settles; a question is answered at once.
            let msg = match event {
                Event::Control { line, reply } => match super::control::links(&s.app.keymap, &line)
                {
                    Ok(Some(links)) => {
                        asked.push(reply);
                        Event::App(Box::new(Msg::Control(links)))
                    }
                    Ok(None) => {
                        let _ = reply.send(s.app.state().to_string());
                        continue;
                    }
                    Err(e) => {
                        let _ = reply.send(super::control::error(&e));
                        continue;
                    }
                },
                other => other,
            };
            match msg {
                Event::App(msg) => {
                    let leased = match msg.as_ref() {
                        Msg::Leased {
                            result: Ok(Some(l)),
                            ..
                        } => Some(l.lease.clone()),
                        _ => None,
                    };
                    let key = matches!(msg.as_ref(), Msg::Key(_) | Msg::Control(_));
                    let (effects, changed) = s.app.update(*msg);
                    dirty |= changed;
                    key_waiting |= key && changed;
                    if let Some(lease) = leased {
                        if let Some((_, h)) = renewer.take() {
                            h.abort();
                        }
                        renewer = Some((
                            lease.id,
                            renew(
                                s.client.clone(),
                                s.clock.clone(),
                                lease,
                                tx.clone(),
                                s.locale,
                            ),
                        ));
                    }
                    for effect in effects {
                        if let Effect::Record {
                            debtor_id,
                            request,
                            gist,
                        } = effect
                        {
                            let _ = saves.send((debtor_id, request, gist));
                            continue;
                        }
                        if let Effect::RunCommand {
                            name,
                            args,
                            background: false,
                        } = &effect
                        {
                            let result = in_terminal(
                                &mut term,
                                &paused,
                                name,
                                args,
                                s.locale,
                                s.socket().as_deref(),
                            );
                            signals.program_ended();
                            // The command had the screen: the next frame goes whole.
                            shown = None;
                            dirty = true;
                            // Through the loop, for what a chain does next.
                            let _ = tx.send(Event::App(Box::new(Msg::CommandEnded(result))));
                            continue;
                        }
                        let (release, lease) = (
                            matches!(effect, Effect::Release { .. }),
                            matches!(effect, Effect::Lease { .. }),
                        );
                        if let Effect::Release { lease } = &effect
                            && renewer.as_ref().is_some_and(|(id, _)| id == lease)
                            && let Some((_, h)) = renewer.take()
                        {
                            h.abort();
                        }
                        let Some(h) = spawn_effect(&s, &tx, effect) else {
                            continue;
                        };
                        if release {
                            releases.retain(|h| !h.is_finished());
                            releases.push(h);
                        } else if lease {
                            leasing.retain(|h| !h.is_finished());
                            leasing.push(h);
                        }
                    }
                }
                Event::Dial {
                    debtor_id,
                    phone,
                    name,
                } => {
                    let result = dial_now(&mut term, &paused, &s, debtor_id, &phone, &name);
                    signals.program_ended();
                    // The dialer had the screen: the next frame goes whole.
                    shown = None;
                    dirty = true;
                    // Through the loop as any message, so that what it asks
                    // for (the debtor read again, a chain's next steps, a
                    // command that takes the terminal) runs as theirs do.
                    let _ = tx.send(Event::App(Box::new(Msg::CallEnded(result))));
                }
                Event::Control { .. } => unreachable!("taken above"),
            }
        }
        if s.app.quit {
            answer(&mut asked, &s.app);
            break;
        }
    }
    // Every outcome recorded is on disk before the console ends, however
    // soon after it the agent quit (or the terminal closed).
    drop(saves);
    let _ = saver.await;
    // `n` then `q` at once: the lease `n` asked for comes after the
    // console let go of what it held, and would keep that debtor from
    // everyone until it ran out.
    for h in leasing {
        let _ = tokio::time::timeout(Duration::from_secs(2), h).await;
    }
    while let Ok(event) = rx.try_recv() {
        after_quit.push(event);
    }
    for event in after_quit {
        if let Event::App(msg) = event
            && let Msg::Leased {
                result: Ok(Some(leased)),
                ..
            } = *msg
        {
            let lease = leased.lease.id;
            releases.extend(spawn_effect(&s, &tx, Effect::Release { lease }));
        }
    }
    // A debtor given back on the way out must reach the server, and the
    // answer to a `quit` from the shell its asker.
    for h in releases {
        let _ = tokio::time::timeout(Duration::from_secs(2), h).await;
    }
    if let Some(control) = control {
        control.close().await;
    }
    broken.map_or(Ok(()), Err)
}

/// Tells every line waiting what the console shows now.
fn answer(asked: &mut Vec<tokio::sync::oneshot::Sender<String>>, app: &App) {
    if asked.is_empty() {
        return;
    }
    let state = app.state().to_string();
    for reply in asked.drain(..) {
        let _ = reply.send(state.clone());
    }
}

/// Draws the console; a tick or a live event that changes no cell writes
/// nothing.
fn draw(
    term: &mut Term,
    shown: &mut Option<Buffer>,
    app: &App,
    theme: &Theme,
) -> std::io::Result<()> {
    // A resize clears the screen: the next frame goes whole.
    let before = term.get_frame().area();
    term.autoresize()?;
    if term.get_frame().area() != before {
        *shown = None;
    }
    terminal::draw_frame(term, shown, |f| views::draw(f, app, theme))
}

/// A sender that turns what a task reports into the loop's messages.
fn forward<T: Send + 'static>(tx: &UnboundedSender<Event>, to: fn(T) -> Msg) -> UnboundedSender<T> {
    let (inner, mut rx): (UnboundedSender<T>, UnboundedReceiver<T>) = unbounded_channel();
    let tx = tx.clone();
    tokio::spawn(async move {
        while let Some(t) = rx.recv().await {
            if tx.send(Event::App(Box::new(to(t)))).is_err() {
                return;
            }
        }
    });
    inner
}

fn outbox_msg(s: OutboxStatus) -> Msg {
    Msg::Outbox(OutboxCount {
        waiting: s.waiting,
        failed: s.failed,
        others: s.others,
        last_error: s.last_error,
        refused_debtor: match s.refused {
            Some(OutboxKind::Outcome { debtor_id }) => Some(debtor_id),
            _ => None,
        },
    })
}

fn live_msg(l: Live) -> Msg {
    match l {
        Live::Connected => Msg::Connection(Ok(())),
        Live::Disconnected(why) => Msg::Connection(Err(Offline::Dropped(why))),
        Live::SignedOut => Msg::Connection(Err(Offline::SignedOut)),
        Live::Reset => Msg::Live {
            kind: "reset".into(),
            debtor: None,
            ended: None,
        },
        Live::Event(e) if e.kind == "agent_state" => {
            let b = &e.body;
            match serde_json::from_value::<StateView>(b.clone()) {
                Ok(state) => Msg::StateSet {
                    name: b["name"].as_str().unwrap_or_default().to_string(),
                    state: state.into(),
                    by_other: !b["by"].is_null(),
                },
                // Not one this console reads: counted like any other.
                Err(_) => Msg::Live {
                    kind: e.kind,
                    debtor: e.debtor_id,
                    ended: None,
                },
            }
        }
        Live::Event(e) => {
            let b = &e.body;
            // The holder's own release is no loss: the console let go.
            let ended = match e.kind.as_str() {
                "lease_expired" => b["lease_id"].as_i64(),
                "lease_released" if b["by"] != b["agent_id"] => b["lease_id"].as_i64(),
                _ => None,
            };
            Msg::Live {
                kind: e.kind,
                debtor: e.debtor_id,
                ended,
            }
        }
    }
}

/// An outcome to keep: the debtor, the request, whom it is about and what
/// its amounts are in.
type Save = (i64, OutcomeRequest, Gist);

/// Keeps outcomes in the outbox one at a time, in the order they were
/// recorded; ends once the sender is dropped and the last one is kept.
fn saver(outbox: Outbox, tx: UnboundedSender<Event>) -> (UnboundedSender<Save>, JoinHandle<()>) {
    let (saves, mut rx) = unbounded_channel::<Save>();
    let task = tokio::spawn(async move {
        while let Some((debtor_id, request, gist)) = rx.recv().await {
            let body = serde_json::to_value(&request).expect("requests serialize");
            let kind = OutboxKind::Outcome { debtor_id };
            let kept = outbox.enqueue(kind, &new_key(), body, &gist).await;
            if let Err(e) = kept {
                // Not kept: say so loudly, the agent must write it down.
                let notice = Msg::Notice(Severity::Error, format!("NOT SAVED: {e}"));
                let _ = tx.send(Event::App(Box::new(notice)));
            }
        }
    });
    (saves, task)
}

/// Runs one effect as a task; its answer comes back as a message.
fn spawn_effect(
    s: &Session,
    tx: &UnboundedSender<Event>,
    effect: Effect,
) -> Option<JoinHandle<()>> {
    let c = s.client.clone();
    let dial_tx = tx.clone();
    let tx = tx.clone();
    let send = move |m: Msg| {
        let _ = tx.send(Event::App(Box::new(m)));
    };
    let locale = s.locale;
    let text = move |e: ClientError| said(&e, locale);
    let handle = match effect {
        Effect::Quit => return None,
        Effect::LoadQueues => {
            let locale = s.locale;
            tokio::spawn(async move {
                send(Msg::Queues(c.queues(locale).await.map_err(text)));
            })
        }
        Effect::Lease { queue } => tokio::spawn(async move {
            let result = c.lease(&queue).await.map_err(text);
            send(Msg::Leased { queue, result });
        }),
        Effect::Release { lease } => tokio::spawn(async move {
            if let Err(e) = c.release(lease).await {
                // Gone already (expired, or taken back): nothing to do.
                if !e.is_final() {
                    send(Msg::ReleaseFailed(lease, text(e)));
                }
            }
        }),
        Effect::LoadDebtor { id, reveal } => {
            let lang = s.locale;
            let locale = lang.code();
            tokio::spawn(async move {
                let debtor = async {
                    let d = if reveal {
                        c.reveal_debtor(id).await
                    } else {
                        c.debtor(id).await
                    };
                    send(Msg::Debtor(id, d.map_err(text)));
                };
                let timeline = async {
                    send(Msg::Timeline(id, c.timeline(id).await.map_err(text)));
                };
                let plan = async {
                    send(Msg::Plan(id, c.plan(id, lang).await.map_err(text)));
                };
                let script = async {
                    let path = format!("/v1/debtors/{id}/script?locale={locale}");
                    send(Msg::Script(id, c.get(&path).await.map_err(text)));
                };
                tokio::join!(debtor, timeline, plan, script);
            })
        }
        Effect::Search { query, seq } => tokio::spawn(async move {
            let result = if query.trim().is_empty() {
                Ok(Vec::new())
            } else {
                c.search(query.trim(), SEARCH_LIMIT).await.map_err(text)
            };
            send(Msg::Found { seq, result });
        }),
        Effect::SetState { status, reason } => tokio::spawn(async move {
            let body = serde_json::json!({ "state": status, "reason": reason });
            let r: Result<StateView, ClientError> =
                c.send(Method::PUT, "/v1/me/state", Some(&body), None).await;
            send(Msg::State(r.map(Into::into).map_err(text)));
        }),
        Effect::Call {
            debtor_id,
            phone,
            name,
        } => {
            // A dialer that cannot start would still have the call counted
            // against the debtor's caps, and the agent left on a call.
            if let Some(program) = s.dial_command.as_ref().and_then(|t| t.first())
                && let Err(why) = dial::startable(program)
            {
                use dial::Unstartable::{NotExecutable, NotFound};
                let said = match (s.locale, why) {
                    (Locale::PtBr, NotFound) => {
                        format!("dial_command não encontrado: {program}; nenhuma ligação foi feita")
                    }
                    (Locale::PtBr, NotExecutable) => format!(
                        "dial_command não é executável: {program} (chmod +x); nenhuma ligação foi feita"
                    ),
                    (Locale::En, NotFound) => {
                        format!("dial_command not found: {program}; no call was made")
                    }
                    (Locale::En, NotExecutable) => format!(
                        "dial_command is not executable: {program} (chmod +x); no call was made"
                    ),
                };
                send(Msg::CallNotStarted(said));
                return None;
            }
            tokio::spawn(async move {
                let body = serde_json::json!({ "phone": phone });
                let path = format!("/v1/debtors/{debtor_id}/calls");
                let key = new_key();
                let r: Result<serde_json::Value, ClientError> =
                    c.send(Method::POST, &path, Some(&body), Some(&key)).await;
                match r {
                    Ok(_) => {
                        let _ = dial_tx.send(Event::Dial {
                            debtor_id,
                            phone,
                            name,
                        });
                    }
                    Err(e) => send(Msg::CallRefused(e)),
                }
            })
        }
        Effect::Record { .. } => unreachable!("the saver keeps them, in order"),
        // Beside the console, its output nowhere: the screen stays the
        // console's. (One that takes the terminal is run by the loop.)
        Effect::RunCommand {
            name,
            args,
            background,
        } => {
            debug_assert!(background, "the loop runs one that takes the terminal");
            let mut cmd = dial::program(&args, s.socket().as_deref())?;
            use std::process::Stdio;
            cmd.stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // Waited for on a thread of its own, which nothing joins: the
            // console may quit while it runs (a browser) without waiting.
            match cmd.spawn() {
                Ok(mut child) => {
                    std::thread::spawn(move || {
                        if let Err(e) = ended(&name, child.wait(), locale) {
                            send(Msg::Notice(Severity::Warn, e));
                        }
                    });
                }
                Err(e) => {
                    if let Err(e) = ended(&name, Err(e), locale) {
                        send(Msg::Notice(Severity::Warn, e));
                    }
                }
            }
            return None;
        }
        Effect::LoadOutbox => {
            let outbox = s.outbox.clone();
            tokio::spawn(async move { send(Msg::Unsent(unsent(&outbox).await)) })
        }
        Effect::RetryUnsent { id } => settle(s, send, id, true),
        Effect::DiscardUnsent { id } => settle(s, send, id, false),
    };
    Some(handle)
}

/// Sends a refused write again (`retry`) or gives it up; whether it was
/// still there or not, the list is read again.
fn settle(
    s: &Session,
    send: impl Fn(Msg) + Send + Sync + 'static,
    id: i64,
    retry: bool,
) -> JoinHandle<()> {
    let outbox = s.outbox.clone();
    tokio::spawn(async move {
        let done = if retry {
            outbox.retry(id).await
        } else {
            outbox.discard(id).await
        };
        if let Err(e) = done {
            send(Msg::Notice(Severity::Error, e.to_string()));
        }
        send(Msg::Unsent(unsent(&outbox).await));
    })
}

/// The outbox's items as its screen shows them. The file is the agent's
/// own, but what it holds is shown as data all the same.
async fn unsent(outbox: &Outbox) -> Result<Vec<Unsent>, String> {
    let items = outbox.items().await.map_err(|e| e.to_string())?;
    let line = |s: String| clean(&s).into_owned();
    Ok(items
        .into_iter()
        .map(|i| Unsent {
            id: i.id,
            debtor_id: i.kind.debtor_id(),
            gist: Gist {
                about: i.gist.about.map(line),
                ..i.gist
            },
            outcome: serde_json::from_value::<OutcomeRequest>(i.body)
                .ok()
                .map(|mut o| {
                    o.note = o.note.map(line);
                    o
                }),
            failed: i.failed,
            attempts: i.attempts,
            last_error: i.last_error.map(line),
            created_at: i.created_at,
            owner: i.other_owner.map(line),
        })
        .collect())
}

/// Runs the dialer with the terminal lent to it, or, without a
/// `dial_command`, tells the agent to dial by hand.
fn dial_now(
    term: &mut Term,
    paused: &AtomicBool,
    s: &Session,
    debtor_id: i64,
    phone: &str,
    name: &str,
) -> Result<(), String> {
    let Some(template) = &s.dial_command else {
        return Err(match s.locale {
            Locale::PtBr => format!("sem dial_command: disque {phone} no telefone"),
            Locale::En => format!("no dial_command configured: dial {phone} by hand"),
        });
    };
    let external = s
        .app
        .work
        .as_ref()
        .and_then(|w| w.debtor.ready())
        .map(|d| d.external_id.clone())
        .unwrap_or_default();
    let fields = dial::Fields {
        phone,
        debtor_id,
        external_id: &external,
        name,
    };
    let args = dial::arguments(template, &fields);
    in_terminal(
        term,
        paused,
        "dial_command",
        &args,
        s.locale,
        s.socket().as_deref(),
    )
}

/// Runs one of the agent's commands with the terminal lent to it, as the
/// dialer is.
fn in_terminal(
    term: &mut Term,
    paused: &AtomicBool,
    name: &str,
    args: &[String],
    locale: Locale,
    env: Option<&std::path::Path>,
) -> Result<(), String> {
    let Some(mut cmd) = dial::program(args, env) else {
        return Ok(());
    };
    let status = tokio::task::block_in_place(|| terminal::lend(term, paused, || cmd.status()));
    ended(name, status, locale)
}

/// How a command ended, said when it did not end well.
fn ended(
    name: &str,
    status: std::io::Result<std::process::ExitStatus>,
    locale: Locale,
) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    match status {
        Ok(s) if s.success() => Ok(()),
        // Said in the agent's words: std's own is "exit status: 1".
        Ok(s) => Err(match (locale, s.code(), s.signal()) {
            (Locale::PtBr, Some(code), _) => format!("{name} terminou com o código {code}"),
            (Locale::En, Some(code), _) => format!("{name} ended with code {code}"),
            (Locale::PtBr, None, Some(sig)) => format!("{name} foi interrompido (sinal {sig})"),
            (Locale::En, None, Some(sig)) => format!("{name} was stopped (signal {sig})"),
            (Locale::PtBr, None, None) => format!("{name} terminou com {s}"),
            (Locale::En, None, None) => format!("{name} ended with {s}"),
        }),
        Err(e) => Err(match locale {
            Locale::PtBr => format!("{name} não pôde rodar: {e}"),
            Locale::En => format!("{name} could not run: {e}"),
        }),
    }
}

/// A server's refusal for the agent; such errors carry no debtor's time
/// (a refused call does, and the app says it in the debtor's zone).
fn said(e: &ClientError, locale: Locale) -> String {
    e.said(locale, |t| local_time(t, None, locale))
}

/// Keeps a lease alive: renews at two thirds of its time; a final refusal
/// (or running out while the server is away) is a lost lease. Its time is
/// the session's clock, the one the server's lease was counted on (with
/// `REGUA_CLOCK` the wall clock is months away, and a lease read against it
/// looked long gone: renewed every second, and lost at the first error).
fn renew(
    client: Client,
    clock: Arc<dyn Clock>,
    lease: LeaseView,
    tx: UnboundedSender<Event>,
    locale: Locale,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut current = lease;
        loop {
            let left = (current.expires_at - clock.now())
                .to_std()
                .unwrap_or_default();
            tokio::time::sleep((left / 3).max(Duration::from_secs(1))).await;
            match client.renew(current.id).await {
                Ok(l) => {
                    current = l.clone();
                    let _ = tx.send(Event::App(Box::new(Msg::LeaseRenewed(l))));
                }
                Err(e) if e.is_final() => {
                    let _ = tx.send(Event::App(Box::new(Msg::LeaseLost(said(&e, locale)))));
                    return;
                }
                Err(e) => {
                    if clock.now() >= current.expires_at {
                        let _ = tx.send(Event::App(Box::new(Msg::LeaseLost(said(&e, locale)))));
                        return;
                    }
                }
            }
        }
    })
}

/// SIGTERM, SIGHUP and SIGINT end the console like `q` does, but for a
/// ctrl-c pressed while a program had the terminal: that one was the
/// program's.
struct Signals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    /// Until when a SIGINT is taken for one the program had.
    lent_until: Option<Instant>,
}

impl Signals {
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
            lent_until: None,
        })
    }

    async fn recv(&mut self) {
        loop {
            tokio::select! {
                _ = self.term.recv() => return,
                _ = self.hup.recv() => return,
                _ = self.int.recv() => {
                    if self.lent_until.is_none_or(|t| Instant::now() >= t) {
                        return;
                    }
                }
            }
        }
    }

    /// A program had the terminal until now. Out of raw mode ctrl-c is a
    /// SIGINT to the whole foreground group, the console too, which quit
    /// (mid-call, before the outcome) once the program it was meant to
    /// stop had ended. Those are forgotten, and one still on its way is
    /// taken for theirs for a moment: in raw mode ctrl-c is a key, so no
    /// SIGINT of the agent's own comes then.
    fn program_ended(&mut self) {
        use futures_util::FutureExt;
        while self.int.recv().now_or_never().is_some() {}
        self.lent_until = Some(Instant::now() + Duration::from_secs(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ShiftedClock;

    /// Outcomes recorded in a burst are kept in the order recorded, and
    /// all of them by the time the saver has ended.
    #[tokio::test]
    async fn outcomes_are_kept_in_order_before_the_saver_ends() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox::open(dir.path(), Locale::En).await.unwrap();
        let (tx, _rx) = unbounded_channel();
        let (saves, task) = saver(outbox.clone(), tx);
        for debtor_id in 0..40 {
            let request = OutcomeRequest::of(crate::domain::Disposition::NoAnswer);
            saves.send((debtor_id, request, Gist::default())).unwrap();
        }
        drop(saves);
        task.await.unwrap();
        let kept: Vec<_> = outbox
            .items()
            .await
            .unwrap()
            .iter()
            .map(|i| i.kind.debtor_id().unwrap())
            .collect();
        assert_eq!(kept, (0..40).collect::<Vec<_>>());
    }

    /// A record's age on the outbox screen is counted on the session's
    /// clock, the one the outbox was given.
    #[tokio::test]
    async fn an_unsent_record_is_dated_on_the_session_clock() {
        let dir = tempfile::tempdir().unwrap();
        let start = Utc::now() - chrono::Duration::days(200);
        let clock = Arc::new(ShiftedClock::starting_at(start));
        let outbox = Outbox::open(dir.path(), Locale::En)
            .await
            .unwrap()
            .with_clock(clock.clone());
        let body = serde_json::json!({ "disposition": "no_answer", "note": "a\u{1b}[2Jb" });
        let kind = OutboxKind::Outcome { debtor_id: 4 };
        outbox
            .enqueue(
                kind,
                "k",
                body,
                &Gist {
                    about: Some("Zé\u{7}".into()),
                    ..Gist::default()
                },
            )
            .await
            .unwrap();
        let items = unsent(&outbox).await.unwrap();
        let age = clock.now() - items[0].created_at;
        assert!(
            age >= chrono::Duration::zero() && age < chrono::Duration::seconds(5),
            "{age}"
        );
        // What the file holds is data on screen.
        assert_eq!(items[0].gist.about.as_deref(), Some("Zé\u{fffd}"));
        let note = items[0].outcome.as_ref().unwrap().note.as_deref();
        assert_eq!(note, Some("a\u{fffd}b"));
    }

    #[test]
    fn how_a_command_ended_is_said_in_the_agents_words() {
        let run = |script: &str| {
            std::process::Command::new("sh")
                .args(["-c", script])
                .status()
        };
        assert_eq!(ended("crm", run("exit 0"), Locale::PtBr), Ok(()));
        assert_eq!(
            ended("crm", run("exit 3"), Locale::PtBr),
            Err("crm terminou com o código 3".into())
        );
        assert_eq!(
            ended("crm", run("kill -TERM $$"), Locale::En),
            Err("crm was stopped (signal 15)".into())
        );
        let missing = std::process::Command::new("/nonexistent/regua-crm").status();
        let said = ended("crm", missing, Locale::PtBr).unwrap_err();
        assert!(said.starts_with("crm não pôde rodar: "), "{said}");
    }

    /// A server that is away for a moment is no lost lease while the lease
    /// still runs on the session's clock, however far the wall clock is.
    #[tokio::test]
    async fn a_lease_outlives_a_short_outage_on_a_shifted_clock() {
        // Nothing listens here: every renewal fails as a passing error.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let client = Client::new(&format!("http://127.0.0.1:{port}")).unwrap();
        let start = Utc::now() - chrono::Duration::days(200);
        let clock: Arc<dyn Clock> = Arc::new(ShiftedClock::starting_at(start));
        // Three seconds: the renewer tries after one.
        let lease = LeaseView {
            id: 1,
            expires_at: start + chrono::Duration::seconds(3),
        };
        let (tx, mut rx) = unbounded_channel();
        let task = renew(client, clock, lease, tx, Locale::En);
        let early = tokio::time::timeout(Duration::from_millis(1800), rx.recv()).await;
        assert!(early.is_err(), "nothing said while the lease runs");
        // Once it has run out with the server still away, it is lost.
        let lost = tokio::time::timeout(Duration::from_secs(5), rx.recv())
            .await
            .expect("said once it ran out");
        assert!(matches!(
            lost.as_ref().map(|e| match e {
                Event::App(m) => matches!(**m, Msg::LeaseLost(_)),
                _ => false,
            }),
            Some(true)
        ));
        task.abort();
    }
}
