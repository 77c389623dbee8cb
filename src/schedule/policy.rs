//! The régua as operations define it: steps by days from the due date, rules
//! that react to events, compliance, offers and queues. Built from a TOML
//! file by `policy_file`, checked there, so everything here is valid.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;

use super::compliance::Compliance;
use crate::domain::{Channel, Currency, Firmness, Locale, Money};
use crate::scripts::TalkingPoints;

#[derive(Clone, Debug)]
pub struct Policy {
    pub name: String,
    pub currency: Currency,
    /// The zone that says what "today" is for reports and simulated days.
    pub business_time_zone: Tz,
    /// Ordered by `day`.
    pub steps: Vec<Step>,
    pub promise: PromiseRule,
    pub broken_promise: BrokenPromiseRule,
    pub callback_queue: QueueIdx,
    /// A callback is set at most this many days ahead: one years away is
    /// a mistyped year, not an appointment.
    pub callback_max_days: u32,
    pub stop_queues: StopQueues,
    pub engagement: Vec<EngagementRule>,
    pub compliance: Compliance,
    pub offers: Offers,
    pub queues: Vec<Queue>,
    /// What agents say, by the debtor's situation (`[[scripts.point]]`).
    pub talking_points: TalkingPoints,
}

pub type QueueIdx = u16;

#[derive(Clone, Debug)]
pub struct Step {
    pub id: String,
    /// What agents read for it, in pt-BR and English; its id when none.
    pub names: Option<[String; 2]>,
    /// Days from the due date; negative is before it.
    pub day: i32,
    pub channel: Channel,
    pub firmness: Firmness,
    pub template: String,
    /// Only for debtors in these segments (empty: everyone).
    pub segments: Vec<String>,
    /// Only when the balance is at least this.
    pub min_balance: Option<Money>,
    /// Not sent once this many days have passed since its day (a reminder
    /// before the due date makes no sense a month after it).
    pub expires_after_days: Option<u32>,
    /// Not before this many days after an earlier step was done (a
    /// listing with a credit bureau after the written notice).
    pub after: Option<After>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct After {
    /// The earlier step, by its place in `Policy::steps`.
    pub step: usize,
    pub days: u32,
}

impl Step {
    pub fn applies(&self, segment: &str, balance: Money) -> bool {
        (self.segments.is_empty() || self.segments.iter().any(|s| s == segment))
            && self
                .min_balance
                .is_none_or(|min| balance.currency != min.currency || balance.minor >= min.minor)
    }
}

#[derive(Clone, Debug)]
pub struct PromiseRule {
    /// Steps this firm or firmer wait until the promised date plus grace.
    pub pauses_from: Firmness,
    pub grace_days: u16,
    /// A friendly nudge this many days before the promised date.
    pub encourage: Option<Encouragement>,
}

#[derive(Clone, Debug)]
pub struct Encouragement {
    pub days_before: u16,
    pub channel: Channel,
    pub template: String,
}

#[derive(Clone, Debug)]
pub struct BrokenPromiseRule {
    pub queue: QueueIdx,
    pub firmness: Firmness,
    pub template: String,
}

#[derive(Clone, Debug)]
pub struct StopQueues {
    pub dispute: QueueIdx,
    pub cease_contact: QueueIdx,
    pub deceased: QueueIdx,
}

/// "A message was opened but nothing was paid within N hours → a friendly
/// message on another channel."
#[derive(Clone, Debug)]
pub struct EngagementRule {
    pub id: String,
    /// What agents read for it, in pt-BR and English; its id when none.
    pub names: Option<[String; 2]>,
    /// Opened on this channel (any channel when `None`).
    pub opened_on: Option<Channel>,
    pub no_payment_within_hours: u32,
    pub channel: Channel,
    pub firmness: Firmness,
    pub template: String,
}

#[derive(Clone, Debug)]
pub struct Offers {
    /// Off the interest and fees, for payment in full.
    pub max_discount_percent: u32,
    pub max_installments: u32,
    pub min_installment: Money,
    /// The least installment for debts in other currencies, each in its
    /// own; a currency not here has none.
    pub min_installment_in: Vec<Money>,
    /// A promise date at most this many days ahead.
    pub max_promise_days: u32,
}

#[derive(Clone, Debug)]
pub struct Queue {
    pub id: String,
    /// Its name for agents and supervisors, in pt-BR and in English (one
    /// name for both when the policy gives only one).
    pub names: [String; 2],
    /// Debtors whose days past due fall in this range (inclusive), when the
    /// queue is not one an event rule routes to.
    pub days_past_due: Option<(i32, i32)>,
}

impl Queue {
    pub fn name(&self, locale: Locale) -> &str {
        in_locale(&self.names, locale)
    }
}

/// The name of `names` said in `locale` (pt-BR first, then English).
pub fn in_locale(names: &[String; 2], locale: Locale) -> &str {
    match locale {
        Locale::PtBr => &names[0],
        Locale::En => &names[1],
    }
}

impl Policy {
    /// The latest time a callback asked for at `now` may be set for.
    pub fn latest_callback(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + Duration::days(i64::from(self.callback_max_days))
    }

    pub fn queue_for_days(&self, days_past_due: i32) -> Option<QueueIdx> {
        self.queues
            .iter()
            .position(|q| {
                q.days_past_due
                    .is_some_and(|(lo, hi)| (lo..=hi).contains(&days_past_due))
            })
            .map(|i| i as QueueIdx)
    }

    pub fn queue(&self, idx: QueueIdx) -> &Queue {
        &self.queues[idx as usize]
    }

    pub fn queue_index(&self, id: &str) -> Option<QueueIdx> {
        self.queues
            .iter()
            .position(|q| q.id == id)
            .map(|i| i as QueueIdx)
    }
}
