//! The simulated clock: every debtor planned by the engine, contacted when
//! the plan says and the law allows, behaving as `behaviour` says.
//!
//! Each debtor sleeps until the next moment anything can happen to them (an
//! action's time, a block clearing, a payment they will make, a promise
//! breaking), so a day costs only the debtors something happens to. Calls
//! are limited: agents make one call a day for every five debtors, given to
//! the highest priority scores first.

use chrono::{DateTime, Days, Duration, NaiveDate, NaiveTime, Timelike, Utc};
use rand::RngExt;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::behaviour as model;
use super::portfolio;
use super::report::Figures;
use crate::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Firmness, Money, Reason,
    breaks_at, local_to_utc,
};
use crate::schedule::offers;
use crate::schedule::{Plan, Policy, Source, State, plan};

/// The first simulated day: a Monday, so weeks line up with the figures.
pub fn start_date() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, 2).expect("a real date")
}

pub const DEBTORS_PER_DAILY_CALL: usize = 5;

enum Scheduled {
    Payment(Money),
    Opened(Channel),
}

pub(super) struct Account {
    pub debtor: Debtor,
    pub history: Vec<Event>,
    rng: ChaCha8Rng,
    reason: Reason,
    /// What the debtor will do, soonest first.
    scheduled: Vec<(DateTime<Utc>, Scheduled)>,
    wake: DateTime<Utc>,
    kept: u16,
    broken: u16,
}

struct CallRequest {
    index: usize,
    at: DateTime<Utc>,
    firmness: Firmness,
    requested: bool,
    score: i32,
}

impl Account {
    fn push(&mut self, at: DateTime<Utc>, kind: EventKind) {
        debug_assert!(
            self.history.last().is_none_or(|e| e.at <= at),
            "history stays in time order"
        );
        self.history.push(Event { at, kind });
    }

    fn schedule(&mut self, at: DateTime<Utc>, what: Scheduled) {
        let i = self.scheduled.partition_point(|(t, _)| *t <= at);
        self.scheduled.insert(i, (at, what));
    }

    fn balance(&self) -> i64 {
        self.debtor.debts.iter().map(|d| d.balance.minor).sum()
    }

    fn apply_scheduled(&mut self, until: DateTime<Utc>, f: &mut Figures) {
        while self.scheduled.first().is_some_and(|(t, _)| *t <= until) {
            let (at, what) = self.scheduled.remove(0);
            match what {
                Scheduled::Opened(channel) => self.push(at, EventKind::MessageOpened { channel }),
                Scheduled::Payment(amount) => {
                    let pay = amount.minor.min(self.balance());
                    if pay <= 0 {
                        continue;
                    }
                    // As the server takes a payment, so that the offers
                    // the plan and the scripts see are the same.
                    self.debtor.take_off(pay);
                    f.recovered_minor += pay;
                    f.payments += 1;
                    self.push(
                        at,
                        EventKind::Payment {
                            amount: Money::new(pay, amount.currency),
                        },
                    );
                }
            }
        }
    }

    fn note_promises(&mut self, p: &Plan, f: &mut Figures) {
        f.promises_kept += p.promises.kept.saturating_sub(self.kept) as u64;
        f.promises_broken += p.promises.broken.saturating_sub(self.broken) as u64;
        self.kept = p.promises.kept;
        self.broken = p.promises.broken;
    }

    /// A wall-clock time on a local date in the debtor's zone.
    fn local(&self, date: NaiveDate, hour: u32, minute: u32) -> DateTime<Utc> {
        let tz = self.debtor.time_zone.tz().unwrap_or(chrono_tz::Tz::UTC);
        local_to_utc(
            tz,
            date.and_time(NaiveTime::from_hms_opt(hour, minute, 0).expect("valid time")),
        )
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        let tz = self.debtor.time_zone.tz().unwrap_or(chrono_tz::Tz::UTC);
        t.with_timezone(&tz).date_naive()
    }

    fn send(&mut self, channel: Channel, firmness: Firmness, at: DateTime<Utc>, f: &mut Figures) {
        let delivered = self.rng.random_bool(model::DELIVERED);
        let result = if delivered {
            ContactResult::Delivered
        } else {
            ContactResult::Failed
        };
        self.push(
            at,
            EventKind::Contact {
                channel,
                firmness,
                result,
                requested: false,
            },
        );
        f.count_contact(channel, firmness);
        if !delivered {
            return;
        }
        if matches!(channel, Channel::Email | Channel::Whatsapp)
            && self.rng.random_bool(model::OPENED)
        {
            let later = at + Duration::minutes(self.rng.random_range(10..24 * 60));
            self.schedule(later, Scheduled::Opened(channel));
        }
        let pays = match channel {
            Channel::Bureau => model::PAYS_AFTER_BUREAU,
            Channel::Legal => model::PAYS_AFTER_LEGAL,
            _ => model::pays_after_message(self.reason),
        };
        if self.rng.random_bool(pays) {
            let later = at + Duration::hours(self.rng.random_range(1..5 * 24));
            let all = Money::new(self.balance(), self.debtor.debts[0].balance.currency);
            self.schedule(later, Scheduled::Payment(all));
        }
    }

    /// A payment by `date`, made on a random day from the next one up to it.
    fn pay_by(&mut self, after: DateTime<Utc>, date: NaiveDate, amount: Money) {
        let first = self.local_date(after);
        let span = (date - first).num_days().max(1);
        let day = first + Days::new(self.rng.random_range(1..=span) as u64);
        let (hour, minute) = (self.rng.random_range(9..21), self.rng.random_range(0..60));
        let at = self.local(day, hour, minute);
        self.schedule(
            at.max(after + Duration::minutes(30)),
            Scheduled::Payment(amount),
        );
    }

    fn call(
        &mut self,
        policy: &Policy,
        at: DateTime<Utc>,
        firmness: Firmness,
        requested: bool,
        f: &mut Figures,
    ) {
        let tz = self
            .debtor
            .time_zone
            .tz()
            .expect("calls are only allowed with a known zone");
        let hour = at.with_timezone(&tz).hour();
        f.count_contact(Channel::Call, firmness);
        let contact = |result| EventKind::Contact {
            channel: Channel::Call,
            firmness,
            result,
            requested,
        };
        let outcome = |disposition, reason| EventKind::Outcome {
            disposition,
            reason,
            note: None,
        };
        if !self.rng.random_bool(model::answer_rate(hour)) {
            let voicemail = self.rng.random_bool(0.3);
            let result = if voicemail {
                ContactResult::Voicemail
            } else {
                ContactResult::NoAnswer
            };
            self.push(at, contact(result));
            let d = if voicemail {
                Disposition::LeftMessage
            } else {
                Disposition::NoAnswer
            };
            self.push(at, outcome(d, None));
            return;
        }
        if !self.rng.random_bool(model::RIGHT_PARTY) {
            self.push(at, contact(ContactResult::Connected { right_party: false }));
            let d = if self.rng.random_bool(model::DECEASED_REPORT) {
                Disposition::Deceased
            } else {
                Disposition::LeftMessage
            };
            self.push(at, outcome(d, None));
            return;
        }
        self.push(at, contact(ContactResult::Connected { right_party: true }));
        f.right_party_contacts += 1;
        let reason = Some(self.reason);
        let today = self.local_date(at);
        let Ok(terms) = offers::terms(&self.debtor, policy, today) else {
            self.push(at, outcome(Disposition::RightPartyContact, reason));
            return;
        };
        let grace_days = policy.promise.grace_days;
        let keeps = model::keeps(self.reason);
        match model::conversation_outcome(&mut self.rng, self.reason) {
            d @ (Disposition::PaymentPlan | Disposition::Hardship) => {
                let first = today + Days::new(7.min(policy.offers.max_promise_days as u64));
                let mut count = self.rng.random_range(3..=6).min(terms.max_installments);
                let installments = loop {
                    match terms.installments(count, first, today) {
                        Ok(i) => break Some(i),
                        Err(_) if count > 1 => count -= 1,
                        Err(_) => break None,
                    }
                };
                let Some(installments) = installments else {
                    self.push(at, outcome(Disposition::RightPartyContact, reason));
                    return;
                };
                self.push(at, outcome(d, reason));
                self.push(
                    at,
                    EventKind::InstallmentPlan {
                        installments: installments.clone().into(),
                        grace_days,
                    },
                );
                // Each installment is a promise, kept or broken on its own.
                f.promises_made += installments.len() as u64;
                for i in installments {
                    if !self.rng.random_bool((keeps + 0.1).min(1.0)) {
                        break;
                    }
                    let day = i.date - Days::new(self.rng.random_range(0..=2));
                    let when = self.local(day.max(today + Days::new(1)), 12, 0);
                    self.schedule(when, Scheduled::Payment(i.amount));
                }
            }
            Disposition::PromiseToPay => {
                let amount = if self.rng.random_bool(0.6) {
                    terms.balance
                } else {
                    Money::new(
                        terms.balance.minor * self.rng.random_range(30..=70) / 100,
                        terms.balance.currency,
                    )
                };
                let days_ahead = self
                    .rng
                    .random_range(1..=policy.offers.max_promise_days.clamp(1, 10));
                let date = today + Days::new(days_ahead as u64);
                if terms.check_promise(amount, date, today).is_err() {
                    self.push(at, outcome(Disposition::RightPartyContact, reason));
                    return;
                }
                self.push(at, outcome(Disposition::PromiseToPay, reason));
                self.push(
                    at,
                    EventKind::Promise {
                        amount,
                        date,
                        grace_days,
                        forgives: None,
                    },
                );
                f.promises_made += 1;
                if self.rng.random_bool(keeps) {
                    self.pay_by(at, date, amount);
                }
            }
            Disposition::CallbackRequested => {
                let hour = self.rng.random_range(9..18);
                let asked = self.local(today + Days::new(1), hour, 0);
                let due = policy
                    .compliance
                    .earliest(&self.debtor, &self.history, Channel::Call, true, asked)
                    .map_or(asked, |(t, _)| t);
                self.push(at, outcome(Disposition::CallbackRequested, reason));
                self.push(at, EventKind::Callback { due });
            }
            d => self.push(at, outcome(d, reason)),
        }
    }

    /// Runs this debtor up to `until`: messages go out at once; a call due is
    /// returned for the day's call allocation.
    fn advance(
        &mut self,
        index: usize,
        policy: &Policy,
        until: DateTime<Utc>,
        f: &mut Figures,
    ) -> Option<CallRequest> {
        for _ in 0..24 {
            let t = self.wake;
            if t >= until {
                return None;
            }
            self.apply_scheduled(t, f);
            let p = plan(&self.debtor, &self.history, policy, t);
            f.plans += 1;
            self.note_promises(&p, f);
            let mut sent = false;
            let mut call = None;
            for a in p.actions.iter().filter(|a| a.at <= t) {
                if a.channel == Channel::Call {
                    call = Some(CallRequest {
                        index,
                        at: t,
                        firmness: a.firmness,
                        requested: a.source == Source::Callback,
                        score: p.score.total,
                    });
                } else {
                    self.send(a.channel, a.firmness, t, f);
                    sent = true;
                }
            }
            if call.is_some() {
                return call;
            }
            self.wake = if sent {
                t + Duration::minutes(1)
            } else {
                self.next_wake(&p, t)
            };
        }
        None
    }

    fn next_wake(&self, p: &Plan, t: DateTime<Utc>) -> DateTime<Utc> {
        let tz = self.debtor.time_zone.tz();
        let promise_breaks = match p.state {
            State::PromisePending { last_day, .. } => Some(breaks_at(last_day, tz)),
            _ => None,
        };
        p.actions
            .iter()
            .map(|a| a.at)
            .chain(p.blocked.iter().filter_map(|b| b.refusal.clears_at))
            .chain(self.scheduled.first().map(|(at, _)| *at))
            .chain(promise_breaks)
            .filter(|&w| w > t)
            .min()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

pub(super) struct Outcome {
    pub days: Vec<(NaiveDate, Figures)>,
    pub accounts: Vec<Account>,
    pub start_balance_minor: i64,
}

pub(super) fn run(
    policy: &Policy,
    debtors: usize,
    days: u32,
    seed: u64,
    start: NaiveDate,
) -> Outcome {
    let mut accounts: Vec<Account> = (0..debtors)
        .into_par_iter()
        .map(|i| {
            let g = portfolio::debtor(seed, i, start);
            Account {
                debtor: g.debtor,
                history: Vec::with_capacity(32),
                rng: g.rng,
                reason: g.reason,
                scheduled: Vec::new(),
                wake: DateTime::<Utc>::MIN_UTC,
                kept: 0,
                broken: 0,
            }
        })
        .collect();
    let tz = policy.business_time_zone;
    let day_start = |d: NaiveDate| local_to_utc(tz, d.and_time(NaiveTime::MIN));
    let first = day_start(start);
    for a in &mut accounts {
        a.wake = first;
    }
    let start_balance_minor = accounts.iter().map(Account::balance).sum();
    let calls_per_day = (debtors / DEBTORS_PER_DAILY_CALL).max(1);

    let mut figures = Vec::with_capacity(days as usize);
    for d in 0..days {
        let date = start + Days::new(d as u64);
        let until = day_start(date + Days::new(1));
        let mut day = Figures::default();
        let mut capacity = calls_per_day;
        // A few rounds: a debtor called early may have more due later today.
        for _round in 0..4 {
            let (f, mut requests) = accounts
                .par_iter_mut()
                .enumerate()
                .filter(|(_, a)| a.wake < until)
                .fold(
                    || (Figures::default(), Vec::new()),
                    |(mut f, mut reqs), (i, a)| {
                        if let Some(r) = a.advance(i, policy, until, &mut f) {
                            reqs.push(r);
                        }
                        (f, reqs)
                    },
                )
                .reduce(
                    || (Figures::default(), Vec::new()),
                    |(mut f1, mut r1), (f2, r2)| {
                        f1.add(&f2);
                        r1.extend(r2);
                        (f1, r1)
                    },
                );
            day.add(&f);
            if requests.is_empty() {
                break;
            }
            requests.sort_by(|a, b| b.score.cmp(&a.score).then(a.index.cmp(&b.index)));
            let granted = requests.len().min(capacity);
            capacity -= granted;
            for (n, r) in requests.into_iter().enumerate() {
                let a = &mut accounts[r.index];
                if n >= granted {
                    // No agent free today: back in the queue tomorrow.
                    a.wake = until;
                    continue;
                }
                // Agents reach each debtor some time after the call fell due,
                // never past the window or what the debtor does next.
                let mut at = r.at + Duration::minutes(15 * a.rng.random_range(0..16));
                if let Some((next, _)) = a.scheduled.first() {
                    at = at.min(*next);
                }
                if at < r.at
                    || policy
                        .compliance
                        .check(&a.debtor, &a.history, Channel::Call, r.requested, at)
                        .is_err()
                {
                    at = r.at;
                }
                a.call(policy, at, r.firmness, r.requested, &mut day);
                a.wake = at + Duration::minutes(1);
            }
        }
        figures.push((date, day));
    }
    Outcome {
        days: figures,
        accounts,
        start_balance_minor,
    }
}
