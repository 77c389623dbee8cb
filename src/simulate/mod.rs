//! `regua simulate`: a synthetic portfolio, deterministic from its seed, run
//! day by day through the régua engine under a documented behaviour model,
//! every contact audited by an independent checker.

pub mod audit;
pub mod behaviour;
pub mod portfolio;
pub mod report;
mod run;

use rayon::prelude::*;
use std::time::Instant;

pub use report::{Figures, Report, Settings};
pub use run::start_date;

use crate::schedule::Policy;

/// A portfolio with lived-in histories: `debtors` synthetic debtors run
/// `days` days through the engine, ending the day before `today` — calls,
/// messages, promises kept and broken, payments, disputes. Each debtor comes
/// with their history in time order and their balances after it.
pub fn lived_in(
    policy: &Policy,
    debtors: usize,
    days: u32,
    seed: u64,
    today: chrono::NaiveDate,
) -> Vec<(crate::domain::Debtor, Vec<crate::domain::Event>)> {
    let start = today - chrono::Days::new(days as u64);
    run::run(policy, debtors, days, seed, start)
        .accounts
        .into_iter()
        .map(|a| (a.debtor, a.history))
        .collect()
}

pub fn simulate(policy: &Policy, debtors: usize, days: u32, seed: u64) -> Report {
    let started = Instant::now();
    let outcome = run::run(policy, debtors, days, seed, start_date());
    let mut totals = Figures::default();
    for (_, f) in &outcome.days {
        totals.add(f);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (contacts_audited, violations) = outcome
        .accounts
        .par_iter()
        .map(|a| audit::audit(&a.debtor, &a.history, policy))
        .reduce(
            || (0, Vec::new()),
            |(n1, mut v1), (n2, v2)| {
                v1.extend(v2);
                (n1 + n2, v1)
            },
        );
    Report {
        settings: Settings {
            policy: policy.name.clone(),
            debtors,
            days,
            seed,
            start: start_date(),
        },
        currency: policy.currency,
        days: outcome.days,
        totals,
        start_balance_minor: outcome.start_balance_minor,
        contacts_audited,
        violations,
        seconds,
    }
}
