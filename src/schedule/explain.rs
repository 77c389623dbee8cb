//! A plan in words, for the agent's plan panel and `regua` reports, in the
//! reader's language.

use chrono::{DateTime, Datelike, Utc};
use chrono_tz::Tz;

use super::plan::{Action, Blocked, Plan, Source, State};
use super::policy::{Policy, in_locale};
use crate::domain::{Debtor, Locale};

/// The step or rule behind an action, as a person would name it.
pub fn source_name(policy: &Policy, source: Source, locale: Locale) -> String {
    let pt = locale == Locale::PtBr;
    match source {
        Source::Step(i) => {
            let step = &policy.steps[i as usize];
            let day = super::compliance::step_day(step.day);
            let word = if pt { "passo" } else { "step" };
            if let Some(names) = &step.names {
                return format!("{word} {day}: {}", in_locale(names, locale));
            }
            // Most policies name a step after its template: once is enough.
            if step.template == step.id {
                format!("{word} {day} '{}'", step.id)
            } else {
                let template = if pt { "modelo" } else { "template" };
                format!("{word} {day} '{}' ({template} {})", step.id, step.template)
            }
        }
        Source::Encouragement if pt => "regra de promessa: incentivo antes da data".into(),
        Source::Encouragement => "promise rule: encouragement before the date".into(),
        Source::Engagement(i) => {
            let rule = &policy.engagement[i as usize];
            let id = &rule.id;
            if let Some(names) = &rule.names {
                let word = if pt {
                    "regra de engajamento"
                } else {
                    "engagement rule"
                };
                return format!("{word}: {}", in_locale(names, locale));
            }
            if pt {
                format!("regra de engajamento '{id}'")
            } else {
                format!("engagement rule '{id}'")
            }
        }
        Source::Callback if pt => "retorno que a pessoa pediu".into(),
        Source::Callback => "callback the debtor asked for".into(),
        Source::BrokenPromise if pt => "regra de promessa quebrada: acompanhar".into(),
        Source::BrokenPromise => "broken-promise rule: follow up".into(),
    }
}

fn when(t: DateTime<Utc>, now: DateTime<Utc>, tz: Option<Tz>, locale: Locale) -> String {
    if t <= now {
        return match locale {
            Locale::PtBr => "agora".into(),
            Locale::En => "now".into(),
        };
    }
    match (locale, tz) {
        (Locale::En, Some(tz)) => t
            .with_timezone(&tz)
            .format("%a %Y-%m-%d %H:%M local")
            .to_string(),
        (Locale::PtBr, Some(tz)) => {
            let l = t.with_timezone(&tz);
            format!(
                "{} {} (hora local)",
                locale.weekday(l.weekday()),
                l.format("%d/%m/%Y %H:%M")
            )
        }
        (Locale::En, None) => t.format("%a %Y-%m-%d %H:%M UTC").to_string(),
        (Locale::PtBr, None) => format!(
            "{} {} UTC",
            locale.weekday(t.weekday()),
            t.format("%d/%m/%Y %H:%M")
        ),
    }
}

pub fn action_line(
    policy: &Policy,
    debtor: &Debtor,
    a: &Action,
    now: DateTime<Utc>,
    locale: Locale,
) -> String {
    let tz = debtor.time_zone.tz();
    format!(
        "{} {} ({}) — {}",
        when(a.at, now, tz, locale),
        a.channel.said(locale),
        a.firmness.said(locale),
        source_name(policy, a.source, locale)
    )
}

pub fn blocked_line(
    policy: &Policy,
    debtor: &Debtor,
    b: &Blocked,
    now: DateTime<Utc>,
    locale: Locale,
) -> String {
    let tz = debtor.time_zone.tz();
    let pt = locale == Locale::PtBr;
    let clears = match (b.refusal.clears_at, pt) {
        (Some(t), false) => format!("allowed {}", when(t, now, tz, locale)),
        (Some(t), true) if t <= now => "termina agora".into(),
        (Some(t), true) => format!("até {}", when(t, now, tz, locale)),
        (None, false) => "until someone changes it".into(),
        (None, true) => "até que alguém mude isso".into(),
    };
    // "bloqueio de" spares Portuguese agreeing with the channel's gender.
    let blocked = if pt {
        format!("bloqueio de {}", b.channel.said(locale))
    } else {
        format!("{} blocked", b.channel.said(locale))
    };
    format!(
        "{blocked} — {}; {clears} — {}",
        b.refusal.block.said(locale),
        source_name(policy, b.source, locale)
    )
}

/// Every line of a plan: state, queue, actions, blocked ones, priority.
pub fn explain(
    plan: &Plan,
    policy: &Policy,
    debtor: &Debtor,
    now: DateTime<Utc>,
    locale: Locale,
) -> Vec<String> {
    let mut lines = vec![state_line(plan, locale)];
    lines.extend(queue_line(plan, policy, locale));
    lines.extend(
        plan.actions
            .iter()
            .map(|a| action_line(policy, debtor, a, now, locale)),
    );
    lines.extend(
        plan.blocked
            .iter()
            .map(|b| blocked_line(policy, debtor, b, now, locale)),
    );
    lines.push(priority_line(plan, locale));
    lines
}

/// What the action and blocked lines leave out: the state, the queue and
/// the priority (for a screen that lists the actions itself).
pub fn summary(plan: &Plan, policy: &Policy, locale: Locale) -> Vec<String> {
    let mut lines = vec![state_line(plan, locale)];
    lines.extend(queue_line(plan, policy, locale));
    lines.push(priority_line(plan, locale));
    lines
}

fn state_line(plan: &Plan, locale: Locale) -> String {
    let pt = locale == Locale::PtBr;
    match (plan.state, pt) {
        (State::Active, false) => "active".to_string(),
        (State::Active, true) => "em cobrança".to_string(),
        // The promised date first, as the talking points say it; then the
        // grace the pause runs to, and a plan's installments still to come.
        (
            State::PromisePending {
                date,
                last_day,
                later,
            },
            false,
        ) => {
            let what = if later > 0 {
                "installment due"
            } else {
                "promise pending for"
            };
            let mut notes = Vec::new();
            if date != last_day {
                notes.push(format!("grace until {last_day}"));
            }
            if later > 0 {
                notes.push(format!("{later} more after it"));
            }
            if notes.is_empty() {
                format!("{what} {date}: firm steps wait until it ends")
            } else {
                format!("{what} {date} ({}): firm steps wait", notes.join("; "))
            }
        }
        (
            State::PromisePending {
                date,
                last_day,
                later,
            },
            true,
        ) => {
            let what = if later > 0 { "parcela" } else { "promessa" };
            let mut notes = Vec::new();
            if date != last_day {
                notes.push(format!("tolerância até {}", locale.date(last_day)));
            }
            match later {
                0 => {}
                1 => notes.push("mais 1 depois".to_string()),
                n => notes.push(format!("mais {n} depois")),
            }
            let notes = if notes.is_empty() {
                String::new()
            } else {
                format!(" ({})", notes.join("; "))
            };
            format!(
                "{what} para {}{notes}: os passos firmes esperam",
                locale.date(date)
            )
        }
        (State::PaidInFull, false) => "paid in full: nothing planned".into(),
        (State::PaidInFull, true) => "quitada: nada planejado".into(),
        (State::Stopped(flag), false) => format!("contact stopped: {}", flag.name()),
        (State::Stopped(flag), true) => format!("contato suspenso: {}", flag.said(locale)),
        (State::MixedCurrencies, false) => {
            "debts in different currencies: nothing planned until they are fixed".into()
        }
        (State::MixedCurrencies, true) => {
            "dívidas em moedas diferentes: nada planejado até que sejam corrigidas".into()
        }
    }
}

fn queue_line(plan: &Plan, policy: &Policy, locale: Locale) -> Option<String> {
    let pt = locale == Locale::PtBr;
    let q = plan.queue?;
    let callable = match (plan.callable_now, pt) {
        (true, false) => "may be called now",
        (false, false) => "may not be called now",
        (true, true) => "pode receber ligação agora",
        (false, true) => "não pode receber ligação agora",
    };
    let word = if pt { "fila" } else { "queue" };
    Some(format!(
        "{word} {}: {callable}",
        policy.queue(q).name(locale)
    ))
}

fn priority_line(plan: &Plan, locale: Locale) -> String {
    let parts: Vec<String> = plan.score.parts().map(|p| p.said(locale)).collect();
    format!(
        "{} {} = base 20; {}",
        locale.pick("prioridade", "priority"),
        plan.score.total,
        parts.join("; ")
    )
}
