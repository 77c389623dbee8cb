//! Drawing the board. Views read the model and the theme and write to the
//! frame; they never change state. Times in state show minutes, and
//! seconds only for the selected agent, so a quiet board rewrites a few
//! cells a second at most.

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Sparkline, Table, Wrap};

use super::model::{ACTIONS, Board, Detail, Level, Overlay, Panel, state_word};
use crate::api::{AgentState, BoardAgent, FeedView, Tally};
use crate::console::app::{Remote, Severity};
use crate::console::format::{span, wait};
use crate::console::keymap::Mode;
use crate::console::scroll::Scroll;
use crate::console::theme::Theme;
use crate::console::views::{Hint, Scrolled, cut, fitting, help_rows, scrolled};
use crate::domain::{Currency, Disposition, Locale, Money};
use crate::schedule::compliance::rule_said;
use unicode_width::UnicodeWidthStr;

/// The top bar's clock: minutes only, so it changes once a minute.
pub fn clock(now: DateTime<Utc>) -> String {
    now.format("%H:%M UTC").to_string()
}

/// Time in a state: `m:ss` for the selected agent in their first hour,
/// else `7m`, `1h05` or `3d` (the column is 5 wide: `1:05:23` was cut to
/// `1:05:`, which read as a minute).
pub fn in_state(d: Duration, selected: bool) -> String {
    if selected && d < Duration::hours(1) {
        return span(d);
    }
    wait(d)
}

/// The rows of each part of the screen at a size: the top bar, the
/// queues, the agents beside today's figures, the ticker, the key bar.
fn parts(area: Rect, queues: usize) -> [Rect; 5] {
    let ticker = if area.height >= 36 { 8 } else { 4 };
    let queue_rows = (queues as u16).clamp(1, if area.height >= 36 { 12 } else { 6 });
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(queue_rows + 2),
        Constraint::Min(4),
        Constraint::Length(ticker),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// The agents panel and today's beside it.
fn middle(area: Rect) -> [Rect; 2] {
    Layout::horizontal([
        Constraint::Min(40),
        Constraint::Length(if area.width >= 110 { 40 } else { 30 }),
    ])
    .areas(area)
}

/// How many agent rows fit at a screen size (the model scrolls by it).
pub fn agent_rows(size: (u16, u16), queues: usize) -> usize {
    let [_, _, mid, _, _] = parts(Rect::new(0, 0, size.0, size.1), queues);
    usize::from(mid.height.saturating_sub(2))
}

pub fn draw(frame: &mut Frame, b: &Board, theme: &Theme) {
    let queues = b.visible_queues();
    let [top, qarea, mid, ticker, bottom] = parts(frame.area(), queues.len());
    let [agents, today] = middle(mid);
    top_bar(frame, top, b, theme);
    if let Remote::Failed(e) = &b.loaded {
        let cannot = b.locale.pick(
            "não foi possível carregar o painel",
            "cannot load the board",
        );
        let p = Paragraph::new(format!("{cannot}: {e}"))
            .style(theme.alert(theme.danger))
            .wrap(Wrap { trim: true });
        frame.render_widget(p, qarea.union(mid));
    } else {
        queue_table(frame, qarea, b, theme);
        agent_table(frame, agents, b, theme);
        today_panel(frame, today, b, theme);
    }
    ticker_panel(frame, ticker, b, theme);
    key_bar(frame, bottom, b, theme);
    match &b.overlay {
        Some(Overlay::Detail { detail, scroll }) => {
            detail_panel(frame, qarea.union(mid), b, detail, scroll, theme)
        }
        Some(Overlay::Help(scroll)) => {
            help(frame, qarea.union(mid).union(ticker), b, scroll, theme)
        }
        _ => {}
    }
}

fn block<'a>(title: &'a str, focused: bool, theme: &Theme) -> Block<'a> {
    let colour = if focused { theme.focus } else { theme.border };
    Block::default()
        .borders(Borders::TOP)
        .border_style(theme.fg(colour))
        .title(Span::styled(format!(" {title} "), theme.alert(theme.title)))
}

fn top_bar(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let mut spans = vec![
        Span::styled(" regua board ", theme.alert(theme.title)),
        Span::styled(
            b.user.clone(),
            theme.fg(theme.text).add_modifier(Modifier::BOLD),
        ),
        Span::styled(format!(" @ {}", b.server), theme.fg(theme.muted)),
        Span::raw(" · "),
    ];
    let w = |pt, en| b.locale.pick(pt, en);
    match &b.offline {
        None => spans.push(Span::styled(w("● ao vivo", "● live"), theme.fg(theme.ok))),
        Some(why) => spans.push(Span::styled(
            format!("⚠ {}: {why}", w("sem conexão", "offline")),
            theme.alert(theme.danger),
        )),
    }
    if !b.filter.is_empty() {
        spans.push(Span::styled(
            format!(" · {} “{}”", w("filtro", "filter"), b.filter),
            theme.fg(theme.warn),
        ));
    }
    spans.push(Span::styled(
        format!(" · {}", clock(b.now)),
        theme.fg(theme.muted),
    ));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// The blocked debtors by rule, most first, each rule in words: as many
/// whole rules as fit in `width` columns, the others as "…" (the
/// drill-down lists them all). A first rule too wide alone loses the end
/// of its words, never its count; one that fits alone but not with the
/// "…" stands alone (the total before it says there are more).
pub(super) fn blocked_text(
    blocked: &std::collections::BTreeMap<String, i64>,
    locale: Locale,
    width: usize,
) -> String {
    let mut rules: Vec<_> = blocked.iter().collect();
    rules.sort_by(|x, y| y.1.cmp(x.1).then(x.0.cmp(y.0)));
    let mut text = String::new();
    for (i, (code, n)) in rules.iter().enumerate() {
        let words = rule_said(code, locale).unwrap_or(code);
        let rule = format!("{words} {n}");
        let sep = if i == 0 { "" } else { ", " };
        let rest = if i + 1 < rules.len() { ", …" } else { "" };
        if i == 0 && rule.width() > width {
            let count = format!("… {n}");
            text = format!("{}{count}", cut(words, width.saturating_sub(count.width())));
            break;
        }
        if i == 0 && rule.width() + rest.width() > width {
            text = rule;
            break;
        }
        if i > 0 && text.width() + sep.len() + rule.width() + rest.width() > width {
            text.push_str(", …");
            break;
        }
        text.push_str(sep);
        text.push_str(&rule);
    }
    text
}

fn queue_table(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let wide = area.width >= 110;
    let today = b.today.as_ref();
    let w = |pt, en| b.locale.pick(pt, en);
    let mut header = vec![
        w("fila", "queue"),
        w("total", "depth"),
        w("ligar", "call"),
        w("bloqueados (regra)", "blocked (by rule)"),
        w("espera", "oldest"),
        w("atd", "held"),
        "prom",
        w("cpc", "rpc"),
    ];
    let mut widths = vec![
        // "Promessas quebradas" whole.
        Constraint::Length(if wide { 22 } else { 19 }),
        Constraint::Length(5),
        Constraint::Length(5),
        Constraint::Min(12),
        Constraint::Length(6),
        Constraint::Length(4),
        Constraint::Length(4),
        Constraint::Length(4),
    ];
    if wide {
        header.extend([
            w("cump", "kept"),
            w("queb", "brkn"),
            w("prometido", "promised"),
            w("recebido", "collected"),
        ]);
        // As wide as the widest amount: R$ 2.345.678,90 cut to
        // `R$ 2.345.678,` hid the cents and read as millions less.
        let money_w = b
            .visible_queues()
            .iter()
            .filter_map(|q| today.and_then(|t| t.per_queue.get(&q.id)))
            .flat_map(|t| [t.promised_minor, t.collected_minor])
            .map(|m| money(m, b).width())
            .max()
            .unwrap_or(0)
            .max(13);
        let money_w = u16::try_from(money_w).unwrap_or(13);
        widths.extend([
            Constraint::Length(4),
            Constraint::Length(4),
            Constraint::Length(money_w),
            Constraint::Length(money_w),
        ]);
    }
    // The rules' column takes what the others leave (one column apart).
    let fixed: u16 = widths
        .iter()
        .map(|c| match c {
            Constraint::Length(n) => *n,
            _ => 0,
        })
        .sum();
    let gaps = u16::try_from(widths.len() - 1).unwrap_or(0);
    let room = area.width.saturating_sub(fixed + gaps);
    let queues = b.visible_queues();
    // The border and the header row take two; the selection stays in view.
    let fit = usize::from(area.height.saturating_sub(2));
    let shown = b.queues_shown.window(b.queue_sel, queues.len(), fit);
    let rows: Vec<Row> = queues[shown.clone()]
        .iter()
        .zip(shown.clone())
        .map(|(q, i)| {
            let t = today
                .and_then(|t| t.per_queue.get(&q.id))
                .cloned()
                .unwrap_or_default();
            let blocked: i64 = q.blocked.values().sum();
            let oldest = q.oldest_since.map_or("—".into(), |s| wait(b.now - s));
            let mut cells = vec![
                Cell::from(q.name.clone()),
                Cell::from(q.depth.to_string()),
                Cell::from(q.callable.to_string()).style(theme.fg(theme.ok)),
                Cell::from(if blocked > 0 {
                    let n = format!("{blocked}: ");
                    let rules = usize::from(room).saturating_sub(n.width());
                    format!("{n}{}", blocked_text(&q.blocked, b.locale, rules))
                } else {
                    "0".into()
                })
                .style(theme.fg(if blocked > 0 {
                    theme.warn
                } else {
                    theme.muted
                })),
                Cell::from(oldest),
                Cell::from(q.leased.to_string()),
                Cell::from(t.promises_made.to_string()).style(theme.fg(theme.promise)),
                Cell::from(percent(&t)),
            ];
            if wide {
                cells.push(Cell::from(t.promises_kept.to_string()).style(theme.fg(theme.paid)));
                cells.push(Cell::from(t.promises_broken.to_string()).style(theme.fg(theme.danger)));
                cells.push(Cell::from(money(t.promised_minor, b)));
                cells.push(Cell::from(money(t.collected_minor, b)).style(theme.fg(theme.paid)));
            }
            let row = Row::new(cells);
            if b.focus == Panel::Queues && i == b.queue_sel {
                row.style(theme.selection())
            } else {
                row
            }
        })
        .collect();
    let mut frame_block = block(w("filas", "queues"), b.focus == Panel::Queues, theme);
    if let Some(more) = hidden(&shown, queues.len()) {
        frame_block = frame_block.title_top(more);
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.fg(theme.muted)))
        .block(frame_block);
    frame.render_widget(table, area);
}

/// How many rows of a list are above and below those shown, on the
/// panel's border (`None` when all are shown).
fn hidden(shown: &std::ops::Range<usize>, len: usize) -> Option<Line<'static>> {
    let (above, below) = (shown.start, len.saturating_sub(shown.end));
    let mut marks = Vec::new();
    if above > 0 {
        marks.push(format!("↑{above}"));
    }
    if below > 0 {
        marks.push(format!("↓{below}"));
    }
    (!marks.is_empty()).then(|| Line::from(format!(" {} ", marks.join(" "))).right_aligned())
}

fn state_style(
    a: &BoardAgent,
    level: Level,
    locale: Locale,
    theme: &Theme,
) -> (&'static str, Style) {
    let name = state_word(a.state, locale);
    let base = match a.state {
        AgentState::Ready => theme.ok,
        AgentState::OnCall => theme.focus,
        AgentState::WrapUp => theme.pending,
        AgentState::Paused => theme.muted,
    };
    let style = match level {
        Level::Calm => theme.fg(base),
        Level::Warn => theme.fg(theme.warn),
        Level::Alert => theme.alert(theme.danger),
    };
    (name, style)
}

fn agent_table(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let list = b.visible_agents();
    let rows_fit = usize::from(area.height.saturating_sub(2));
    let top = b.agent_top.min(list.len());
    let shown = top..(top + rows_fit).min(list.len());
    let rows: Vec<Row> = list[shown.clone()]
        .iter()
        .map(|a| {
            let selected = b.agent_sel == Some(a.id);
            let level = b.level(a);
            let (state, style) = state_style(a, level, b.locale, theme);
            let state = match &a.reason {
                Some(r) => format!("{state}: {r}"),
                None => state.to_string(),
            };
            let row = Row::new(vec![
                Cell::from(a.name.clone()),
                Cell::from(state).style(style),
                Cell::from(in_state(b.now - a.since, selected)).style(style),
                Cell::from(
                    a.lease
                        .as_ref()
                        .map_or(String::new(), |l| l.debtor_name.clone()),
                ),
                Cell::from(a.calls_today.to_string()),
                Cell::from(a.rpc_today.to_string()),
                Cell::from(a.promises_today.to_string()).style(theme.fg(theme.promise)),
            ]);
            if selected && b.focus == Panel::Agents {
                row.style(theme.selection())
            } else {
                row
            }
        })
        .collect();
    let w = |pt, en| b.locale.pick(pt, en);
    let title = format!(
        "{} {} · {} {}",
        w("agentes", "agents"),
        if list.len() == b.agents.len() {
            list.len().to_string()
        } else {
            format!("{}/{}", list.len(), b.agents.len())
        },
        w("por", "by"),
        b.sort.name(b.locale)
    );
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Min(10),
            Constraint::Length(5),
            Constraint::Min(8),
            Constraint::Length(4),
            Constraint::Length(3),
            Constraint::Length(4),
        ],
    )
    .header(
        Row::new([
            w("agente", "agent"),
            w("estado", "state"),
            w("tempo", "time"),
            w("devedor", "debtor"),
            w("lig", "call"),
            w("cpc", "rpc"),
            "prom",
        ])
        .style(theme.fg(theme.muted)),
    )
    .block({
        let frame_block = block(&title, b.focus == Panel::Agents, theme);
        match hidden(&shown, list.len()) {
            Some(more) => frame_block.title_top(more),
            None => frame_block,
        }
    });
    frame.render_widget(table, area);
}

fn percent(t: &Tally) -> String {
    if t.contacts == 0 {
        "—".into()
    } else {
        format!("{:.0}%", t.rpc_rate * 100.0)
    }
}

/// An amount in the operation's currency, as the supervisor's language
/// writes money.
fn money(minor: i64, b: &Board) -> String {
    Money::new(minor, b.currency).display(b.locale).to_string()
}

/// An amount an event tells of, in the currency it names (the board's
/// where it names none).
fn money_of(minor: i64, body: &serde_json::Value, b: &Board) -> String {
    let currency = body["currency"]
        .as_str()
        .and_then(|c| Currency::read(c).ok())
        .unwrap_or(b.currency);
    Money::new(minor, currency).display(b.locale).to_string()
}

fn today_panel(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let w = |pt, en| b.locale.pick(pt, en);
    let blk = block(w("hoje", "today"), false, theme).borders(Borders::TOP | Borders::LEFT);
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    let Some(today) = &b.today else {
        frame.render_widget(
            Paragraph::new(w("carregando…", "loading…")).style(theme.fg(theme.muted)),
            inner,
        );
        return;
    };
    let t = &today.total;
    let lines = vec![
        Line::from(vec![
            Span::styled(w("contatos ", "contacts "), theme.fg(theme.muted)),
            Span::raw(t.contacts.to_string()),
            Span::styled(w("  cpc ", "  rpc "), theme.fg(theme.muted)),
            Span::raw(format!("{} ({})", t.rpc, percent(t))),
        ]),
        Line::from(vec![
            Span::styled(w("promessas ", "promises "), theme.fg(theme.muted)),
            Span::styled(t.promises_made.to_string(), theme.fg(theme.promise)),
        ]),
        // Kept and broken on a line of their own: 30 columns hold them.
        Line::from(vec![
            Span::styled(w("  cumpridas ", "  kept "), theme.fg(theme.muted)),
            Span::styled(t.promises_kept.to_string(), theme.fg(theme.paid)),
            Span::styled(w(" quebradas ", " broken "), theme.fg(theme.muted)),
            Span::styled(t.promises_broken.to_string(), theme.fg(theme.danger)),
        ]),
        Line::from(vec![
            Span::styled(w("prometido ", "promised "), theme.fg(theme.muted)),
            Span::raw(money(t.promised_minor, b)),
        ]),
        Line::from(vec![
            Span::styled(w("recebido ", "collected "), theme.fg(theme.muted)),
            Span::styled(money(t.collected_minor, b), theme.fg(theme.paid)),
        ]),
    ];
    let n = lines.len() as u16;
    let [text, chart] = Layout::vertical([Constraint::Length(n), Constraint::Min(0)]).areas(inner);
    frame.render_widget(Paragraph::new(lines), text);
    if chart.height < 2 {
        return;
    }
    // Two sparklines, one bar per hour of the day (UTC).
    let [c_label, c_bars, p_label, p_bars] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Fill(1),
        Constraint::Length(1),
        Constraint::Fill(1),
    ])
    .areas(chart);
    let contacts: Vec<u64> = today
        .hourly
        .iter()
        .map(|h| h.contacts.max(0) as u64)
        .collect();
    let promises: Vec<u64> = today
        .hourly
        .iter()
        .map(|h| h.promises.max(0) as u64)
        .collect();
    frame.render_widget(
        Paragraph::new(w("contatos por hora, 0–23 h", "contacts per hour, 0–23 h"))
            .style(theme.fg(theme.muted)),
        c_label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&contacts)
            .style(theme.fg(theme.focus)),
        c_bars,
    );
    frame.render_widget(
        Paragraph::new(w("promessas por hora", "promises per hour")).style(theme.fg(theme.muted)),
        p_label,
    );
    frame.render_widget(
        Sparkline::default()
            .data(&promises)
            .style(theme.fg(theme.promise)),
        p_bars,
    );
}

/// One event as the ticker says it.
pub fn ticker_line(e: &FeedView, b: &Board) -> String {
    let w = |pt, en| b.locale.pick(pt, en);
    // An agent the board never saw (the event is older than it) by the
    // name the event gives, else by number.
    let who = match e.user_id {
        Some(id) => b
            .agent_name(id)
            .map(str::to_string)
            .or_else(|| e.body["agent_name"].as_str().map(str::to_string))
            .unwrap_or_else(|| format!("#{id}")),
        None => "—".to_string(),
    };
    // By name when an agent held them (the board read it from the lease).
    let debtor = match (e.body["debtor_name"].as_str(), e.debtor_id) {
        (Some(name), _) => format!(" — {name}"),
        (None, Some(d)) => format!(" {} {d}", w("devedor", "debtor")),
        (None, None) => String::new(),
    };
    let body = &e.body;
    let lease = body["lease_id"].clone();
    let what = match e.kind.as_str() {
        "outcome_recorded" => {
            let d: Option<Disposition> = serde_json::from_value(body["disposition"].clone()).ok();
            let d = d.map_or(w("resultado", "outcome"), |d| {
                crate::console::words::disposition(b.locale, d)
            });
            match body["promised_minor"].as_i64().filter(|m| *m > 0) {
                Some(m) => format!("{who}: {d} {}{debtor}", money_of(m, body, b)),
                None => format!("{who}: {d}{debtor}"),
            }
        }
        "payment_received" => {
            let paid = format!(
                "{} {}",
                w("pagamento", "payment"),
                money_of(body["amount_minor"].as_i64().unwrap_or(0), body, b)
            );
            match body["forgiven_minor"].as_i64().filter(|m| *m > 0) {
                Some(m) => format!(
                    "{paid} {} {}{debtor}",
                    w("quita com desconto de", "settles, forgiving"),
                    money_of(m, body, b)
                ),
                None => format!("{paid}{debtor}"),
            }
        }
        "promise_kept" => format!("{}{debtor}", w("promessa cumprida", "promise kept")),
        "promise_broken" => format!("{}{debtor}", w("promessa quebrada", "promise broken")),
        "lease_released" => {
            // Let go by someone else (a supervisor): who.
            let by = match (body["by_name"].as_str(), body["by"] != body["agent_id"]) {
                (Some(name), true) => format!(" {} {name}", w("por", "by")),
                _ => String::new(),
            };
            match b.locale {
                Locale::PtBr => format!("reserva {lease} de {who} liberada{by}{debtor}"),
                Locale::En => format!("lease {lease} of {who} released{by}{debtor}"),
            }
        }
        "lease_expired" => match b.locale {
            Locale::PtBr => format!("reserva {lease} de {who} expirou{debtor}"),
            Locale::En => format!("lease {lease} of {who} ran out{debtor}"),
        },
        other => other.to_string(),
    };
    format!("{} {what}", e.at.format("%H:%M:%S"))
}

fn ticker_panel(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let blk = block(b.locale.pick("eventos", "events"), false, theme);
    let inner = blk.inner(area);
    frame.render_widget(blk, area);
    let n = usize::from(inner.height);
    let lines: Vec<Line> = b
        .ticker
        .iter()
        .rev()
        .take(n)
        .map(|e| {
            let colour = match e.kind.as_str() {
                "promise_broken" => theme.danger,
                "payment_received" | "promise_kept" => theme.paid,
                "lease_released" | "lease_expired" => theme.warn,
                _ => theme.text,
            };
            Line::styled(ticker_line(e, b), theme.fg(colour))
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), inner);
}

/// Room for the typed reason on the key bar: what the prompt's words and
/// its hint leave.
fn prompt_room(area: Rect, name: &str) -> usize {
    usize::from(area.width).saturating_sub(name.width() + 48)
}

/// The end of `text` in `room` columns, `…` where it was cut: the end is
/// where the typing is.
fn tail(text: &str, room: usize) -> String {
    if text.width() <= room {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut used = 1;
    for c in text.chars().rev() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room {
            break;
        }
        used += w;
        kept.insert(0, c);
    }
    format!("…{kept}")
}

fn key_bar(frame: &mut Frame, area: Rect, b: &Board, theme: &Theme) {
    let w = |pt, en| b.locale.pick(pt, en);
    let line = match (&b.overlay, &b.notice) {
        (Some(Overlay::Filter), _) => Line::from(vec![
            Span::styled(w("filtro: ", "filter: "), theme.alert(theme.focus)),
            Span::raw(format!("{}▏", b.filter)),
            Span::styled(
                w("  enter mantém · esc limpa", "  enter keeps · esc clears"),
                theme.fg(theme.muted),
            ),
        ]),
        (Some(Overlay::Pause { name, reason, .. }), _) => Line::from(vec![
            Span::styled(
                match b.locale {
                    Locale::PtBr => format!("pausar {name}, motivo: "),
                    Locale::En => format!("pause {name}, reason: "),
                },
                theme.alert(theme.warn),
            ),
            Span::raw(format!("{}▏", tail(reason, prompt_room(area, name)))),
            match &b.notice {
                Some((_, said)) => Span::styled(format!("  {said}"), theme.alert(theme.warn)),
                None => Span::styled(
                    w(
                        "  enter pausa · esc cancela",
                        "  enter pauses · esc cancels",
                    ),
                    theme.fg(theme.muted),
                ),
            },
        ]),
        (_, Some((severity, text))) => {
            let colour = match severity {
                Severity::Info => theme.ok,
                Severity::Warn => theme.warn,
                Severity::Error => theme.danger,
            };
            Line::styled(text.clone(), theme.alert(colour))
        }
        _ => {
            use crate::console::action::Action;
            let mode = b.mode();
            // The way between panels before sorting, which 80 columns
            // leave out first; an agent's actions only with an agent to
            // act on (a queue's drill-down has none).
            let agent = b.target_agent().is_some();
            let hints = [
                (Action::Select, w("abrir", "open")),
                (Action::Filter, w("filtrar", "filter")),
                (Action::NextPanel, w("painel", "panel")),
                (Action::PauseAgent, w("pausar", "pause")),
                (Action::ReleaseLease, w("liberar", "release")),
                (Action::Sort, w("ordenar", "sort")),
                (Action::Help, w("teclas", "keys")),
                (Action::Back, w("voltar", "back")),
                (Action::Quit, w("sair", "quit")),
            ]
            .iter()
            .filter(|(a, _)| mode != Mode::Board || *a != Action::Back)
            .filter(|(a, _)| agent || !matches!(a, Action::PauseAgent | Action::ReleaseLease))
            .filter_map(|(a, said)| {
                Some(Hint {
                    action: *a,
                    key: b.keymap.key_for(mode, *a)?.to_string(),
                    said,
                })
            })
            .collect();
            let hints: Vec<String> = fitting(hints, 3, usize::from(area.width))
                .into_iter()
                .map(|h| format!("{} {}", h.key, h.said))
                .collect();
            Line::styled(hints.join(" · "), theme.fg(theme.muted))
        }
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn detail_panel(
    frame: &mut Frame,
    area: Rect,
    b: &Board,
    d: &Detail,
    scroll: &Scroll,
    theme: &Theme,
) {
    frame.render_widget(Clear, area);
    let mut lines: Vec<Line> = Vec::new();
    let title;
    let w = |pt, en| b.locale.pick(pt, en);
    let pt = b.locale == Locale::PtBr;
    match d {
        Detail::Agent { id, calls } => {
            let agent = b.agents.iter().find(|a| a.id == *id);
            title = format!(
                "{} {}",
                w("agente", "agent"),
                agent.map_or("?", |a| a.name.as_str())
            );
            if let Some(a) = agent {
                let (state, style) = state_style(a, b.level(a), b.locale, theme);
                let mut first = vec![
                    Span::styled(state, style),
                    Span::styled(
                        format!(" {} {}", w("há", "for"), span(b.now - a.since)),
                        style,
                    ),
                ];
                if let Some(r) = &a.reason {
                    first.push(Span::raw(format!(" — {r}")));
                }
                lines.push(Line::from(first));
                // In UTC, as the top bar's clock: the agents may be in
                // several zones, the debtors in others.
                lines.push(Line::raw(match (&a.lease, pt) {
                    (Some(l), true) => format!(
                        "com {} (devedor {}), reserva {} até {} UTC",
                        l.debtor_name,
                        l.debtor_id,
                        l.id,
                        l.expires_at.format("%H:%M:%S")
                    ),
                    (Some(l), false) => format!(
                        "holds {} (debtor {}), lease {} until {} UTC",
                        l.debtor_name,
                        l.debtor_id,
                        l.id,
                        l.expires_at.format("%H:%M:%S")
                    ),
                    (None, _) => w("sem devedor", "holds no debtor").into(),
                }));
                let (calls_today, rpc, promises) = (a.calls_today, a.rpc_today, a.promises_today);
                let n = |n: i64, one: &str, many: &str| {
                    format!("{n} {}", if n == 1 { one } else { many })
                };
                lines.push(Line::styled(
                    if pt {
                        format!(
                            "hoje: {}, {rpc} CPC, {}",
                            n(calls_today, "ligação", "ligações"),
                            n(promises, "promessa", "promessas")
                        )
                    } else {
                        format!(
                            "today: {}, {rpc} right-party, {}",
                            n(calls_today, "call", "calls"),
                            n(promises, "promise", "promises")
                        )
                    },
                    theme.fg(theme.muted),
                ));
            }
            lines.push(Line::raw(""));
            match calls {
                Remote::Loading => lines.push(Line::styled(
                    w("carregando ligações…", "loading calls…"),
                    theme.fg(theme.muted),
                )),
                Remote::Failed(e) => lines.push(Line::styled(e.clone(), theme.fg(theme.danger))),
                Remote::Ready(list) if list.is_empty() => lines.push(Line::styled(
                    w("nenhuma ligação hoje", "no calls today"),
                    theme.fg(theme.muted),
                )),
                Remote::Ready(list) => {
                    for c in list {
                        let what = c
                            .disposition
                            .map_or(w("ligação em curso", "open call"), |d| {
                                crate::console::words::disposition(b.locale, d)
                            });
                        let promised = c
                            .promised_minor
                            .map_or(String::new(), |m| format!(" {}", money(m, b)));
                        // The queue as the panel names it (its id if gone).
                        let queue = c.queue.as_deref().map_or(w("sem fila", "no queue"), |id| {
                            b.queues
                                .iter()
                                .find(|q| q.id == id)
                                .map_or(id, |q| q.name.as_str())
                        });
                        lines.push(Line::raw(format!(
                            "{} {} — {what}{promised} · {queue}",
                            c.started_at.format("%H:%M"),
                            c.debtor_name,
                        )));
                    }
                }
            }
        }
        Detail::Queue { id, debtors } => {
            let q = b.queues.iter().find(|q| &q.id == id);
            title = format!(
                "{} {}",
                w("fila", "queue"),
                q.map_or(id.as_str(), |q| q.name.as_str())
            );
            if let Some(q) = q {
                let (depth, callable, leased) = (q.depth, q.callable, q.leased);
                lines.push(Line::raw(if pt {
                    format!("{depth} na fila, {callable} podem receber ligação agora, {leased} em atendimento")
                } else {
                    format!("{depth} waiting, {callable} may be called now, {leased} held")
                }));
                if !q.blocked.is_empty() {
                    lines.push(Line::styled(
                        format!(
                            "{}: {}",
                            w("bloqueados por regra", "blocked by rule"),
                            blocked_text(&q.blocked, b.locale, usize::MAX)
                        ),
                        theme.fg(theme.warn),
                    ));
                }
            }
            if let Some(t) = b.today.as_ref().and_then(|t| t.per_queue.get(id)) {
                lines.push(Line::styled(
                    format!(
                        "{} {} {}, {} {}, {} {} {} {} {} {}, {} {}, {} {}",
                        w("hoje:", "today:"),
                        t.contacts,
                        match t.contacts {
                            1 => w("contato", "contact"),
                            _ => w("contatos", "contacts"),
                        },
                        w("cpc", "rpc"),
                        percent(t),
                        w("promessas", "promises"),
                        t.promises_made,
                        w("cumpridas", "kept"),
                        t.promises_kept,
                        w("quebradas", "broken"),
                        t.promises_broken,
                        w("prometido", "promised"),
                        money(t.promised_minor, b),
                        w("recebido", "collected"),
                        money(t.collected_minor, b)
                    ),
                    theme.fg(theme.muted),
                ));
            }
            lines.push(Line::raw(""));
            match debtors {
                Remote::Loading => lines.push(Line::styled(
                    w("carregando devedores…", "loading debtors…"),
                    theme.fg(theme.muted),
                )),
                Remote::Failed(e) => lines.push(Line::styled(e.clone(), theme.fg(theme.danger))),
                Remote::Ready(list) if list.is_empty() => lines.push(Line::styled(
                    w("ninguém na fila", "nobody waiting"),
                    theme.fg(theme.muted),
                )),
                Remote::Ready(list) => {
                    for d in list {
                        let since = d.waiting_since.map_or(String::new(), |s| {
                            format!(" {} {}", w("esperando", "waiting"), wait(b.now - s))
                        });
                        let why = match (&d.blocked_by, d.callable) {
                            (_, true) => {
                                Span::styled(w("pode ligar", "callable"), theme.fg(theme.ok))
                            }
                            (Some(rule), false) => {
                                let until = d.review_at.map_or(String::new(), |t| {
                                    format!(" {} {}", w("até", "until"), t.format("%d/%m %H:%M"))
                                });
                                let rule = rule_said(rule, b.locale).unwrap_or(rule);
                                Span::styled(
                                    format!("{}: {rule}{until}", w("bloqueado", "blocked")),
                                    theme.fg(theme.warn),
                                )
                            }
                            (None, false) => Span::styled(
                                w("não pode ligar agora", "not callable now"),
                                theme.fg(theme.warn),
                            ),
                        };
                        let held = d
                            .leased_by
                            .and_then(|id| b.agents.iter().find(|a| a.id == id))
                            .map_or(
                                if d.leased_by.is_some() {
                                    format!(" · {}", w("em atendimento", "held"))
                                } else {
                                    String::new()
                                },
                                |a| format!(" · {} {}", w("com", "held by"), a.name),
                            );
                        lines.push(Line::from(vec![
                            Span::raw(format!("{:>6} {}{since} · ", d.debtor_id, d.name)),
                            why,
                            Span::styled(held, theme.fg(theme.focus)),
                        ]));
                    }
                }
            }
        }
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(theme.focus))
        .title(Span::styled(format!(" {title} "), theme.alert(theme.title)));
    // Wrapped: at 80 columns a debtor's blocking rule or the queue's list
    // of rules runs past the edge, and the drill-down is where they are
    // said whole.
    let text = Scrolled {
        text: lines.into(),
        wrap: true,
        whole: true,
        block,
    };
    scrolled(frame, area, text, Some(scroll));
}

fn help(frame: &mut Frame, area: Rect, b: &Board, scroll: &Scroll, theme: &Theme) {
    frame.render_widget(Clear, area);
    let w = |pt, en| b.locale.pick(pt, en);
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.fg(theme.focus))
        .title(Span::styled(
            w(" teclas ", " keys "),
            theme.alert(theme.title),
        ));
    // Each screen's keys under its heading, two columns in.
    let width = usize::from(block.inner(area).width).saturating_sub(2);
    let mut lines = Vec::new();
    for (mode, label) in [
        (Mode::Board, w("painel", "board")),
        (Mode::BoardDetail, w("detalhe", "drill-down")),
        (Mode::BoardPrompt, w("filtro e motivo", "filter and reason")),
    ] {
        lines.push(Line::styled(label, theme.alert(theme.title)));
        for (action, keys) in b.keymap.keys_for(mode) {
            if !ACTIONS.contains(&action) {
                continue;
            }
            let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
            let words = action.help(b.locale).split_whitespace();
            for (keys, text) in help_rows(&keys.join(", "), words, width) {
                lines.push(Line::from(vec![
                    Span::styled(format!("  {keys}"), theme.fg(theme.focus)),
                    Span::raw(text),
                ]));
            }
        }
    }
    let text = Scrolled {
        text: lines.into(),
        wrap: true,
        whole: true,
        block,
    };
    scrolled(frame, area, text, Some(scroll));
}
