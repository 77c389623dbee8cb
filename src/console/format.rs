//! Times, spans and history lines as the agent reads them, by locale.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use super::words;
use crate::domain::{Channel, ContactResult, Event, EventKind, Flag, Locale};

/// `seg 09/03 08:00 (hora local)`: a moment in the debtor's zone, or in UTC
/// saying so when the zone is unknown.
pub fn local_time(at: DateTime<Utc>, zone: Option<Tz>, locale: Locale) -> String {
    match zone {
        Some(z) => {
            let l = at.with_timezone(&z);
            let date = match locale {
                Locale::PtBr => l.format("%d/%m %H:%M"),
                Locale::En => l.format("%m-%d %H:%M"),
            };
            let local = match locale {
                Locale::PtBr => "hora local",
                Locale::En => "local",
            };
            format!("{} {date} ({local})", locale.weekday(l.weekday()))
        }
        None => format!("{} UTC", at.format("%Y-%m-%d %H:%M")),
    }
}

/// The date and time of a history line, in the debtor's zone when known.
pub fn stamp(at: DateTime<Utc>, zone: Option<Tz>, locale: Locale) -> String {
    let fmt = match locale {
        Locale::PtBr => "%d/%m/%Y %H:%M",
        Locale::En => "%Y-%m-%d %H:%M",
    };
    match zone {
        Some(z) => at.with_timezone(&z).format(fmt).to_string(),
        None => at.format(fmt).to_string(),
    }
}

/// `4:05` or `1:02:03`: time in a state.
pub fn span(d: Duration) -> String {
    let s = d.num_seconds().max(0);
    if s >= 3600 {
        format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
    } else {
        format!("{}:{:02}", s / 60, s % 60)
    }
}

pub fn channel_name(c: Channel, locale: Locale) -> &'static str {
    let (pt, en) = match c {
        Channel::Call => ("Ligação", "Call"),
        Channel::Sms => ("SMS", "SMS"),
        Channel::Email => ("E-mail", "E-mail"),
        Channel::Whatsapp => ("WhatsApp", "WhatsApp"),
        Channel::Letter => ("Carta", "Letter"),
        Channel::Bureau => ("Negativação", "Credit bureau"),
        Channel::Legal => ("Jurídico", "Legal"),
    };
    locale.pick(pt, en)
}

/// What a history event says, in one line.
pub fn event_line(e: &Event, locale: Locale) -> String {
    let pick = |a: &'static str, b: &'static str| locale.pick(a, b);
    match &e.kind {
        EventKind::Contact {
            channel, result, ..
        } => {
            let r = match result {
                ContactResult::Connected { right_party: true } => {
                    pick("falou com o titular", "spoke with the debtor")
                }
                ContactResult::Connected { right_party: false } => {
                    pick("atendido por outra pessoa", "someone else answered")
                }
                ContactResult::NoAnswer => pick("não atendeu", "no answer"),
                ContactResult::Voicemail => pick("caixa postal", "voicemail"),
                ContactResult::Busy => pick("ocupado", "busy"),
                ContactResult::Delivered => pick("entregue", "delivered"),
                ContactResult::Failed => pick("falhou", "failed"),
                ContactResult::Dialed => {
                    pick("discada, sem resultado ainda", "dialed, no result yet")
                }
            };
            format!("{} — {r}", channel_name(*channel, locale))
        }
        EventKind::Outcome {
            disposition,
            reason,
            note,
        } => {
            let mut s = words::disposition(locale, *disposition).to_string();
            if let Some(r) = reason {
                s += &format!(" ({})", words::reason(locale, *r));
            }
            if let Some(n) = note {
                s += &format!(": {}", n.replace('\n', " ⏎ "));
            }
            s
        }
        EventKind::Promise { amount, date, .. } => format!(
            "{} {} {} {}",
            pick("Promessa de", "Promise of"),
            amount.display(locale),
            pick("até", "by"),
            locale.date(*date)
        ),
        EventKind::InstallmentPlan { installments, .. } => {
            let total: i64 = installments.iter().map(|i| i.amount.minor).sum();
            let first = installments.first();
            format!(
                "{} {}x, {} {}",
                pick("Acordo", "Plan"),
                installments.len(),
                first.map_or(String::new(), |i| i.amount.display(locale).to_string()),
                first.map_or(String::new(), |i| format!(
                    "{} {} (total {})",
                    pick("a partir de", "from"),
                    locale.date(i.date),
                    total
                )),
            )
        }
        EventKind::Callback { due } => format!(
            "{} {}",
            pick("Retorno agendado", "Callback set for"),
            due.format("%Y-%m-%d %H:%M UTC")
        ),
        EventKind::Payment { amount } => format!(
            "{} {}",
            pick("Pagamento", "Payment"),
            amount.display(locale)
        ),
        EventKind::MessageOpened { channel } => format!(
            "{} ({})",
            pick("Mensagem aberta", "Message opened"),
            channel_name(*channel, locale)
        ),
        EventKind::Flag { flag, set } => {
            let f = match flag {
                Flag::Dispute => pick("contestação", "dispute"),
                Flag::CeaseContact => pick("não contatar", "cease contact"),
                Flag::Deceased => pick("falecido", "deceased"),
            };
            format!(
                "{} {f}",
                if *set {
                    pick("Marcado:", "Set:")
                } else {
                    pick("Removido:", "Cleared:")
                }
            )
        }
    }
}
