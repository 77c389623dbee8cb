//! `plan(debtor, history, policy, now)`: what the régua will do next with a
//! debtor and why, what is blocked and until when, which queue they belong
//! in and how urgently.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use smallvec::SmallVec;
use std::hint::select_unpredictable;

use super::calendar::{self, DAY, date_of_day, day_number};
use super::compliance::{Block, Recent, Refusal};
use super::policy::{After, Policy, QueueIdx, Step};
use super::score::{Score, score};
use crate::domain::{
    Channel, Debtor, Event, EventKind, Firmness, Flag, Flags, Ledger, LedgerFold, LocalZone, Money,
};

/// Which step or rule asked for an action.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Source {
    /// `policy.steps[i]`.
    Step(u16),
    /// The nudge before a promised date.
    Encouragement,
    /// `policy.engagement[i]`.
    Engagement(u16),
    /// A callback the debtor asked for.
    Callback,
    /// The follow-up call after a broken promise.
    BrokenPromise,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Action {
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub firmness: Firmness,
    pub source: Source,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Blocked {
    pub channel: Channel,
    pub firmness: Firmness,
    pub source: Source,
    pub refusal: Refusal,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum State {
    Active,
    /// A promise (or installment) is open for `date`; firm steps wait
    /// until `last_day` (the date and its grace) ends. `later`: a plan's
    /// installments after this one (0 for a single promise).
    PromisePending {
        date: NaiveDate,
        last_day: NaiveDate,
        later: u16,
    },
    PaidInFull,
    Stopped(Flag),
    /// Debts in different currencies: nothing is planned until someone looks.
    MixedCurrencies,
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Plan {
    pub state: State,
    pub days_past_due: i32,
    pub balance: Option<Money>,
    /// The queue the debtor waits in for a call, if a call is due.
    pub queue: Option<QueueIdx>,
    /// A call is due and allowed right now.
    pub callable_now: bool,
    /// What will happen, soonest first: due now (`at` is now) or later.
    pub actions: Vec<Action>,
    /// What would happen but may not, with the rule and when it clears.
    pub blocked: Vec<Blocked>,
    pub score: Score,
    /// Promises kept and broken, and the one open now.
    pub promises: Ledger,
}

/// How many future steps a plan shows beyond what is due now.
const UPCOMING_STEPS: usize = 3;

struct Candidate {
    earliest: DateTime<Utc>,
    channel: Channel,
    firmness: Firmness,
    source: Source,
    /// The debtor asked for it (exempt from call caps).
    requested: bool,
}

/// What one pass over the history tells the planner.
#[derive(Default)]
pub(crate) struct Facts {
    pub last_contact: [Option<DateTime<Utc>>; Channel::ALL.len()],
    pub last_opened: [Option<DateTime<Utc>>; Channel::ALL.len()],
    pub last_payment: Option<DateTime<Utc>>,
    /// When the callback was asked for, and for when.
    pub callback: Option<(DateTime<Utc>, DateTime<Utc>)>,
    pub flags: Flags,
    pub last_conversation: Option<DateTime<Utc>>,
    /// The latest of `last_contact`: the history being in time order, the
    /// last contact in it.
    pub last_any_contact: Option<DateTime<Utc>>,
}

impl Facts {
    /// One pass over the history for the facts (into these, fresh from
    /// `Default`: filled in place rather than moved out) and the promise
    /// ledger, and when the promise still open breaks.
    pub(crate) fn fold(
        &mut self,
        history: &[Event],
        zone: Option<LocalZone>,
        now: DateTime<Utc>,
    ) -> (Ledger, Option<DateTime<Utc>>) {
        let f = self;
        let mut ledger = LedgerFold::in_zone(zone);
        // The last call conversation and the last contact, by position in
        // the history.
        let mut conversation_at = usize::MAX;
        let mut contact_at = usize::MAX;
        for (i, e) in history.iter().enumerate() {
            // Contacts first, most events being contacts: a branch the CPU
            // predicts better than a jump on the kind.
            if let EventKind::Contact {
                channel, result, ..
            } = &e.kind
            {
                f.last_contact[*channel as usize] = Some(e.at);
                contact_at = i;
                // Without a branch: calls and messages come in no order a
                // branch predictor could learn.
                let conversation = (*channel == Channel::Call) & result.is_conversation();
                conversation_at = select_unpredictable(conversation, i, conversation_at);
                continue;
            }
            match &e.kind {
                // Above; what a settlement forgave is no payment; and a
                // newer version's kind is passed over.
                EventKind::Contact { .. } | EventKind::Forgiven { .. } | EventKind::Unknown => {}
                EventKind::MessageOpened { channel } => {
                    f.last_opened[*channel as usize] = Some(e.at)
                }
                EventKind::Payment { .. } => {
                    f.last_payment = Some(e.at);
                    ledger.push(e);
                }
                EventKind::Callback { due } => f.callback = Some((e.at, *due)),
                EventKind::Outcome { disposition, .. } => {
                    if let Some(flag) = Flag::from_disposition(*disposition) {
                        f.flags.set(flag, true);
                    }
                }
                EventKind::Flag { flag, set } => f.flags.set(*flag, *set),
                EventKind::Promise { .. } | EventKind::InstallmentPlan { .. } => ledger.push(e),
            }
        }
        f.last_conversation = history.get(conversation_at).map(|e| e.at);
        f.last_any_contact = history.get(contact_at).map(|e| e.at);
        ledger.finish_with_deadline(now)
    }

    fn contacted_since(&self, channel: Channel, t: DateTime<Utc>) -> bool {
        self.last_contact[channel as usize].is_some_and(|c| c >= t)
    }
}

/// Local day boundaries, exact across daylight-saving changes. Days are
/// also counted by number (days since 1970-01-01, local), which where the
/// zone's offset is fixed is plain arithmetic on Unix seconds.
pub(crate) struct LocalDays {
    zone: Option<LocalZone>,
}

impl LocalDays {
    /// The number of the local day `t` falls on.
    fn day_of(&self, t: DateTime<Utc>) -> i64 {
        let fixed = self
            .zone
            .and_then(|z| z.fixed_local_seconds(calendar::unix(t)));
        match fixed {
            Some(local) => local.div_euclid(DAY),
            None => day_number(self.date_of(t)),
        }
    }

    /// The start of local day number `day`, in Unix seconds.
    fn start_unix_of_day(&self, day: i64) -> i64 {
        let fixed = self.zone.and_then(|z| z.fixed_unix_of_local(day * DAY));
        fixed.unwrap_or_else(|| self.start_of(date_of_day(day)).timestamp())
    }

    /// The start of local day number `day`.
    fn start_of_day(&self, day: i64) -> DateTime<Utc> {
        let fixed = self.zone.and_then(|z| z.fixed_unix_of_local(day * DAY));
        match fixed.and_then(calendar::instant) {
            Some(start) => start,
            None => self.start_of(date_of_day(day)),
        }
    }

    /// The start of the local day `days` before the one starting at `start`.
    fn days_before(&self, start: i64, days: i64) -> i64 {
        match &self.zone {
            Some(zone) => zone.days_before(start, days),
            None => start - days * 86_400,
        }
    }

    pub(crate) fn date_of(&self, t: DateTime<Utc>) -> NaiveDate {
        match &self.zone {
            Some(zone) => zone.to_local(t).date(),
            None => t.date_naive(),
        }
    }

    pub(crate) fn start_of(&self, date: NaiveDate) -> DateTime<Utc> {
        let midnight = date.and_time(NaiveTime::MIN);
        match &self.zone {
            Some(zone) => zone.to_utc(midnight),
            None => Utc.from_utc_datetime(&midnight),
        }
    }
}

impl Plan {
    fn idle(
        state: State,
        balance: Option<Money>,
        days_past_due: i32,
        score: Score,
        promises: Ledger,
    ) -> Plan {
        Plan {
            state,
            days_past_due,
            balance,
            queue: None,
            callable_now: false,
            actions: Vec::new(),
            blocked: Vec::new(),
            score,
            promises,
        }
    }
}

/// Plans a debtor. `history` must be in time order. Pure: the same inputs
/// give the same plan.
pub fn plan(debtor: &Debtor, history: &[Event], policy: &Policy, now: DateTime<Utc>) -> Plan {
    let tz = debtor.time_zone.tz();
    let zone = tz.map(LocalZone::new);
    let days = LocalDays { zone };
    let today = days.day_of(now);
    let mut facts = Facts::default();
    let (ledger, breaks_at) = facts.fold(history, zone, now);

    let balance = match debtor.balance() {
        Ok(b) => b,
        Err(_) => return Plan::idle(State::MixedCurrencies, None, 0, Score::default(), ledger),
    };
    let due = debtor.oldest_due().map(day_number);
    let days_past_due = due.map_or(0, |d| (today - d) as i32);
    let score = score(days_past_due, balance, &ledger, &facts, now);
    let (Some(balance), Some(due)) = (balance.filter(|b| b.is_positive()), due) else {
        return Plan::idle(State::PaidInFull, balance, days_past_due, score, ledger);
    };

    let mut candidates: SmallVec<[Candidate; 16]> = SmallVec::new();

    // Appointments and follow-ups come before the calendar.
    if let Some((asked_at, due_at)) = facts.callback
        && !facts.contacted_since(Channel::Call, asked_at + Duration::seconds(1))
    {
        candidates.push(Candidate {
            earliest: due_at,
            channel: Channel::Call,
            firmness: Firmness::Friendly,
            source: Source::Callback,
            requested: true,
        });
    }
    if let Some(broke_at) = ledger.last_broken_at
        && !facts.contacted_since(Channel::Call, broke_at)
    {
        candidates.push(Candidate {
            earliest: broke_at,
            channel: Channel::Call,
            firmness: policy.broken_promise.firmness,
            source: Source::BrokenPromise,
            requested: false,
        });
    }
    // The days a promise's note of encouragement may fall between (after
    // the promise was made, before its date), once one is planned.
    let mut encouraged: Option<(i64, i64)> = None;
    if let (Some(open), Some(enc)) = (ledger.open, &policy.promise.encourage) {
        let promised = day_number(open.date);
        let day = promised - enc.days_before as i64;
        let made_on = days.day_of(open.made_at);
        if day > made_on && today <= promised {
            encouraged = Some((made_on, promised));
            let start = days.start_of_day(day);
            if !facts.contacted_since(enc.channel, start.max(open.made_at)) {
                candidates.push(Candidate {
                    earliest: start,
                    channel: enc.channel,
                    firmness: Firmness::Friendly,
                    source: Source::Encouragement,
                    requested: false,
                });
            }
        }
    }
    for (i, rule) in policy.engagement.iter().enumerate() {
        let opened = match rule.opened_on {
            Some(ch) => facts.last_opened[ch as usize],
            None => facts.last_opened.iter().flatten().max().copied(),
        };
        let Some(opened) = opened else { continue };
        if facts.last_payment.is_some_and(|p| p >= opened)
            || facts.contacted_since(rule.channel, opened)
        {
            continue;
        }
        candidates.push(Candidate {
            earliest: opened + Duration::hours(rule.no_payment_within_hours as i64),
            channel: rule.channel,
            firmness: rule.firmness,
            source: Source::Engagement(i as u16),
            requested: false,
        });
    }

    // A step that comes some days after an earlier one: from when, or
    // `Err` while the earlier one is not done (its channel not used on or
    // after its day).
    let ready = |step: &Step| -> Result<Option<DateTime<Utc>>, ()> {
        let Some(after) = step.after else {
            return Ok(None);
        };
        let prior = &policy.steps[after.step];
        let done = facts.last_contact[prior.channel as usize]
            .map(|t| days.day_of(t))
            .filter(|&day| day >= due + prior.day as i64)
            .ok_or(())?;
        Ok(Some(days.start_of_day(done + after.days as i64)))
    };

    // The calendar: per channel, the latest step due and not yet done (a
    // later step supersedes an earlier one), then the next few ahead.
    let mut due_step: [Option<usize>; Channel::ALL.len()] = [None; Channel::ALL.len()];
    let mut upcoming = 0;
    for (i, step) in policy.steps.iter().enumerate() {
        if step.day <= days_past_due {
            if step.applies(&debtor.segment, balance) {
                // A later step supersedes an earlier one on its channel;
                // one past its expiry is not sent at all.
                let expired = step
                    .expires_after_days
                    .is_some_and(|d| days_past_due >= step.day + d as i32);
                due_step[step.channel as usize] = (!expired).then_some(i);
            }
        } else if upcoming < UPCOMING_STEPS && step.applies(&debtor.segment, balance) {
            upcoming += 1;
            let on_its_day = days.start_of_day(due + step.day as i64);
            candidates.push(Candidate {
                earliest: ready(step)
                    .ok()
                    .flatten()
                    .map_or(on_its_day, |r| r.max(on_its_day)),
                channel: step.channel,
                firmness: step.firmness,
                source: Source::Step(i as u16),
                requested: false,
            });
        }
    }
    // A due step is done once its channel was used on or after its day.
    let today_start = days.start_unix_of_day(today);
    let mut awaiting: SmallVec<[(usize, After); 2]> = SmallVec::new();
    for i in due_step.iter().flatten().copied() {
        let step = &policy.steps[i];
        let last = facts.last_contact[step.channel as usize].map(calendar::unix);
        if last.is_none_or(|last| {
            last < days.days_before(today_start, (days_past_due - step.day) as i64)
        }) {
            let ready = match ready(step) {
                Ok(ready) => ready,
                Err(()) => {
                    awaiting.extend(step.after.map(|after| (i, after)));
                    continue;
                }
            };
            candidates.push(Candidate {
                earliest: ready.map_or(now, |r| r.max(now)),
                channel: step.channel,
                firmness: step.firmness,
                source: Source::Step(i as u16),
                requested: false,
            });
        }
    }

    // One contact per channel at a time: the most pressing due one stands
    // for the rest (two messages at once would also slip past a cap that
    // counts only what was already sent).
    let rank = |c: &Candidate| match c.source {
        Source::Callback => 0,
        Source::BrokenPromise => 1,
        Source::Encouragement => 2,
        Source::Engagement(_) => 3,
        Source::Step(_) => 4,
    };
    let mut best: [Option<(u8, usize)>; Channel::ALL.len()] = [None; Channel::ALL.len()];
    let mut ahead = 0;
    for (i, c) in candidates.iter().enumerate() {
        if c.earliest > now {
            ahead += 1;
            continue;
        }
        let slot = &mut best[c.channel as usize];
        if slot.is_none_or(|(r, _)| rank(c) < r) {
            *slot = Some((rank(c), i));
        }
    }
    let stands = |i: usize, c: &Candidate| {
        c.earliest > now || best[c.channel as usize].is_some_and(|(_, best)| best == i)
    };
    let standing = ahead + best.iter().flatten().count();

    let stopped = facts.flags.stopping();
    let pause = ledger
        .open
        .zip(breaks_at)
        .map(|(o, ends)| (o.date, o.last_day(), o.later_installments, ends));
    let compliance = &policy.compliance;
    let recent = Recent::with_parts(history, facts.last_conversation, zone);
    let mut plan = Plan {
        state: match (stopped, pause) {
            (Some(flag), _) => State::Stopped(flag),
            (None, Some((date, last_day, later, _))) => State::PromisePending {
                date,
                last_day,
                later,
            },
            (None, None) => State::Active,
        },
        days_past_due,
        balance: Some(balance),
        queue: None,
        callable_now: false,
        actions: Vec::with_capacity(standing),
        blocked: Vec::new(),
        score,
        promises: ledger,
    };

    if stopped.is_none() {
        for &(i, after) in &awaiting {
            let step = &policy.steps[i];
            plan.blocked.push(Blocked {
                channel: step.channel,
                firmness: step.firmness,
                source: Source::Step(i as u16),
                refusal: Refusal {
                    block: Block::AwaitsStep {
                        day: policy.steps[after.step].day,
                        days: after.days,
                    },
                    clears_at: None,
                },
            });
        }
    }

    // Actions due now all come at `now`, before any later one: only the
    // later ones need sorting.
    let mut later: SmallVec<[Action; 8]> = SmallVec::new();
    for (i, c) in candidates.iter().enumerate() {
        if !stands(i, c) {
            continue;
        }
        let block = |refusal| Blocked {
            channel: c.channel,
            firmness: c.firmness,
            source: c.source,
            refusal,
        };
        if let Some(flag) = stopped {
            plan.blocked.push(block(Refusal {
                block: Block::Stopped(flag),
                clears_at: None,
            }));
            continue;
        }
        let paused_until = pause.filter(|&(_, _, _, ends)| {
            matches!(c.source, Source::Step(_))
                && c.firmness >= policy.promise.pauses_from
                && c.earliest < ends
        });
        if let Some((_, last_day, _, ends)) = paused_until {
            let clears_at = compliance
                .earliest_time(debtor, &recent, c.channel, c.requested, ends.max(now))
                .ok();
            plan.blocked.push(block(Refusal {
                block: Block::PromisePause { until: last_day },
                clears_at,
            }));
            continue;
        }
        let due_now = c.earliest <= now;
        let mut allowed = if due_now {
            compliance
                .check_in(debtor, &recent, c.channel, c.requested, now)
                .map(|()| now)
        } else {
            compliance.earliest_time(debtor, &recent, c.channel, c.requested, c.earliest)
        };
        // The note is meant before the date: a day its channel may not be
        // used (a holiday) pushed it onto the date, so it goes on the
        // nearest earlier day that lets it, after the promise was made, or
        // not at all. Looked for only then: the usual plan pays nothing.
        if let Some((made_on, promised)) =
            encouraged.filter(|_| c.source == Source::Encouragement && !due_now)
            && allowed.as_ref().is_ok_and(|t| days.day_of(*t) >= promised)
        {
            let earlier = (made_on.max(today - 1) + 1..days.day_of(c.earliest))
                .rev()
                .find_map(|day| {
                    let from = days.start_of_day(day).max(now);
                    compliance
                        .earliest_time(debtor, &recent, c.channel, c.requested, from)
                        .ok()
                        .filter(|t| days.day_of(*t) < promised)
                });
            match earlier {
                Some(at) => allowed = Ok(at),
                None => continue,
            }
        }
        if c.channel == Channel::Call && due_now {
            let queue = match c.source {
                Source::Callback => Some(policy.callback_queue),
                Source::BrokenPromise => Some(policy.broken_promise.queue),
                _ => policy.queue_for_days(days_past_due),
            };
            if queue.is_some() {
                plan.queue = queue;
                plan.callable_now = allowed.is_ok();
            }
        }
        match allowed {
            Ok(at) => {
                let action = Action {
                    at,
                    channel: c.channel,
                    firmness: c.firmness,
                    source: c.source,
                };
                if due_now {
                    plan.actions.push(action)
                } else {
                    later.push(action)
                }
            }
            Err(refusal) => plan.blocked.push(block(refusal)),
        }
    }
    if let Some(flag) = stopped {
        plan.queue = Some(match flag {
            Flag::Dispute => policy.stop_queues.dispute,
            Flag::CeaseContact => policy.stop_queues.cease_contact,
            Flag::Deceased => policy.stop_queues.deceased,
        });
    }
    if !later.is_sorted_by_key(|a| a.at) {
        later.sort_by_key(|a| a.at);
    }
    plan.actions.extend_from_slice(&later);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ContactResult, Currency};
    use chrono::TimeZone;

    #[test]
    fn the_last_contact_is_the_latest_of_each_channels() {
        let t0 = Utc.with_ymd_and_hms(2026, 3, 2, 12, 0, 0).unwrap();
        let contact = |hours: i64, channel| Event {
            at: t0 + Duration::hours(hours),
            kind: EventKind::Contact {
                channel,
                firmness: Firmness::Friendly,
                result: ContactResult::Delivered,
                requested: false,
            },
        };
        let payment = |hours: i64| Event {
            at: t0 + Duration::hours(hours),
            kind: EventKind::Payment {
                amount: Money::new(100, Currency::BRL),
            },
        };
        let histories = [
            vec![],
            vec![payment(1)],
            vec![contact(0, Channel::Sms)],
            vec![
                contact(0, Channel::Call),
                contact(5, Channel::Email),
                contact(5, Channel::Sms),
                payment(7),
            ],
            vec![
                contact(0, Channel::Letter),
                contact(3, Channel::Call),
                contact(9, Channel::Whatsapp),
                contact(9, Channel::Call),
                payment(12),
            ],
        ];
        for history in histories {
            let mut facts = Facts::default();
            facts.fold(&history, None, t0 + Duration::days(1));
            let latest = facts.last_contact.iter().flatten().max().copied();
            assert_eq!(facts.last_any_contact, latest, "{history:?}");
        }
    }
}
