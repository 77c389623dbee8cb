//! The board's loop, the same wherever it runs: frames go to any `Write`
//! (the local terminal, or an SSH channel) at a size the caller gives and
//! changes; keys come from a channel. A snapshot, then the live stream
//! applied locally; the one-second tick redraws only when a clock shown
//! on screen changed; at most ten draws a second; ratatui's diff writes
//! only the cells that changed, and a frame that changes no cell writes
//! nothing at all.

use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use ratatui::crossterm::terminal::{Clear, ClearType, EnterAlternateScreen, LeaveAlternateScreen};
use ratatui::crossterm::{cursor, queue};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::model::{Board, Effect, Msg};
use super::view;
use crate::api::{AgentState, BoardView};
use crate::client::events::{self, Live};
use crate::client::{Client, ClientError, Method};
use crate::console::format::local_time;
use crate::console::keymap::Key;
use crate::console::terminal;
use crate::console::theme::Theme;
use crate::domain::{Clock, Locale};

/// At most this many draws a second.
const FRAME: Duration = Duration::from_millis(100);

/// What reaches the board from its screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Input {
    Key(Key),
    /// The screen's new width and height.
    Resize(u16, u16),
    /// The screen went away (the SSH channel closed), or the server that
    /// draws it is stopping: the board ends as a quit would.
    Closed,
}

pub struct Session {
    pub client: Client,
    pub clock: Arc<dyn Clock>,
    pub board: Board,
    pub theme: Theme,
}

/// Runs the board on `out` until the supervisor quits or the input ends.
/// `out` gets the alternate screen on the way in and leaves it on the way
/// out; raw mode (or a pty's) is the caller's.
pub async fn run<W: Write>(
    out: W,
    size: (u16, u16),
    mut input: UnboundedReceiver<Input>,
    mut s: Session,
) -> io::Result<()> {
    let area = |(w, h): (u16, u16)| Rect::new(0, 0, w.max(1), h.max(1));
    let mut term = Terminal::with_options(
        CrosstermBackend::new(out),
        TerminalOptions {
            viewport: Viewport::Fixed(area(size)),
        },
    )?;
    // Pastes marked (over SSH the board is the terminal's only reader):
    // the keys drop them whole rather than act on what was pasted.
    queue!(
        term.backend_mut(),
        EnterAlternateScreen,
        EnableBracketedPaste,
        cursor::Hide,
        Clear(ClearType::All)
    )?;
    s.board.update(Msg::Resize(size.0, size.1));

    let (tx, mut rx) = unbounded_channel::<Msg>();
    let (live_tx, mut live_rx) = unbounded_channel::<Live>();
    let live = tx.clone();
    tokio::spawn(async move {
        while let Some(l) = live_rx.recv().await {
            if live.send(Msg::Live(l)).is_err() {
                return;
            }
        }
    });
    // The snapshot now, to show something at once, and again once the
    // stream is open (`Board::live`): only that one is sure to hold all
    // that came before the stream's cursor. What it counts and the stream
    // repeats is the little overlap of one round trip.
    let _live = events::subscribe(s.client.clone(), None, live_tx);
    spawn_effect(&s.client, s.board.locale, &tx, Effect::LoadSnapshot);

    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut last_draw = Instant::now() - FRAME;
    let mut dirty = true;
    let mut shown = None;
    loop {
        if dirty && last_draw.elapsed() >= FRAME {
            draw(&mut term, &s.board, &s.theme, &mut shown)?;
            s.board.drawn();
            last_draw = Instant::now();
            dirty = false;
        }
        let wait = if dirty {
            FRAME.saturating_sub(last_draw.elapsed())
        } else {
            Duration::from_secs(3600)
        };
        let mut batch = Vec::new();
        tokio::select! {
            Some(m) = rx.recv() => batch.push(m),
            i = input.recv() => match i {
                None | Some(Input::Closed) => break,
                Some(Input::Key(k)) => batch.push(Msg::Key(k)),
                Some(Input::Resize(w, h)) => {
                    term.resize(area((w, h)))?;
                    shown = None;
                    batch.push(Msg::Resize(w, h));
                }
            },
            _ = tick.tick() => batch.push(Msg::Tick(s.clock.now())),
            _ = tokio::time::sleep(wait) => {}
        }
        // Everything already waiting is taken in one go, then one draw.
        while let Ok(m) = rx.try_recv() {
            batch.push(m);
        }
        while let Ok(i) = input.try_recv() {
            match i {
                Input::Closed => s.board.quit = true,
                Input::Key(k) => batch.push(Msg::Key(k)),
                Input::Resize(w, h) => {
                    term.resize(area((w, h)))?;
                    shown = None;
                    batch.push(Msg::Resize(w, h));
                }
            }
        }
        for msg in batch {
            let (effects, changed) = s.board.update(msg);
            dirty |= changed;
            for e in effects {
                spawn_effect(&s.client, s.board.locale, &tx, e);
            }
        }
        if s.board.quit {
            break;
        }
    }
    queue!(
        term.backend_mut(),
        DisableBracketedPaste,
        LeaveAlternateScreen,
        cursor::Show
    )?;
    term.backend_mut().flush()
}

/// Draws the board; most live events change nothing visible (an agent
/// scrolled off, a queue not shown), and such a frame writes nothing.
pub(super) fn draw<W: Write>(
    term: &mut Terminal<CrosstermBackend<W>>,
    board: &Board,
    theme: &Theme,
    shown: &mut Option<Buffer>,
) -> io::Result<()> {
    terminal::draw_frame(term, shown, |f| view::draw(f, board, theme))
}

/// Runs one effect as a task; its answer comes back as a message.
fn spawn_effect(c: &Client, locale: Locale, tx: &UnboundedSender<Msg>, effect: Effect) {
    let c = c.clone();
    let tx = tx.clone();
    let send = move |m: Msg| {
        let _ = tx.send(m);
    };
    let text = move |e: ClientError| e.said(locale, |t| local_time(t, None, locale));
    tokio::spawn(async move {
        match effect {
            Effect::LoadSnapshot => {
                let path = format!("/v1/board?locale={}", locale.code());
                let r: Result<BoardView, ClientError> = c.get(&path).await;
                send(Msg::Snapshot(r.map_err(text)));
            }
            Effect::LoadQueues => {
                send(Msg::Queues(c.queues(locale).await.map_err(text)));
            }
            Effect::LoadAgentCalls(id) => {
                let r = c.get(&format!("/v1/agents/{id}/calls")).await;
                send(Msg::AgentCalls(id, r.map_err(text)));
            }
            Effect::LoadQueueDebtors(q) => {
                let r = c
                    .get(&format!("/v1/queues/{}/debtors", crate::client::encode(&q)))
                    .await;
                send(Msg::QueueDebtors(q, r.map_err(text)));
            }
            Effect::SetState {
                agent,
                state,
                reason,
            } => {
                let body = serde_json::json!({ "state": state, "reason": reason });
                let path = format!("/v1/agents/{agent}/state");
                let r: Result<serde_json::Value, ClientError> =
                    c.send(Method::PUT, &path, Some(&body), None).await;
                let done = match state {
                    AgentState::Paused => locale.pick("agente em pausa", "agent paused"),
                    _ => locale.pick("agente disponível", "agent set ready"),
                };
                send(Msg::Done(r.map(|_| done.to_string()).map_err(text)));
            }
            Effect::ReleaseLease(id) => {
                let r = c.release(id).await;
                send(Msg::Done(
                    r.map(|_| match locale {
                        Locale::PtBr => format!("reserva {id} liberada"),
                        Locale::En => format!("lease {id} released"),
                    })
                    .map_err(text),
                ));
            }
        }
    });
}
