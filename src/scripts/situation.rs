//! Which situation a debtor is in, read from their record, their history and
//! the engine's plan, with the facts its talking points may name.

use chrono::{DateTime, Utc};
use std::fmt;

use super::facts::{Facts, Owing, PromiseFacts};
use crate::domain::{
    Channel, Debtor, Disposition, Event, EventKind, Flag, Installment, Money, PromiseStatus,
    breaks_at,
};
use crate::schedule::offers::{OfferError, terms};
use crate::schedule::{Plan, Policy, State};

/// What is going on with a debtor, as far as the conversation goes. Each has
/// its own talking points in the policy.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Situation {
    /// Not yet due (or due today): a friendly reminder.
    BeforeDue,
    /// Past due and nobody has spoken with them yet.
    FirstContact,
    /// Past due; we spoke before and nothing was agreed.
    FollowUp,
    /// They asked us to call at this time.
    Callback,
    /// A promise to pay is open: encouragement.
    PromisePending,
    /// An installment plan is running.
    PlanActive,
    /// The last promise (or installment) was not kept, and nobody has
    /// spoken with them since.
    BrokenPromise,
    /// They told us of hardship (job loss, illness, ...).
    Hardship,
    /// They dispute the debt: nothing is collected, only the dispute route
    /// explained.
    Dispute,
    /// They asked not to be contacted, or died: no contact at all.
    NoContact,
    /// Nothing is owed.
    PaidInFull,
}

impl Situation {
    pub const ALL: [Situation; 11] = [
        Situation::BeforeDue,
        Situation::FirstContact,
        Situation::FollowUp,
        Situation::Callback,
        Situation::PromisePending,
        Situation::PlanActive,
        Situation::BrokenPromise,
        Situation::Hardship,
        Situation::Dispute,
        Situation::NoContact,
        Situation::PaidInFull,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Situation::BeforeDue => "before_due",
            Situation::FirstContact => "first_contact",
            Situation::FollowUp => "follow_up",
            Situation::Callback => "callback",
            Situation::PromisePending => "promise_pending",
            Situation::PlanActive => "plan_active",
            Situation::BrokenPromise => "broken_promise",
            Situation::Hardship => "hardship",
            Situation::Dispute => "dispute",
            Situation::NoContact => "no_contact",
            Situation::PaidInFull => "paid_in_full",
        }
    }

    pub fn from_name(name: &str) -> Option<Situation> {
        Situation::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether money is talked about at all: not in a dispute, where
    /// contact stopped, nor when nothing is owed.
    pub fn collects(self) -> bool {
        !matches!(
            self,
            Situation::Dispute | Situation::NoContact | Situation::PaidInFull
        )
    }

    /// Whether there is a promise (or installment) to talk about.
    pub fn has_promise(self) -> bool {
        matches!(
            self,
            Situation::PromisePending | Situation::PlanActive | Situation::BrokenPromise
        )
    }

    /// Whether something is owed.
    pub fn owes(self) -> bool {
        self != Situation::PaidInFull
    }
}

impl fmt::Display for Situation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A debtor's situation and the facts its talking points are rendered with.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Case {
    pub situation: Situation,
    pub facts: Facts,
}

#[derive(Clone, PartialEq, Eq, Debug, thiserror::Error)]
pub enum CaseError {
    #[error("the debts are in different currencies: nothing can be offered until they are fixed")]
    MixedCurrencies,
    #[error("the offers could not be worked out: {0}")]
    Offers(#[from] OfferError),
}

/// What one pass over the history tells about the conversation.
#[derive(Default)]
struct Seen<'a> {
    last_call: Option<DateTime<Utc>>,
    last_conversation: Option<DateTime<Utc>>,
    /// When the latest callback was asked for, and for when.
    callback: Option<(DateTime<Utc>, DateTime<Utc>)>,
    hardship: Option<DateTime<Utc>>,
    /// Promises and plans, in order.
    pledges: Vec<&'a Event>,
}

impl<'a> Seen<'a> {
    fn fold(history: &'a [Event]) -> Seen<'a> {
        let mut seen = Seen::default();
        for e in history {
            match &e.kind {
                EventKind::Contact {
                    channel: Channel::Call,
                    result,
                    ..
                } => {
                    seen.last_call = Some(e.at);
                    if result.is_conversation() {
                        seen.last_conversation = Some(e.at);
                    }
                }
                EventKind::Callback { due } => seen.callback = Some((e.at, *due)),
                EventKind::Outcome {
                    disposition: Disposition::Hardship,
                    ..
                } => seen.hardship = Some(e.at),
                EventKind::Promise { .. } | EventKind::InstallmentPlan { .. } => {
                    seen.pledges.push(e)
                }
                _ => {}
            }
        }
        seen
    }

    /// The promise or plan made last at or before `t`.
    fn pledge_until(&self, t: DateTime<Utc>) -> Option<&'a Event> {
        self.pledges.iter().rev().find(|e| e.at <= t).copied()
    }
}

/// A promise or plan's installments (one for a promise) and its grace.
fn installments(pledge: &Event) -> Option<(Vec<Installment>, u16)> {
    match &pledge.kind {
        EventKind::Promise {
            amount,
            date,
            grace_days,
            ..
        } => Some((
            vec![Installment {
                date: *date,
                amount: *amount,
            }],
            *grace_days,
        )),
        EventKind::InstallmentPlan {
            installments,
            grace_days,
        } => Some((installments.to_vec(), *grace_days)),
        _ => None,
    }
}

/// What was paid from `since` on, in each currency paid in.
fn paid_since(history: &[Event], since: DateTime<Utc>) -> Vec<Money> {
    let mut paid: Vec<Money> = Vec::new();
    for e in history.iter().filter(|e| e.at >= since) {
        if let EventKind::Payment { amount } = &e.kind {
            match paid.iter_mut().find(|m| m.currency == amount.currency) {
                Some(sum) => sum.minor += amount.minor,
                None => paid.push(*amount),
            }
        }
    }
    paid
}

/// What of installment `i` was paid, payments going to the installments
/// in their order, as the ledger takes them.
fn paid_towards(all: &[Installment], i: usize, paid: Vec<Money>) -> Money {
    let amount = all[i].amount;
    let total = paid
        .iter()
        .find(|m| m.currency == amount.currency)
        .map_or(0, |m| m.minor);
    let before: i64 = all[..i].iter().map(|x| x.amount.minor).sum();
    Money::new((total - before).clamp(0, amount.minor), amount.currency)
}

/// The situation of a debtor now, and the facts to render its points with.
/// `history` in time order, `plan` the engine's plan of them now.
pub fn case(
    debtor: &Debtor,
    history: &[Event],
    plan: &Plan,
    policy: &Policy,
    agent_name: &str,
    now: DateTime<Utc>,
) -> Result<Case, CaseError> {
    if plan.state == State::MixedCurrencies {
        return Err(CaseError::MixedCurrencies);
    }
    let owing = plan
        .balance
        .filter(|b| b.is_positive())
        .zip(debtor.oldest_due())
        .map(|(total, due_date)| Owing {
            total,
            due_date,
            days_past_due: plan.days_past_due,
        });
    let seen = Seen::fold(history);
    let tz = debtor.time_zone.tz();
    let mut promise = None;
    let situation = match (owing, plan.state) {
        (None, _) => Situation::PaidInFull,
        (Some(_), State::Stopped(Flag::Dispute)) => Situation::Dispute,
        (Some(_), State::Stopped(_)) => Situation::NoContact,
        (Some(owing), _) => {
            let callback_due = seen.callback.is_some_and(|(asked, due)| {
                due <= now && seen.last_call.is_none_or(|call| call <= asked)
            });
            let ledger = &plan.promises;
            // What happened last decides: a promise made, a promise
            // broken, or hardship told.
            let open = ledger.open.and_then(|open| {
                let pledge = seen.pledge_until(open.made_at)?;
                let (all, _) = installments(pledge)?;
                let left = open.later_installments + 1;
                let current = all.len().checked_sub(left as usize)?;
                let situation = match pledge.kind {
                    EventKind::InstallmentPlan { .. } => Situation::PlanActive,
                    _ => Situation::PromisePending,
                };
                let amount = all[current].amount;
                Some((
                    open.made_at,
                    situation,
                    PromiseFacts {
                        amount,
                        paid: Money::new(amount.minor - open.remaining.minor, amount.currency),
                        date: open.date,
                        status: PromiseStatus::Pending,
                        installments_left: left,
                    },
                ))
            });
            let broken = ledger
                .last_broken_at
                .filter(|&broke| seen.last_conversation.is_none_or(|c| c < broke))
                .and_then(|broke| {
                    let pledge = seen.pledge_until(broke)?;
                    let (all, grace) = installments(pledge)?;
                    let i = all.iter().rposition(|i| {
                        breaks_at(i.date + chrono::Days::new(grace as u64), tz) <= broke
                    })?;
                    let paid = paid_towards(&all, i, paid_since(history, pledge.at));
                    Some((
                        broke,
                        Situation::BrokenPromise,
                        PromiseFacts {
                            amount: all[i].amount,
                            paid,
                            date: all[i].date,
                            status: PromiseStatus::Broken,
                            installments_left: (all.len() - i) as u16,
                        },
                    ))
                });
            let latest = [open, broken].into_iter().flatten().max_by_key(|c| c.0);
            match latest {
                _ if callback_due => Situation::Callback,
                Some((at, _, _)) if seen.hardship.is_some_and(|h| h > at) => Situation::Hardship,
                Some((_, situation, facts)) => {
                    promise = Some(facts);
                    situation
                }
                None if seen.hardship.is_some() => Situation::Hardship,
                None if owing.days_past_due <= 0 => Situation::BeforeDue,
                None if seen.last_conversation.is_some() => Situation::FollowUp,
                None => Situation::FirstContact,
            }
        }
    };
    let offers = if situation.collects() {
        let today = match tz {
            Some(tz) => now.with_timezone(&tz).date_naive(),
            None => now.date_naive(),
        };
        Some(terms(debtor, policy, today)?)
    } else {
        None
    };
    Ok(Case {
        situation,
        facts: Facts {
            first_name: debtor
                .name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
            agent_name: agent_name.to_string(),
            creditors: creditors(debtor),
            owing,
            promise,
            offers,
        },
    })
}

/// The creditors of the debts still owing (of all debts when none is),
/// each once, in the order of the debts.
fn creditors(debtor: &Debtor) -> Vec<String> {
    let owing = debtor.debts.iter().any(|d| d.balance.is_positive());
    let mut names: Vec<String> = Vec::new();
    for debt in &debtor.debts {
        if (!owing || debt.balance.is_positive()) && !names.contains(&debt.creditor) {
            names.push(debt.creditor.clone());
        }
    }
    names
}
