//! A plan in words, for the agent's plan panel and `regua` reports.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::plan::{Action, Blocked, Plan, Source, State};
use super::policy::Policy;
use crate::domain::{Debtor, Locale};

/// The step or rule behind an action, as a person would name it.
pub fn source_name(policy: &Policy, source: Source) -> String {
    match source {
        Source::Step(i) => {
            let step = &policy.steps[i as usize];
            let day = match step.day {
                0 => "D".to_string(),
                d => format!("D{d:+}"),
            };
            format!("step {day} '{}' ({})", step.id, step.template)
        }
        Source::Encouragement => "promise rule: encouragement before the date".into(),
        Source::Engagement(i) => format!("engagement rule '{}'", policy.engagement[i as usize].id),
        Source::Callback => "callback the debtor asked for".into(),
        Source::BrokenPromise => "broken-promise rule: follow up".into(),
    }
}

fn when(t: DateTime<Utc>, now: DateTime<Utc>, tz: Option<Tz>) -> String {
    if t <= now {
        return "now".into();
    }
    match tz {
        Some(tz) => t
            .with_timezone(&tz)
            .format("%a %Y-%m-%d %H:%M local")
            .to_string(),
        None => t.format("%a %Y-%m-%d %H:%M UTC").to_string(),
    }
}

pub fn action_line(policy: &Policy, debtor: &Debtor, a: &Action, now: DateTime<Utc>) -> String {
    let tz = debtor.time_zone.tz();
    format!(
        "{} {} ({}) — {}",
        when(a.at, now, tz),
        a.channel,
        a.firmness,
        source_name(policy, a.source)
    )
}

pub fn blocked_line(policy: &Policy, debtor: &Debtor, b: &Blocked, now: DateTime<Utc>) -> String {
    let tz = debtor.time_zone.tz();
    let clears = match b.refusal.clears_at {
        Some(t) => format!("allowed {}", when(t, now, tz)),
        None => "until someone changes it".into(),
    };
    format!(
        "{} blocked — {}; {} — {}",
        b.channel,
        b.refusal.block,
        clears,
        source_name(policy, b.source)
    )
}

/// Every line of a plan: state, queue, actions, blocked ones, score.
pub fn explain(plan: &Plan, policy: &Policy, debtor: &Debtor, now: DateTime<Utc>) -> Vec<String> {
    let mut lines = vec![match plan.state {
        State::Active => "active".to_string(),
        State::PromisePending { last_day } => {
            format!("promise pending: firm steps wait until {last_day} ends")
        }
        State::PaidInFull => "paid in full: nothing planned".into(),
        State::Stopped(flag) => format!("contact stopped: {}", flag.name()),
        State::MixedCurrencies => {
            "debts in different currencies: nothing planned until they are fixed".into()
        }
    }];
    if let Some(q) = plan.queue {
        let callable = if plan.callable_now {
            "may be called now"
        } else {
            "may not be called now"
        };
        lines.push(format!(
            "queue {}: {callable}",
            policy.queue(q).name(Locale::En)
        ));
    }
    lines.extend(
        plan.actions
            .iter()
            .map(|a| action_line(policy, debtor, a, now)),
    );
    lines.extend(
        plan.blocked
            .iter()
            .map(|b| blocked_line(policy, debtor, b, now)),
    );
    let parts: Vec<String> = plan.score.parts().map(|p| p.to_string()).collect();
    lines.push(format!(
        "priority {} = base 20; {}",
        plan.score.total,
        parts.join("; ")
    ));
    lines
}
