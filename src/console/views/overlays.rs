//! What opens over a screen: help from the live keymap, search, the outcome
//! form, the pause reason.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear};

use super::{Scrolled, centred, help_rows, outbox, scrolled};
use crate::console::action::Action;
use crate::console::app::{App, Overlay, Remote, SEARCH_LIMIT};
use crate::console::keymap::Mode;
use crate::console::outbox_list;
use crate::console::outcome_form::{Field, OutcomeForm, parse_money};
use crate::console::scroll::mark;
use crate::console::theme::Theme;
use crate::console::words::{self, words};
use crate::domain::{Disposition, Locale, Reason};
use crate::schedule::offers::Terms;

/// The search box: the query, and a row for each result it can list.
const SEARCH_HEIGHT: u16 = SEARCH_LIMIT as u16 + 3;
/// The outcome form's box, tall enough for every disposition, the reason,
/// a promise's fields and a note at 80x24.
const FORM_HEIGHT: u16 = 22;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, overlay: &Overlay, theme: &Theme) {
    let w = words(app.locale);
    // Only the help is long enough to scroll.
    let mut scroll = None;
    let (title, lines, width, height) = match overlay {
        Overlay::Help(mode, help_scroll, _) => {
            // As tall as its lines, as far as the screen allows.
            scroll = Some(help_scroll);
            let width = area.width.min(80);
            let lines = help(app, *mode, width.saturating_sub(2), theme);
            let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
            (w.help.to_string(), lines, width, height)
        }
        Overlay::Search(s) => {
            let mut lines = vec![Line::from(vec![
                Span::styled("/ ", theme.alert(theme.focus)),
                Span::raw(s.query.clone()),
                Span::styled("▏", theme.fg(theme.focus)),
            ])];
            match &s.results {
                Remote::Loading if !s.query.is_empty() => {
                    lines.push(Line::styled(w.loading, theme.fg(theme.muted)))
                }
                Remote::Loading => {}
                Remote::Failed(e) => lines.push(Line::styled(e.clone(), theme.alert(theme.danger))),
                Remote::Ready(found) if found.is_empty() => {
                    lines.push(Line::styled(w.no_matches, theme.fg(theme.muted)))
                }
                Remote::Ready(found) => {
                    // The box holds the query and every result when the
                    // screen is tall enough; otherwise the selection leads.
                    let rows = usize::from(area.height.min(SEARCH_HEIGHT).saturating_sub(3));
                    let shown = s.shown.window(s.sel, found.len(), rows);
                    for i in shown.clone() {
                        let f = &found[i];
                        let style = if i == s.sel {
                            theme.selection()
                        } else {
                            theme.fg(theme.text)
                        };
                        lines.push(Line::styled(
                            format!(
                                "{} {:>6}  {:<28} {}",
                                mark(i, &shown, found.len()),
                                f.id,
                                f.name,
                                f.document
                            ),
                            style,
                        ));
                    }
                }
            }
            (w.search.to_string(), lines, 64, SEARCH_HEIGHT)
        }
        Overlay::Outcome(form) => {
            let rows = usize::from(area.height.min(FORM_HEIGHT).saturating_sub(2));
            (
                w.record_outcome.to_string(),
                outcome(app, form, rows, theme),
                72,
                FORM_HEIGHT,
            )
        }
        Overlay::Outbox(list) => {
            let width = area.width.min(100);
            // A row for a word (loading, nothing to send), or each write's.
            let rows = list
                .items
                .ready()
                .map_or(1, |items| (items.len() * outbox::ROWS).max(1));
            let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
            let rows = usize::from(area.height.min(height).saturating_sub(2));
            let inner = usize::from(width.saturating_sub(2));
            let (waiting, failed) = (app.outbox.waiting, app.outbox.failed);
            let mut title = match app.locale {
                Locale::PtBr => format!(
                    "Envios: {waiting} aguardando, {failed} {}",
                    words::refused(app.locale, failed)
                ),
                Locale::En => format!("Outbox: {waiting} waiting, {failed} refused"),
            };
            let others = app.outbox.others;
            if others > 0 {
                title += &match app.locale {
                    Locale::PtBr => format!(", {others} de outro usuário ou servidor"),
                    Locale::En => format!(", {others} another user's or server's"),
                };
            }
            let lines = outbox::lines(list, app.now, app.locale, rows, inner, theme);
            (title, lines, width, height)
        }
        Overlay::Pause(reason) => (
            w.pause_reason.to_string(),
            vec![Line::from(vec![
                Span::raw(reason.clone()),
                Span::styled("▏", theme.fg(theme.focus)),
            ])],
            48,
            3,
        ),
    };
    let rect = centred(area, width, height);
    frame.render_widget(Clear, rect);
    let block = Block::bordered()
        .title(Span::styled(format!(" {title} "), theme.alert(theme.title)))
        .border_style(theme.fg(theme.focus));
    let text = Scrolled {
        text: lines.into(),
        wrap: true,
        whole: true,
        block,
    };
    scrolled(frame, rect, text, scroll);
}

/// Each action with its keys, and what it does in the agent's language
/// (its name, for the config file, after it).
fn help(app: &App, mode: Mode, width: u16, theme: &Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    // The outbox swallows what it does not answer: its help says only that.
    let answered = |a: &Action| mode != Mode::Outbox || outbox_list::ACTIONS.contains(a);
    let actions = app
        .keymap
        .keys_for(mode)
        .into_iter()
        .filter(|(a, _)| answered(a))
        .map(|(action, keys)| {
            (
                keys,
                action.help(app.locale).to_string(),
                action.name().to_string(),
            )
        });
    // Then the agent's own: commands and chains.
    let extras = app.keymap.extras_for(mode, app.locale);
    for (keys, what, name) in actions.chain(extras) {
        let keys: Vec<String> = keys.iter().map(ToString::to_string).collect();
        // The name goes with its dot, as one word.
        let name = format!("· {name}");
        let words = what.split_whitespace().chain([name.as_str()]);
        for (keys, text) in help_rows(&keys.join(", "), words, usize::from(width)) {
            let (help, name) = text.split_at(text.rfind("· ").unwrap_or(text.len()));
            lines.push(Line::from(vec![
                Span::styled(keys, theme.alert(theme.focus)),
                Span::styled(help.to_string(), theme.fg(theme.text)),
                Span::styled(name.to_string(), theme.fg(theme.muted)),
            ]));
        }
    }
    lines
}

/// Whether the promise settles the debt, and what it would forgive as
/// typed: the agent says the figure on the call.
fn settles_line(
    form: &OutcomeForm,
    terms: Option<&Terms>,
    label: Span<'static>,
    key: Option<impl std::fmt::Display>,
    locale: Locale,
    theme: &Theme,
) -> Line<'static> {
    let mut spans = vec![label];
    if !form.settles {
        spans.push(Span::raw(locale.pick("[ ] não", "[ ] no")));
        if let Some(t) = terms.filter(|t| t.max_discount.is_positive()) {
            let key = key.map_or(String::new(), |k| {
                format!(" · {k} {}", locale.pick("marca", "ticks"))
            });
            spans.push(Span::styled(
                format!(
                    "  {} {}{key}",
                    locale.pick("à vista por", "in full for"),
                    t.pay_in_full.display(locale),
                ),
                theme.fg(theme.muted),
            ));
        }
        return Line::from(spans);
    }
    spans.push(Span::raw(locale.pick("[x] sim", "[x] yes")));
    // An amount over the balance is the amount's own mistake, said there.
    let amount = terms.and_then(|t| {
        let typed = parse_money(&form.amount, t.balance.currency, locale).ok()?;
        (typed.minor <= t.balance.minor).then(|| t.settlement(typed))
    });
    let (said, colour) = match amount {
        Some(Ok(Some(f))) => (
            format!(
                "  {} {} {}",
                locale.pick("perdoa", "forgives"),
                f.display(locale),
                locale.pick("se pagar até a data", "if paid by the date")
            ),
            theme.promise,
        ),
        Some(Ok(None)) => (
            locale
                .pick(
                    "  o saldo inteiro, sem desconto",
                    "  the whole balance, no discount",
                )
                .to_string(),
            theme.muted,
        ),
        // The whole refusal is said under the form when it is sent.
        Some(Err(_)) => (
            format!(
                "  {} {}",
                locale.pick("mínimo", "at least"),
                terms.map_or(String::new(), |t| t.pay_in_full.display(locale).to_string())
            ),
            theme.warn,
        ),
        None => (String::new(), theme.muted),
    };
    spans.push(Span::styled(said, theme.fg(colour)));
    if let Some(k) = key {
        spans.push(Span::styled(format!(" · {k}"), theme.fg(theme.muted)));
    }
    Line::from(spans)
}

/// The form's lines, in `rows` rows: the disposition list gets what the
/// other fields leave, always with the selection in view.
fn outcome(app: &App, form: &OutcomeForm, rows: usize, theme: &Theme) -> Vec<Line<'static>> {
    let locale = app.locale;
    let w = words(locale);
    let current = form.field();
    let label = |field: Field, name: &str| {
        let style = if field == current {
            theme.alert(theme.focus)
        } else {
            theme.fg(theme.muted)
        };
        Span::styled(format!("{:<14}", name), style)
    };
    let mut lines = Vec::new();
    // The disposition list, filtered by what was typed.
    let chosen = form
        .disposition
        .map_or(String::new(), |d| words::disposition(locale, d).to_string());
    lines.push(Line::from(vec![
        label(Field::Disposition, w.disposition),
        Span::raw(format!("{} ", chosen)),
        Span::styled(
            if form.filter.is_empty() {
                String::new()
            } else {
                format!("[{}]", form.filter)
            },
            theme.fg(theme.muted),
        ),
    ]));
    let reason = form
        .reason()
        .map_or(w.none.to_string(), |r| words::reason(locale, r).to_string());
    lines.push(Line::from(vec![
        label(Field::Reason, w.reason),
        Span::raw(reason),
        Span::styled(
            if current == Field::Reason {
                "  ↑↓"
            } else {
                ""
            },
            theme.fg(theme.muted),
        ),
    ]));
    if current == Field::Reason {
        let names: Vec<&str> = Reason::ALL
            .iter()
            .map(|r| words::reason(locale, *r))
            .collect();
        lines.push(Line::styled(
            format!("    {}", names.join(" · ")),
            theme.fg(theme.muted),
        ));
    }
    let text_field = |field: Field, name: &str, value: &str, hint: &str| {
        let mut spans = vec![label(field, name), Span::raw(value.to_string())];
        if field == current {
            spans.push(Span::styled("▏", theme.fg(theme.focus)));
        }
        spans.push(Span::styled(format!("  {hint}"), theme.fg(theme.muted)));
        Line::from(spans)
    };
    let date_hint = match locale {
        Locale::PtBr => "dd/mm/aaaa ou +N",
        Locale::En => "yyyy-mm-dd or +N",
    };
    // The policy's limits beside the fields they bound: at 80 columns the
    // offers panel is behind the form.
    let terms = app
        .work
        .as_ref()
        .and_then(|w| w.script.ready())
        .and_then(crate::console::outcome_form::terms_of);
    let (amount_hint, promise_date_hint, installments_hint) = match &terms {
        Some(t) => (
            format!(
                "{} {} · {} {}",
                locale.pick("saldo", "balance"),
                t.balance.display(locale),
                locale.pick("à vista", "in full"),
                t.pay_in_full.display(locale)
            ),
            format!(
                "{date_hint}, {} {}",
                locale.pick("até", "by"),
                locale.date(t.latest_promise_date)
            ),
            format!(
                "{} {}x, {} {}",
                locale.pick("até", "up to"),
                t.max_installments,
                locale.pick("mín.", "min."),
                t.min_installment.display(locale)
            ),
        ),
        None => (String::new(), date_hint.to_string(), String::new()),
    };
    for field in form.fields() {
        let line = match field {
            Field::Amount => text_field(field, w.amount, &form.amount, &amount_hint),
            Field::Date => text_field(field, w.date, &form.date, &promise_date_hint),
            Field::Installments => text_field(
                field,
                w.installments,
                &form.installments,
                &installments_hint,
            ),
            Field::FirstDate => {
                text_field(field, w.first_date, &form.first_date, &promise_date_hint)
            }
            Field::CallbackDate => text_field(field, w.callback_at, &form.callback_date, date_hint),
            Field::CallbackTime => text_field(field, "", &form.callback_time, "HH:MM"),
            _ => continue,
        };
        lines.push(line);
        if field == Field::Date && form.disposition == Some(Disposition::PromiseToPay) {
            let key = app.keymap.key_for(Mode::Outcome, Action::Settle);
            let label = Span::styled(format!("{:<14}", w.settles), theme.fg(theme.muted));
            lines.push(settles_line(
                form,
                terms.as_ref(),
                label,
                key,
                locale,
                theme,
            ));
        }
    }
    if let Some(terms) = terms
        && form.disposition == Some(Disposition::PaymentPlan)
        && !form.installments.is_empty()
    {
        // As the form counts it when sent: the debtor's today.
        let today = app
            .work
            .as_ref()
            .map_or(app.now.date_naive(), |w| w.today(app.now));
        match form.plan_preview(&terms, today, locale) {
            Ok(plan) => {
                let parts: Vec<String> = plan
                    .iter()
                    .map(|i| format!("{} {}", locale.date(i.date), i.amount.display(locale)))
                    .collect();
                lines.push(Line::styled(
                    format!("    {}", parts.join(" · ")),
                    theme.fg(theme.promise),
                ));
            }
            Err(e) => lines.push(Line::styled(format!("    {e}"), theme.fg(theme.warn))),
        }
    }
    lines.push(Line::from(vec![label(Field::Note, w.note)]));
    // A long note shows its end, where the typing is, with the button and
    // the complaint under it: the box does not scroll, and a 13-line note
    // had pushed both off a 24-row screen.
    let note: Vec<&str> = form.note.split('\n').collect();
    // The button, the complaint, and the dispositions' list (at least
    // three rows) when it is open.
    let after =
        1 + usize::from(form.error.is_some()) + if current == Field::Disposition { 3 } else { 0 };
    let room = rows.saturating_sub(lines.len() + after).max(2);
    let hidden = note.len().saturating_sub(room);
    if hidden > 0 {
        let said = match locale {
            Locale::PtBr => format!("    … mais {} linhas acima", hidden + 1),
            Locale::En => format!("    … {} more lines above", hidden + 1),
        };
        lines.push(Line::styled(said, theme.fg(theme.muted)));
    }
    let shown = if hidden > 0 { hidden + 1 } else { 0 };
    for l in &note[shown..] {
        lines.push(Line::from(format!("    {l}")));
    }
    let submit = if current == Field::Submit {
        theme.selection()
    } else {
        theme.fg(theme.ok)
    };
    let key = app.keymap.key_for(Mode::Outcome, Action::Submit);
    let key = key.map_or(String::new(), |k| format!("  {k}"));
    lines.push(Line::styled(format!("[ {} ]{key}", w.submit), submit));
    if let Some((_, e)) = &form.error {
        lines.push(Line::styled(format!("✗ {e}"), theme.alert(theme.danger)));
    }
    if current == Field::Disposition {
        let matches = form.matches(locale);
        let room = rows.saturating_sub(lines.len()).max(3);
        let shown = form
            .dispositions_shown
            .window(form.disposition_sel, matches.len(), room);
        let list = shown.clone().map(|i| {
            let style = if i == form.disposition_sel {
                theme.selection()
            } else {
                theme.fg(theme.text)
            };
            let said = words::disposition(locale, matches[i]);
            Line::styled(
                format!("  {} {said}", mark(i, &shown, matches.len())),
                style,
            )
        });
        // Under the disposition's own line.
        lines.splice(1..1, list);
    }
    lines
}
