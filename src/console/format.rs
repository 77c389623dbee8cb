//! Times, spans and history lines as the agent reads them, by locale.

use chrono::{DateTime, Datelike, Duration, Utc};
use chrono_tz::Tz;

use super::words;
use crate::domain::{
    Channel, ContactResult, Event, EventKind, Fate, Flag, Installment, Locale, Money,
};

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

/// A wait at minute resolution, short enough for a column: `7m`, `1h05`,
/// and `3d` past two days (a queue's oldest can wait weeks).
pub fn wait(d: Duration) -> String {
    let m = d.num_minutes().max(0);
    if m >= 48 * 60 {
        format!("{}d", m / (24 * 60))
    } else if m >= 60 {
        format!("{}h{:02}", m / 60, m % 60)
    } else {
        format!("{m}m")
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

/// What a history event says, in one line: a promise or plan with what
/// became of it (`fate`), a callback in the debtor's zone.
pub fn event_line(e: &Event, fate: Option<Fate>, zone: Option<Tz>, locale: Locale) -> String {
    let pick = |a: &'static str, b: &'static str| locale.pick(a, b);
    let line = match &e.kind {
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
            let mut s = format!(
                "{} — {}",
                pick("Resultado", "Outcome"),
                words::disposition(locale, *disposition)
            );
            if let Some(r) = reason {
                s += &format!(" ({})", words::reason(locale, *r));
            }
            if let Some(n) = note {
                s += &format!(": {}", n.replace('\n', " ⏎ "));
            }
            s
        }
        EventKind::Promise {
            amount,
            date,
            forgives,
            ..
        } => {
            let mut s = format!(
                "{} {} {} {}",
                match forgives {
                    Some(_) => pick("Promessa de quitação de", "Settlement of"),
                    None => pick("Promessa de", "Promise of"),
                },
                amount.display(locale),
                pick("para", "due"),
                locale.date(*date)
            );
            if let Some(f) = forgives {
                s += &format!(
                    " ({} {})",
                    pick("desconto de", "forgiving"),
                    f.display(locale)
                );
            }
            s
        }
        EventKind::InstallmentPlan { installments, .. } => match installments.first() {
            Some(first) => {
                let total = installments
                    .iter()
                    .try_fold(Money::new(0, first.amount.currency), |sum, i| {
                        sum.checked_add(i.amount)
                    })
                    .map_or(String::new(), |t| format!(" (total {})", t.display(locale)));
                format!(
                    "{} {}x {} {} {}{total}",
                    pick("Acordo em", "Plan:"),
                    installments.len(),
                    amounts(installments, locale),
                    pick("a partir de", "from"),
                    locale.date(first.date),
                )
            }
            None => pick("Acordo sem parcelas", "Plan without installments").to_string(),
        },
        EventKind::Callback { due } => format!(
            "{} {}",
            pick("Retorno agendado para", "Callback set for"),
            local_time(*due, zone, locale)
        ),
        EventKind::Payment { amount } => format!(
            "{} {}",
            pick("Pagamento", "Payment"),
            amount.display(locale)
        ),
        EventKind::Unknown => pick(
            "Evento de uma versão mais nova do regua",
            "An event of a newer regua",
        )
        .to_string(),
        EventKind::Forgiven { amount } => format!(
            "{} {}",
            pick("Quitação: desconto concedido de", "Settled: forgiven"),
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
    };
    match fate {
        Some(f) => {
            let plan = matches!(e.kind, EventKind::InstallmentPlan { .. });
            format!("{line} — {}", fate_said(f, plan, locale))
        }
        None => line,
    }
}

/// In Portuguese a promise (promessa) is feminine, a plan (acordo) not.
fn fate_said(f: Fate, plan: bool, locale: Locale) -> &'static str {
    let (promise, plan_pt, en) = match f {
        Fate::Open => ("em aberto", "em aberto", "open"),
        Fate::Kept => ("cumprida", "cumprido", "kept"),
        Fate::Broken => ("quebrada", "quebrado", "broken"),
        Fate::Replaced => ("substituída", "substituído", "replaced"),
    };
    locale.pick(if plan { plan_pt } else { promise }, en)
}

/// What a plan's installments are, as one amount when they are all
/// alike. The engine puts the cents a division leaves over on the first,
/// so "3x de R$ 333,33" would hide an R$ 333,34.
fn amounts(installments: &[Installment], locale: Locale) -> String {
    let money = |i: &Installment| i.amount.display(locale).to_string();
    let (first, rest) = installments.split_first().expect("a plan has installments");
    let alike = |list: &[Installment], m: Money| list.iter().all(|i| i.amount == m);
    if alike(rest, first.amount) {
        return locale.pick(format!("de {}", money(first)), money(first));
    }
    if let Some(second) = rest.first()
        && alike(rest, second.amount)
    {
        return match locale {
            Locale::PtBr => format!("(1ª de {}, demais de {})", money(first), money(second)),
            Locale::En => format!("(first {}, then {})", money(first), money(second)),
        };
    }
    let least = installments
        .iter()
        .min_by_key(|i| i.amount.minor)
        .unwrap_or(first);
    let most = installments
        .iter()
        .max_by_key(|i| i.amount.minor)
        .unwrap_or(first);
    match locale {
        Locale::PtBr => format!("entre {} e {}", money(least), money(most)),
        Locale::En => format!("between {} and {}", money(least), money(most)),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::{Currency, Installment};

    fn brl(minor: i64) -> Money {
        Money::new(minor, Currency::BRL)
    }

    fn event(kind: EventKind) -> Event {
        Event {
            at: Utc.with_ymd_and_hms(2026, 3, 10, 13, 0, 0).unwrap(),
            kind,
        }
    }

    /// A plan made on 10 March, its installments by day of March and
    /// amount in centavos.
    fn plan_of(installments: [(u32, i64); 3]) -> Event {
        event(EventKind::InstallmentPlan {
            installments: installments
                .map(|(d, m)| Installment {
                    date: NaiveDate::from_ymd_opt(2026, 3, d).unwrap(),
                    amount: brl(m),
                })
                .into(),
            grace_days: 2,
        })
    }

    #[test]
    fn a_plan_says_its_total_in_money_and_what_came_of_it() {
        let day = |d| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        let plan = plan_of([(20, 15_000), (27, 15_000), (31, 10_050)]);
        assert_eq!(
            event_line(&plan, Some(Fate::Broken), None, Locale::PtBr),
            "Acordo em 3x entre R$ 100,50 e R$ 150,00 a partir de 20/03/2026 (total R$ 400,50) — quebrado"
        );
        let promise = event(EventKind::Promise {
            amount: brl(30_000),
            date: day(20),
            grace_days: 2,
            forgives: None,
        });
        assert_eq!(
            event_line(&promise, Some(Fate::Kept), None, Locale::PtBr),
            "Promessa de R$ 300,00 para 20/03/2026 — cumprida"
        );
        assert_eq!(
            event_line(&promise, Some(Fate::Replaced), None, Locale::En),
            "Promise of BRL 300.00 due 2026-03-20 — replaced"
        );
    }

    #[test]
    fn a_wait_is_minutes_then_hours_then_days() {
        let m = Duration::minutes;
        assert_eq!(wait(m(-1)), "0m");
        assert_eq!(wait(m(59)), "59m");
        assert_eq!(wait(m(65)), "1h05");
        assert_eq!(wait(m(47 * 60 + 59)), "47h59");
        assert_eq!(wait(m(48 * 60)), "2d");
        assert_eq!(wait(m(21 * 24 * 60 + 5)), "21d");
    }

    #[test]
    fn a_plan_whose_first_installment_carries_the_cents_says_so() {
        let plan = plan_of([(20, 33_334), (27, 33_333), (31, 33_333)]);
        assert_eq!(
            event_line(&plan, Some(Fate::Open), None, Locale::PtBr),
            "Acordo em 3x (1ª de R$ 333,34, demais de R$ 333,33) a partir de 20/03/2026 (total R$ 1.000,00) — em aberto"
        );
        assert_eq!(
            event_line(&plan, None, None, Locale::En),
            "Plan: 3x (first BRL 333.34, then BRL 333.33) from 2026-03-20 (total BRL 1,000.00)"
        );
    }

    #[test]
    fn a_plan_in_english() {
        let plan = event(EventKind::InstallmentPlan {
            installments: [Installment {
                date: NaiveDate::from_ymd_opt(2026, 3, 20).unwrap(),
                amount: brl(15_000),
            }]
            .into(),
            grace_days: 0,
        });
        assert_eq!(
            event_line(&plan, Some(Fate::Open), None, Locale::En),
            "Plan: 1x BRL 150.00 from 2026-03-20 (total BRL 150.00) — open"
        );
    }

    #[test]
    fn a_callback_is_said_in_the_debtors_time() {
        let callback = event(EventKind::Callback {
            due: Utc.with_ymd_and_hms(2026, 3, 11, 17, 30, 0).unwrap(),
        });
        assert_eq!(
            event_line(&callback, None, Some(Tz::America__Fortaleza), Locale::PtBr),
            "Retorno agendado para qua 11/03 14:30 (hora local)"
        );
    }
}
