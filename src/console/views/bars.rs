//! The top line (who, state and time in it, server, outbox) and the bottom
//! line (the last notice, or the keys that matter here).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::Hint;
use crate::console::action::Action;
use crate::console::app::{AgentStatus, App, Offline, Overlay, Severity};
use crate::console::format::span;
use crate::console::theme::Theme;
use crate::console::words::words;

pub fn top(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let w = words(app.locale);
    let state = crate::console::words::status(app.locale, app.agent.status);
    let colour = match app.agent.status {
        AgentStatus::Ready => theme.ok,
        AgentStatus::OnCall => theme.focus,
        AgentStatus::WrapUp => theme.warn,
        AgentStatus::Paused => theme.danger,
    };
    // Narrow, the server goes first, then the time in state, then the
    // outbox's count: who, the state and a lost connection stay.
    let mut parts = vec![
        (Span::styled(" regua ", theme.alert(theme.title)), 0),
        (
            Span::styled(
                app.user.clone(),
                theme.fg(theme.text).add_modifier(Modifier::BOLD),
            ),
            0,
        ),
        (
            Span::styled(format!(" · ● {state}"), theme.alert(colour)),
            0,
        ),
    ];
    if let Some(reason) = &app.agent.reason {
        parts.push((Span::styled(format!(" ({reason})"), theme.fg(colour)), 1));
    }
    parts.push((
        Span::styled(
            format!(" {}", span(app.now - app.agent.since)),
            theme.fg(theme.muted),
        ),
        2,
    ));
    if app.outbox.waiting > 0 {
        parts.push((
            Span::styled(
                format!(" · ⇡ {} {}", app.outbox.waiting, w.outbox_waiting),
                theme.alert(theme.pending),
            ),
            1,
        ));
    }
    if app.outbox.failed > 0 {
        parts.push((
            Span::styled(
                format!(
                    " · ✗ {} {}",
                    app.outbox.failed,
                    crate::console::words::refused(app.locale, app.outbox.failed)
                ),
                theme.alert(theme.danger),
            ),
            1,
        ));
    }
    if let Some(offline) = &app.offline {
        let said = match offline {
            Offline::Dropped(_) => w.offline,
            Offline::SignedOut => w.signed_out,
        };
        parts.push((
            Span::styled(format!(" · ⚠ {said}"), theme.alert(theme.danger)),
            0,
        ));
    }
    parts.push((
        Span::styled(format!(" · {}", app.server), theme.fg(theme.muted)),
        3,
    ));
    let line = super::ranked(parts, usize::from(area.width));
    frame.render_widget(Paragraph::new(line), area);
}

pub fn bottom(frame: &mut Frame, area: Rect, app: &App, theme: &Theme) {
    let line = match &app.notice {
        Some((severity, text)) => {
            let colour = match severity {
                Severity::Info => theme.ok,
                Severity::Warn => theme.warn,
                Severity::Error => theme.danger,
            };
            Line::from(Span::styled(format!(" {text}"), theme.alert(colour)))
        }
        None => hints(app, usize::from(area.width), theme),
    };
    frame.render_widget(Paragraph::new(line), area);
}

/// The keys worth knowing on this screen, from the live keymap, as many as
/// fit in `width` columns; the key to the help, which lists them all, stays.
fn hints(app: &App, width: usize, theme: &Theme) -> Line<'static> {
    let mode = app.mode();
    let paused = app.agent.status == AgentStatus::Paused;
    let wanted: &[Action] = match mode {
        // Paused, the way back comes first and nothing offers "next": a
        // workspace can stay open through a pause (a debtor found by
        // search, or one already worked).
        crate::console::keymap::Mode::Workspace if paused => &[
            Action::Pause,
            Action::Call,
            Action::RecordOutcome,
            Action::NextPanel,
            Action::FilterTimeline,
            Action::ReleaseLease,
            Action::Search,
            Action::Help,
        ],
        crate::console::keymap::Mode::Workspace => &[
            Action::Call,
            Action::RecordOutcome,
            Action::LeaseNext,
            Action::NextPanel,
            Action::FilterTimeline,
            Action::ReleaseLease,
            Action::Search,
            Action::Help,
        ],
        crate::console::keymap::Mode::Outcome => &[Action::NextPanel, Action::Submit, Action::Back],
        crate::console::keymap::Mode::Pause => &[Action::Submit, Action::Back],
        crate::console::keymap::Mode::Search => &[Action::Select, Action::Back],
        // Retry and discard only where they can act: on a refused write.
        crate::console::keymap::Mode::Outbox => match &app.overlay {
            Some(Overlay::Outbox(list)) => match list.selected() {
                Some(u) if u.failed => {
                    &[Action::Retry, Action::Discard, Action::Select, Action::Back]
                }
                Some(_) => &[Action::Select, Action::Back],
                None => &[Action::Back],
            },
            _ => &[Action::Back],
        },
        // Scrolling only when the help does not fit (it is drawn first).
        crate::console::keymap::Mode::Help => match &app.overlay {
            Some(Overlay::Help(_, scroll, _)) if scroll.more() != (false, false) => {
                &[Action::Down, Action::Back]
            }
            _ => &[Action::Back],
        },
        // Paused, the way back comes first: nothing is leased until then.
        _ if app.agent.status == AgentStatus::Paused => {
            &[Action::Pause, Action::Search, Action::Help, Action::Quit]
        }
        _ => &[
            Action::LeaseNext,
            Action::Search,
            Action::Pause,
            Action::Help,
            Action::Quit,
        ],
    };
    // A refused write waits for the agent: the way to it leads the bar.
    let refused = app.outbox.failed > 0
        && matches!(
            mode,
            crate::console::keymap::Mode::Queues | crate::console::keymap::Mode::Workspace
        );
    let hints = refused
        .then_some(&Action::Outbox)
        .into_iter()
        .chain(wanted)
        .filter_map(|a| {
            let key = app.keymap.key_for(mode, *a)?;
            let said = match a {
                Action::Pause if paused => app.locale.pick("retomar", "resume"),
                _ => short(*a, app.locale),
            };
            Some(Hint {
                action: *a,
                key: key.to_string(),
                said,
            })
        })
        .collect();
    let mut spans = vec![Span::raw(" ")];
    for hint in super::fitting(hints, 2, width.saturating_sub(1)) {
        spans.push(Span::styled(hint.key, theme.alert(theme.focus)));
        spans.push(Span::styled(
            format!(" {}  ", hint.said),
            theme.fg(theme.muted),
        ));
    }
    Line::from(spans)
}

fn short(a: Action, locale: crate::domain::Locale) -> &'static str {
    let (p, e) = match a {
        Action::Call => ("ligar", "call"),
        Action::RecordOutcome => ("resultado", "outcome"),
        Action::LeaseNext => ("próximo", "next"),
        Action::NextPanel => ("painel", "panel"),
        Action::FilterTimeline => ("filtro", "filter"),
        Action::ReleaseLease => ("devolver", "release"),
        Action::Search => ("buscar", "search"),
        Action::Help => ("ajuda", "help"),
        Action::Quit => ("sair", "quit"),
        Action::Pause => ("pausa", "pause"),
        Action::Submit => ("registrar", "submit"),
        Action::Back => ("voltar", "back"),
        Action::Select => ("abrir", "open"),
        Action::Down => ("rolar", "scroll"),
        Action::Outbox => ("envios", "outbox"),
        Action::Retry => ("reenviar", "retry"),
        Action::Discard => ("descartar", "discard"),
        _ => ("", ""),
    };
    locale.pick(p, e)
}
