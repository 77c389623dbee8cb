//! One debtor: who they are, what they owe, what happened, what to say and
//! what the régua will do. At 80 columns the panels take turns (Tab); from
//! 120 columns they stand side by side.

use chrono_tz::Tz;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::{Scrolled, fold};
use crate::api::{DebtorView, PlanView};
use crate::console::app::{AgentStatus, App, Panel, Remote, Workspace, call_refusal};
use crate::console::format::{event_line, local_time, stamp};
use crate::console::outcome_form::terms_of;
use crate::console::scroll::Scroll;
use crate::console::theme::Theme;
use crate::console::words::words;
use crate::domain::{Channel, Currency, EventKind, Fate, Fates, Ledger, Locale, Money, fates};

pub fn draw(frame: &mut Frame, area: Rect, app: &App, w: &Workspace, theme: &Theme) {
    let zone = w.zone();
    let lines = header(app, w, zone, theme, usize::from(area.width));
    // Four rows, or more when the call window's line wraps.
    let rows = u16::try_from(lines.len().max(4)).unwrap_or(4);
    let [head, body] = Layout::vertical([Constraint::Length(rows), Constraint::Min(0)]).areas(area);
    frame.render_widget(Paragraph::new(lines), head);
    let wide = body.width >= 120;
    // What became of each promise, folded from the whole history once a
    // frame, and only when a panel on screen says it.
    let promises = (wide || w.panel == Panel::Timeline)
        .then(|| {
            w.timeline
                .ready()
                .map(|events| fates(events, zone, app.now))
        })
        .flatten();
    let promises = promises.as_ref();
    if wide {
        let [left, mid, right] = Layout::horizontal([
            Constraint::Percentage(28),
            Constraint::Percentage(36),
            Constraint::Percentage(36),
        ])
        .areas(body);
        let [debts, offers] =
            Layout::vertical([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(left);
        let [timeline, plan] =
            Layout::vertical([Constraint::Percentage(60), Constraint::Percentage(40)]).areas(right);
        let said = words(app.locale);
        let debts_box = boxed(said.debts, debts_text(app, w, promises), true, theme);
        render_panel(frame, debts, debts_box, None, false, theme);
        let offers_box = boxed(said.offers, offers_text(app, w, theme), true, theme);
        render_panel(frame, offers, offers_box, None, false, theme);
        let on = |which| Shown {
            which,
            zone,
            promises,
        };
        panel(frame, mid, app, w, on(Panel::Script), theme);
        panel(frame, timeline, app, w, on(Panel::Timeline), theme);
        panel(frame, plan, app, w, on(Panel::Plan), theme);
    } else {
        let [tabs, content] =
            Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(body);
        let names = [
            (Panel::Script, words(app.locale).talking_points),
            (Panel::Timeline, words(app.locale).timeline),
            (Panel::Plan, words(app.locale).plan),
        ];
        let mut spans = Vec::new();
        for (p, name) in names {
            let style = if p == w.panel {
                theme.selection()
            } else {
                theme.fg(theme.muted)
            };
            spans.push(Span::styled(format!(" {name} "), style));
            spans.push(Span::raw(" "));
        }
        frame.render_widget(Paragraph::new(Line::from(spans)), tabs);
        let on = Shown {
            which: w.panel,
            zone,
            promises,
        };
        panel(frame, content, app, w, on, theme);
    }
}

/// Who the debtor is, what they owe and whether a call may go out now,
/// in rows `width` wide: a row too long loses its least needed parts
/// whole, and the call window's sentence wraps (see `window_lines`).
fn header(
    app: &App,
    w: &Workspace,
    zone: Option<Tz>,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let words = words(app.locale);
    let mut lines = Vec::new();
    match &w.debtor {
        Remote::Ready(d) => {
            let local = zone.map_or("?".to_string(), |z| {
                app.now.with_timezone(&z).format("%H:%M").to_string()
            });
            // A narrow row drops the zone's name first, then the CPF
            // (masked, and in the record): the local time says what counts.
            let first = vec![
                (Span::styled(d.name.clone(), theme.alert(theme.title)), 0),
                (
                    Span::styled(format!("  {}", d.document), theme.fg(theme.muted)),
                    2,
                ),
                (
                    Span::raw(format!(
                        "  {} · {} {local}",
                        d.jurisdiction, words.local_time
                    )),
                    0,
                ),
                (Span::raw(format!(" ({})", d.time_zone)), 3),
            ];
            lines.push(super::ranked(first, width));
            let owed = total(d);
            let mut second = vec![(
                Span::styled(
                    format!(
                        "{} {}",
                        owed.map_or("?".into(), |m| m.display(app.locale).to_string()),
                        words.owed
                    ),
                    theme.alert(theme.overdue),
                ),
                0,
            )];
            // What the agent needs on the call first: a narrow row loses
            // the priority, then the queue, never the lease's time.
            let plan = w.plan.ready();
            if let Some(p) = plan {
                second.push((
                    Span::raw(format!(" · {} {}", p.days_past_due, words.days_past_due)),
                    0,
                ));
            }
            // A lost lease has no time left to count.
            if let Some(l) = w.lease.as_ref().filter(|_| w.lease_lost.is_none()) {
                let left = (l.expires_at - app.now).num_minutes().max(0);
                second.push((
                    Span::styled(
                        format!(" · {} {left} min", words.lease),
                        theme.fg(theme.muted),
                    ),
                    0,
                ));
            }
            if let Some(p) = plan {
                if let Some(q) = &p.queue {
                    // Named as the queue list names it, in the agent's language.
                    let name = app
                        .queues
                        .ready()
                        .and_then(|list| list.iter().find(|x| x.id == *q))
                        .map_or(q.as_str(), |x| x.name.as_str());
                    second.push((Span::styled(format!(" · {name}"), theme.fg(theme.muted)), 2));
                }
                second.push((
                    Span::styled(
                        format!(" · {} {}", words.priority, p.priority),
                        theme.fg(theme.muted),
                    ),
                    3,
                ));
            }
            lines.push(super::ranked(second, width));
            lines.extend(window_lines(app, w, zone, theme, width));
        }
        Remote::Loading => lines.push(Line::from(words.loading)),
        Remote::Failed(e) => lines.push(Line::styled(e.clone(), theme.alert(theme.danger))),
    }
    if let Some(lost) = &w.lease_lost {
        let text = format!("{} ({lost})", words.lease_lost);
        lines.extend(sentence(&text, width, LOST_ROWS, theme.alert(theme.danger)));
    } else if w.lease.is_none() {
        lines.push(Line::styled(app.no_lease(), theme.fg(theme.warn)));
    } else if w.recorded.is_some() {
        lines.push(Line::styled(app.recorded(), theme.alert(theme.ok)));
    }
    lines
}

/// The call window in the debtor's zone, as the law and the policy see it:
/// a sentence folded into rows `width` wide, under its mark.
fn window_lines(
    app: &App,
    w: &Workspace,
    zone: Option<Tz>,
    theme: &Theme,
    width: usize,
) -> Vec<Line<'static>> {
    let words = words(app.locale);
    let (text, style) = match w.plan.ready() {
        // The plan counts the call in progress as made: not "blocked".
        // With the number: dialled by hand, it must stay in view for the
        // whole call (to dial again when it drops), not only in a notice.
        _ if w.calling || app.agent.status == AgentStatus::OnCall => {
            let number = w
                .debtor
                .ready()
                .and_then(crate::console::app::phone_to_call)
                .map_or(String::new(), |p| format!(" · {}", p.number));
            (
                format!("● {}{number}", words.state_on_call),
                theme.alert(theme.ok),
            )
        }
        Some(p) if p.callable_now => (format!("● {}", words.call_allowed), theme.alert(theme.ok)),
        Some(p) if p.blocked.iter().all(|b| b.channel != "call") => (
            format!("○ {}", call_refusal(p, zone, app.locale)),
            theme.fg(theme.muted),
        ),
        Some(p) => (
            format!("■ {}", call_refusal(p, zone, app.locale)),
            theme.alert(theme.danger),
        ),
        None => (words.loading.to_string(), theme.fg(theme.muted)),
    };
    // A rule's sentence may be long: three rows at most, so the panels
    // keep the screen; the plan panel says it whole.
    sentence(&text, width, WINDOW_ROWS, style)
}

/// The most rows the call window's sentence takes in the header.
const WINDOW_ROWS: usize = 3;
/// The most rows a lost lease's warning takes in the header.
const LOST_ROWS: usize = 2;

/// A sentence folded into at most `max` rows of `width` columns, the rows
/// after the first indented under it, the last ending in `…` when cut.
fn sentence(text: &str, width: usize, max: usize, style: Style) -> Vec<Line<'static>> {
    let mut rows = fold(text.split(' '), width.saturating_sub(2));
    if rows.len() > max {
        rows.truncate(max);
        rows[max - 1].push_str(" …");
    }
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let indent = if i == 0 { "" } else { "  " };
            Line::styled(format!("{indent}{row}"), style)
        })
        .collect()
}

fn total(d: &DebtorView) -> Option<Money> {
    let first = d.debts.first()?;
    let currency = Currency::read(&first.currency).ok()?;
    let mut sum = Money::new(0, currency);
    for debt in &d.debts {
        sum = sum
            .checked_add(Money::new(
                debt.balance_minor,
                Currency::read(&debt.currency).ok()?,
            ))
            .ok()?;
    }
    Some(sum)
}

#[allow(clippy::too_many_arguments)]
fn render_panel(
    frame: &mut Frame,
    area: Rect,
    text: Scrolled<'static>,
    scroll: Option<&Scroll>,
    focused: bool,
    theme: &Theme,
) {
    let border = if focused {
        theme.fg(theme.focus)
    } else {
        theme.fg(theme.border)
    };
    let text = Scrolled {
        block: text.block.border_style(border),
        ..text
    };
    super::scrolled(frame, area, text, scroll);
}

/// A panel's text in its titled box.
fn boxed(title: &str, text: Text<'static>, whole: bool, theme: &Theme) -> Scrolled<'static> {
    let block =
        Block::bordered().title(Span::styled(format!(" {title} "), theme.alert(theme.title)));
    Scrolled {
        text,
        wrap: true,
        whole,
        block,
    }
}

/// Which panel a box shows, with what its text needs from the frame.
#[derive(Clone, Copy)]
struct Shown<'a> {
    which: Panel,
    zone: Option<Tz>,
    promises: Option<&'a Fates>,
}

fn panel(frame: &mut Frame, area: Rect, app: &App, w: &Workspace, on: Shown<'_>, theme: &Theme) {
    let Shown { which, zone, .. } = on;
    let words = words(app.locale);
    let (title, text) = match which {
        Panel::Script => (
            words.talking_points.to_string(),
            (script_text(app, w, theme), true),
        ),
        Panel::Timeline => (
            format!(
                "{} · {}: {}",
                words.timeline,
                words.filter,
                w.filter.name(app.locale)
            ),
            // Each line takes at least one row: the lines scrolled past
            // and a panel's height of them hold every row on screen.
            timeline_text(
                app,
                w,
                on,
                theme,
                usize::from(w.scroll_of(which).top()) + usize::from(area.height),
            ),
        ),
        Panel::Plan => (
            words.plan.to_string(),
            (plan_text(app, w, zone, theme), true),
        ),
    };
    let focused = which == w.panel;
    let (text, whole) = text;
    let text = boxed(&title, text, whole, theme);
    render_panel(frame, area, text, Some(w.scroll_of(which)), focused, theme);
}

fn remote_text<T>(
    r: &Remote<T>,
    app: &App,
    theme: &Theme,
    f: impl FnOnce(&T) -> Text<'static>,
) -> Text<'static> {
    match r {
        Remote::Loading => Text::styled(words(app.locale).loading, theme.fg(theme.muted)),
        Remote::Failed(e) => Text::styled(e.clone(), theme.alert(theme.danger)),
        Remote::Ready(t) => f(t),
    }
}

fn script_text(app: &App, w: &Workspace, theme: &Theme) -> Text<'static> {
    remote_text(&w.script, app, theme, |s| {
        let mut lines = Vec::new();
        for (i, p) in s.points.iter().enumerate() {
            lines.push(Line::styled(
                format!("{}. {}", i + 1, p.title),
                theme.alert(theme.focus),
            ));
            for l in p.text.lines() {
                lines.push(Line::from(l.to_string()));
            }
            lines.push(Line::default());
        }
        Text::from(lines)
    })
}

/// The newest `lines` events the filter shows, newest first, and whether
/// that is all: only what can reach the screen is formatted, however long
/// the history.
fn timeline_text(
    app: &App,
    w: &Workspace,
    on: Shown<'_>,
    theme: &Theme,
    lines: usize,
) -> (Text<'static>, bool) {
    let zone = on.zone;
    let mut whole = true;
    let text = remote_text(&w.timeline, app, theme, |events| {
        let fate = |i: usize| on.promises.and_then(|p| p.of(i));
        let mut shown = events
            .iter()
            .enumerate()
            .rev()
            .filter(|(_, e)| w.filter.shows(e));
        let lines: Vec<Line> = shown
            .by_ref()
            .take(lines)
            .map(|(i, e)| {
                let fate = fate(i);
                // A promise in the colour of what came of it.
                let colour = match (&e.kind, fate) {
                    (EventKind::Payment { .. } | EventKind::Forgiven { .. }, _)
                    | (_, Some(Fate::Kept)) => theme.paid,
                    (_, Some(Fate::Broken)) => theme.warn,
                    (_, Some(Fate::Replaced)) => theme.muted,
                    (EventKind::Promise { .. } | EventKind::InstallmentPlan { .. }, _) => {
                        theme.promise
                    }
                    (EventKind::Flag { .. }, _) => theme.danger,
                    _ => theme.text,
                };
                Line::from(vec![
                    Span::styled(stamp(e.at, zone, app.locale), theme.fg(theme.muted)),
                    Span::raw(" "),
                    Span::styled(event_line(e, fate, zone, app.locale), theme.fg(colour)),
                ])
            })
            .collect();
        whole = shown.next().is_none();
        if lines.is_empty() {
            Text::styled(words(app.locale).none, theme.fg(theme.muted))
        } else {
            Text::from(lines)
        }
    });
    (text, whole)
}

fn plan_text(app: &App, w: &Workspace, zone: Option<Tz>, theme: &Theme) -> Text<'static> {
    remote_text(&w.plan, app, theme, |p: &PlanView| {
        let mut lines = Vec::new();
        // The wire names a channel by its machine name.
        let channel = |name: &str| {
            Channel::ALL
                .into_iter()
                .find(|c| c.name() == name)
                .map_or(name.to_string(), |c| c.said(app.locale).to_string())
        };
        for a in &p.actions {
            let at =
                a.at.map_or(String::new(), |t| local_time(t, zone, app.locale));
            lines.push(Line::from(vec![
                Span::styled("▸ ", theme.fg(theme.ok)),
                Span::raw(format!("{} {} ", channel(&a.channel), at)),
                Span::styled(a.why.clone(), theme.fg(theme.muted)),
            ]));
        }
        for b in &p.blocked {
            let until = b.at.map_or(words(app.locale).never.to_string(), |t| {
                format!(
                    "{} {}",
                    words(app.locale).blocked_until,
                    local_time(t, zone, app.locale)
                )
            });
            lines.push(Line::from(vec![
                Span::styled("■ ", theme.fg(theme.danger)),
                Span::raw(format!("{}: {} — ", channel(&b.channel), b.why)),
                Span::styled(until, theme.fg(theme.warn)),
            ]));
        }
        // The actions and blocked ones are drawn above already; a server
        // without the summary has only the whole explanation to give.
        let shown = if p.summary.is_empty() {
            &p.explanation
        } else {
            &p.summary
        };
        if !shown.is_empty() {
            lines.push(Line::default());
            for e in shown {
                lines.push(Line::styled(e.clone(), theme.fg(theme.muted)));
            }
        }
        Text::from(lines)
    })
}

fn debts_text(app: &App, w: &Workspace, promises: Option<&Fates>) -> Text<'static> {
    let locale = app.locale;
    let mut lines = Vec::new();
    if let Some(d) = w.debtor.ready() {
        let today = w.today(app.now);
        for debt in &d.debts {
            let Ok(c) = Currency::read(&debt.currency) else {
                continue;
            };
            // Each figure with its name: two bare amounts side by side
            // read as either.
            let due = if debt.due_date < today {
                locale.pick("venceu em", "was due")
            } else {
                locale.pick("vence em", "due")
            };
            lines.push(Line::from(debt.creditor.clone()).style(Modifier::BOLD));
            lines.push(Line::from(format!(
                "  {} {}",
                locale.pick("saldo", "balance"),
                Money::new(debt.balance_minor, c).display(locale),
            )));
            lines.push(Line::from(format!(
                "  original {}",
                Money::new(debt.original_minor, c).display(locale),
            )));
            lines.push(Line::from(format!(
                "  {due} {}",
                locale.date(debt.due_date)
            )));
        }
    }
    if let (Some(promises), Some(_)) = (promises, w.debtor.ready()) {
        lines.push(Line::default());
        lines.push(Line::from(words(locale).promises).style(Modifier::BOLD));
        lines.extend(promise_summary(&promises.ledger, locale));
    }
    Text::from(lines)
}

/// Promises kept and broken, and the open one by its date (its grace is
/// the plan's to say), each on its line.
fn promise_summary(l: &Ledger, locale: Locale) -> Vec<Line<'static>> {
    let pt = locale == Locale::PtBr;
    let mut lines = vec![Line::from(if pt {
        format!("  cumpridas {} · quebradas {}", l.kept, l.broken)
    } else {
        format!("  kept {} · broken {}", l.kept, l.broken)
    })];
    if let Some(open) = &l.open {
        lines.push(Line::from(format!(
            "  {} {} {} {}",
            locale.pick("em aberto:", "open:"),
            open.remaining.display(locale),
            locale.pick("para", "due"),
            locale.date(open.date)
        )));
        if let Some(f) = open.forgives {
            lines.push(Line::from(format!(
                "  {} {}",
                locale.pick("quitação: perdoa", "settlement: forgives"),
                f.display(locale)
            )));
        }
        // A plan's installment, as the plan panel says it.
        let n = open.later_installments;
        if n > 0 {
            lines.push(Line::from(match (locale, n) {
                (Locale::PtBr, 1) => "  mais 1 parcela depois".to_string(),
                (Locale::PtBr, n) => format!("  mais {n} parcelas depois"),
                (Locale::En, 1) => "  1 more installment after".to_string(),
                (Locale::En, n) => format!("  {n} more installments after"),
            }));
        }
    }
    lines
}

fn offers_text(app: &App, w: &Workspace, theme: &Theme) -> Text<'static> {
    remote_text(&w.script, app, theme, |s| match terms_of(s) {
        Some(t) => {
            let locale = app.locale;
            let pt = locale == Locale::PtBr;
            Text::from(vec![
                Line::from(format!(
                    "{} {}",
                    if pt { "À vista:" } else { "In full:" },
                    t.pay_in_full.display(locale)
                )),
                Line::from(format!(
                    "{} {}",
                    if pt {
                        "  desconto até"
                    } else {
                        "  discount up to"
                    },
                    t.max_discount.display(locale)
                )),
                Line::from(format!(
                    "{} {}x, {} {}",
                    if pt {
                        "Parcelas: até"
                    } else {
                        "Installments: up to"
                    },
                    t.max_installments,
                    if pt { "mín." } else { "min." },
                    t.min_installment.display(locale)
                )),
                Line::from(format!(
                    "{} {}",
                    if pt { "Promessa até" } else { "Promise by" },
                    locale.date(t.latest_promise_date)
                )),
            ])
        }
        None => Text::styled(words(app.locale).none, theme.fg(theme.muted)),
    })
}
