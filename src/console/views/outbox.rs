//! The outbox screen's rows: each write in three, what state it is in and
//! who it is about, what it records, and why it has not arrived.

use chrono::{DateTime, Utc};
use ratatui::text::{Line, Span};

use super::clipped;
use crate::api::OutcomeRequest;
use crate::client::outbox::Gist;
use crate::console::app::Remote;
use crate::console::format::{local_time, wait};
use crate::console::outbox_list::{OutboxList, Unsent};
use crate::console::scroll::mark;
use crate::console::theme::Theme;
use crate::console::words::{self, words};
use crate::domain::{Locale, Money};

/// Rows each write takes.
pub const ROWS: usize = 3;

/// The rows of the list in `rows` rows of `width` columns, the selected
/// write always among them.
pub fn lines(
    list: &OutboxList,
    now: DateTime<Utc>,
    locale: Locale,
    rows: usize,
    width: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let pick = |pt: &'static str, en: &'static str| locale.pick(pt, en);
    let items = match &list.items {
        Remote::Loading => return vec![Line::styled(words(locale).loading, theme.fg(theme.muted))],
        Remote::Failed(e) => return vec![Line::styled(e.clone(), theme.alert(theme.danger))],
        Remote::Ready(items) if items.is_empty() => {
            return vec![Line::styled(
                pick(
                    "nada a enviar: tudo o que você registrou chegou ao servidor",
                    "nothing to send: everything you recorded reached the server",
                ),
                theme.fg(theme.muted),
            )];
        }
        Remote::Ready(items) => items,
    };
    let shown = list.shown.window(list.sel, items.len(), rows / ROWS);
    let mut lines = Vec::new();
    for i in shown.clone() {
        let u = &items[i];
        let selected = i == list.sel;
        let base = if selected {
            theme.selection()
        } else {
            theme.fg(theme.text)
        };
        let (state, colour) = if u.owner.is_some() {
            (pick("⏸ de outro", "⏸ another's"), theme.muted)
        } else if u.failed {
            (pick("✗ recusado", "✗ refused"), theme.danger)
        } else {
            (pick("⇡ aguardando", "⇡ waiting"), theme.pending)
        };
        let ago = wait(now - u.created_at);
        let ago = match locale {
            Locale::PtBr => format!("há {ago}"),
            Locale::En => format!("{ago} ago"),
        };
        let m = mark(i, &shown, items.len());
        let head = format!("{m} {state}  {ago}  ");
        let room = width.saturating_sub(unicode_width::UnicodeWidthStr::width(head.as_str()));
        lines.push(Line::from(vec![
            Span::styled(format!("{m} "), base),
            Span::styled(state.to_string(), base.patch(theme.alert(colour))),
            Span::styled(format!("  {ago}  "), base),
            Span::styled(clipped(&who(u, locale), room), base),
        ]));
        let what = u.outcome.as_ref().map_or_else(
            || pick("(registro ilegível)", "(unreadable record)").to_string(),
            |o| outcome_said(o, &u.gist, locale),
        );
        lines.push(Line::styled(
            format!("  {}", clipped(&what, width.saturating_sub(2))),
            base,
        ));
        let tries = match (locale, u.attempts) {
            (Locale::PtBr, 1) => "1 tentativa".to_string(),
            (Locale::PtBr, n) => format!("{n} tentativas"),
            (Locale::En, 1) => "1 attempt".to_string(),
            (Locale::En, n) => format!("{n} attempts"),
        };
        let why = match (&u.owner, &u.last_error, u.failed) {
            (Some(owner), ..) => match locale {
                Locale::PtBr => {
                    format!("de {owner}: vai quando entrarem com esse usuário e servidor")
                }
                Locale::En => {
                    format!("{owner}'s: it goes when they sign in with that user and server")
                }
            },
            (None, Some(e), true) => format!("{e} · {tries}"),
            (None, None, true) => tries,
            // What the agent needs first: it goes by itself.
            (None, Some(e), false) => match locale {
                Locale::PtBr => format!("tentando de novo sozinho ({tries}) — {e}"),
                Locale::En => format!("trying again by itself ({tries}) — {e}"),
            },
            (None, None, false) => pick("ainda não enviado", "not sent yet").to_string(),
        };
        lines.push(Line::styled(
            format!("  {}", clipped(&why, width.saturating_sub(2))),
            base.patch(theme.fg(if u.failed { theme.danger } else { theme.muted })),
        ));
    }
    lines
}

/// `Francisca Silva Lopes · devedor 360`, or only the number when the
/// name was not known.
fn who(u: &Unsent, locale: Locale) -> String {
    let id = u.debtor_id.map(|id| match locale {
        Locale::PtBr => format!("devedor {id}"),
        Locale::En => format!("debtor {id}"),
    });
    match (&u.gist.about, id) {
        (Some(name), Some(id)) => format!("{name} · {id}"),
        (Some(name), None) => name.clone(),
        (None, Some(id)) => id,
        (None, None) => String::new(),
    }
}

/// What the write records: `promessa de pagamento (perdeu o emprego) de
/// R$ 150,00 para 15/03/2026: nota`. Times are in the debtor's zone, as
/// they were typed (UTC in a write from an older regua, which did not keep
/// the zone); an amount whose currency was not kept is left out.
fn outcome_said(o: &OutcomeRequest, gist: &Gist, locale: Locale) -> String {
    let mut s = words::disposition(locale, o.disposition).to_string();
    if let Some(r) = o.reason {
        s += &format!(" ({})", words::reason(locale, r));
    }
    if let Some(p) = &o.promise {
        if let Some(c) = gist.currency {
            let amount = Money::new(p.amount_minor, c).display(locale);
            s += &format!(" {} {amount}", locale.pick("de", "of"));
        }
        s += &format!(
            " {} {}",
            locale.pick("para", "due"),
            locale.date(p.due_date)
        );
    }
    if let Some(p) = &o.plan {
        s += &match locale {
            Locale::PtBr => format!(
                ", {}x a partir de {}",
                p.installments,
                locale.date(p.first_date)
            ),
            Locale::En => format!(", {}x from {}", p.installments, locale.date(p.first_date)),
        };
    }
    if let Some(t) = o.callback_at {
        s += &format!(
            " {} {}",
            locale.pick("para", "for"),
            local_time(t, gist.zone, locale)
        );
    }
    if let Some(n) = o.note.as_deref().filter(|n| !n.is_empty()) {
        s += &format!(": {n}");
    }
    s
}
