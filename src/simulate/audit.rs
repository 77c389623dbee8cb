//! An independent compliance check of every simulated contact. It shares no
//! logic with the engine's compliance code: it reads the law's hours from
//! its own table, finds Easter in a table rather than by computing it, and
//! counts caps by brute force; only the states' own holidays are read from
//! the engine's table of them (data, no rule). The policy supplies only
//! what operations chose (their windows, caps, extra holidays,
//! do-not-contact tags and which steps wait for others); the statutory
//! hours of São Paulo, Rio de Janeiro and the FDCPA are checked whatever
//! the policy says.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};
use serde::Serialize;

use crate::domain::{
    Channel, ContactResult, Debtor, Disposition, Event, EventKind, Flag, Jurisdiction, Uf,
};
use crate::schedule::Policy;
use crate::schedule::compliance::holidays as state_holidays;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub debtor_id: i64,
    pub at: DateTime<Utc>,
    pub channel: Channel,
    pub rule: String,
}

/// Easter Sunday, 2020–2040, from published tables.
const EASTER: [(i32, u32, u32); 21] = [
    (2020, 4, 12),
    (2021, 4, 4),
    (2022, 4, 17),
    (2023, 4, 9),
    (2024, 3, 31),
    (2025, 4, 20),
    (2026, 4, 5),
    (2027, 3, 28),
    (2028, 4, 16),
    (2029, 4, 1),
    (2030, 4, 21),
    (2031, 4, 13),
    (2032, 3, 28),
    (2033, 4, 17),
    (2034, 4, 9),
    (2035, 3, 25),
    (2036, 4, 13),
    (2037, 4, 5),
    (2038, 4, 25),
    (2039, 4, 10),
    (2040, 4, 1),
];

fn brazil_holiday(date: NaiveDate) -> bool {
    let fixed = [
        (1, 1),
        (4, 21),
        (5, 1),
        (9, 7),
        (10, 12),
        (11, 2),
        (11, 15),
        (11, 20),
        (12, 25),
    ];
    if fixed.contains(&(date.month(), date.day())) {
        return true;
    }
    // Outside the table the audit cannot know the movable feasts: it calls
    // them holidays, which can only make it stricter.
    let Some(&(y, m, d)) = EASTER.iter().find(|(y, ..)| *y == date.year()) else {
        return true;
    };
    let easter = NaiveDate::from_ymd_opt(y, m, d).expect("table dates are real");
    // Carnival Monday and Tuesday, Good Friday, Corpus Christi.
    [-48, -47, -2, 60]
        .iter()
        .any(|&off| easter + Duration::days(off) == date)
}

fn state_holiday(j: Jurisdiction, date: NaiveDate) -> bool {
    matches!(j, Jurisdiction::Br(uf) if state_holidays::state(uf, date).is_some())
}

/// Statutory hours as (open, close) in hours for a local date, or `None`
/// when the law allows no calls that day; `Some(None)` when no statute
/// applies.
fn statutory(j: Jurisdiction, date: NaiveDate) -> Option<Option<(u32, u32)>> {
    let holiday = || brazil_holiday(date) || state_holiday(j, date);
    match j {
        Jurisdiction::Br(Uf::SP) => Some(match date.weekday() {
            _ if holiday() => None,
            Weekday::Sun => None,
            Weekday::Sat => Some((8, 14)),
            _ => Some((8, 20)),
        }),
        Jurisdiction::Br(Uf::RJ) => Some(match date.weekday() {
            _ if holiday() => None,
            Weekday::Sat | Weekday::Sun => None,
            _ => Some((9, 19)),
        }),
        Jurisdiction::Us(_) => Some(Some((8, 21))),
        Jurisdiction::Br(_) => None,
    }
}

fn within(hours: Option<(u32, u32)>, minute_of_day: u32) -> bool {
    hours.is_some_and(|(open, close)| minute_of_day >= open * 60 && minute_of_day < close * 60)
}

/// The policy's own window at a local time, evaluated here from its data.
fn policy_window_open(policy: &Policy, j: Jurisdiction, date: NaiveDate, minute: u32) -> bool {
    let w = policy.compliance.window(j);
    let holiday = w.closed_on_holidays
        && (matches!(j, Jurisdiction::Br(_)) && (brazil_holiday(date) || state_holiday(j, date))
            || policy.compliance.extra_holidays.contains(j, date));
    let hours = if holiday {
        None
    } else {
        match date.weekday() {
            Weekday::Sat => w.saturday,
            Weekday::Sun => w.sunday,
            _ => w.weekdays,
        }
    };
    hours.is_some_and(|h| minute >= h.open as u32 && minute < h.close as u32)
}

/// Every contact in the history that broke a rule.
pub fn audit(debtor: &Debtor, history: &[Event], policy: &Policy) -> (u64, Vec<Violation>) {
    let mut violations = Vec::new();
    let mut checked = 0;
    let mut stopped: Vec<Flag> = Vec::new();
    let flag_of = |d: Disposition| match d {
        Disposition::Dispute => Some(Flag::Dispute),
        Disposition::CeaseContact => Some(Flag::CeaseContact),
        Disposition::Deceased => Some(Flag::Deceased),
        _ => None,
    };
    for (i, e) in history.iter().enumerate() {
        match &e.kind {
            EventKind::Outcome { disposition, .. } => {
                if let Some(flag) = flag_of(*disposition)
                    && !stopped.contains(&flag)
                {
                    stopped.push(flag);
                }
                continue;
            }
            EventKind::Flag { flag, set } => {
                stopped.retain(|f| f != flag);
                if *set {
                    stopped.push(*flag);
                }
                continue;
            }
            EventKind::Contact { .. } => {}
            _ => continue,
        }
        let EventKind::Contact {
            channel, requested, ..
        } = e.kind
        else {
            unreachable!()
        };
        checked += 1;
        let mut broke = |rule: String| {
            violations.push(Violation {
                debtor_id: debtor.id,
                at: e.at,
                channel,
                rule,
            })
        };
        if let Some(flag) = stopped.first() {
            broke(format!("contact after {}", flag.name()));
        }
        if let Some(tag) = debtor
            .tags
            .iter()
            .find(|t| policy.compliance.do_not_contact_tags.contains(t))
        {
            broke(format!("contact with do-not-contact tag '{tag}'"));
        }
        let phone = matches!(channel, Channel::Call | Channel::Sms | Channel::Whatsapp);
        if phone {
            if !debtor.phones.iter().any(|p| p.consent) {
                broke("phone contact without a consented number".into());
            }
            match debtor.time_zone.tz() {
                None => broke(format!(
                    "phone contact with unknown time zone '{}'",
                    debtor.time_zone
                )),
                Some(tz) => {
                    let local = e.at.with_timezone(&tz);
                    let (date, minute) = (local.date_naive(), local.hour() * 60 + local.minute());
                    if let Some(hours) = statutory(debtor.jurisdiction, date)
                        && !within(hours, minute)
                    {
                        broke(format!(
                            "outside the statutory hours of {} at {}",
                            debtor.jurisdiction,
                            local.format("%a %H:%M")
                        ));
                    }
                    if !policy_window_open(policy, debtor.jurisdiction, date, minute) {
                        broke(format!(
                            "outside the policy's call window at {}",
                            local.format("%a %Y-%m-%d %H:%M")
                        ));
                    }
                }
            }
        }
        let earlier = &history[..=i];
        let in_window = |ch: Channel, days: u32| {
            let from = e.at - Duration::days(days as i64);
            earlier
                .iter()
                .filter(|o| matches!(o.kind, EventKind::Contact { channel: c, requested: false, .. } if c == ch) && o.at > from)
                .count() as u32
        };
        if channel == Channel::Call
            && !requested
            && let Some(caps) = policy.compliance.calls
        {
            let n = in_window(Channel::Call, caps.per_days);
            if n > caps.max_attempts {
                broke(format!("{n} call attempts within {} days", caps.per_days));
            }
            let quiet = Duration::days(caps.quiet_days_after_conversation as i64);
            let after_conversation = earlier.iter().any(|o| {
                o.at < e.at
                    && e.at - o.at < quiet
                    && matches!(
                        o.kind,
                        EventKind::Contact {
                            channel: Channel::Call,
                            result: ContactResult::Connected { right_party: true },
                            ..
                        }
                    )
            });
            if after_conversation {
                broke(format!(
                    "call within {} days after a conversation",
                    caps.quiet_days_after_conversation
                ));
            }
        }
        // A step that waits for an earlier one (the listing for the written
        // notice): a contact on its channel with none on the earlier
        // step's channel that many local days before.
        let date = |t: DateTime<Utc>| match debtor.time_zone.tz() {
            Some(tz) => t.with_timezone(&tz).date_naive(),
            None => t.date_naive(),
        };
        for step in policy.steps.iter().filter(|s| s.channel == channel) {
            let Some(after) = step.after else { continue };
            let prior = policy.steps[after.step].channel;
            let noticed = earlier.iter().any(|o| {
                matches!(o.kind, EventKind::Contact { channel: c, .. } if c == prior)
                    && date(o.at) + Duration::days(after.days as i64) <= date(e.at)
            });
            if !noticed {
                broke(format!(
                    "{channel} with no {prior} at least {} days before",
                    after.days
                ));
            }
        }
        if let Some(cap) = policy.compliance.messages[channel as usize] {
            let n = in_window(channel, cap.per_days);
            if n > cap.max {
                broke(format!(
                    "{n} {channel} messages within {} days",
                    cap.per_days
                ));
            }
        }
    }
    (checked, violations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Firmness;
    use crate::simulate::portfolio;
    use chrono::TimeZone;

    /// The audit holds contacts to the statutes whatever the policy says:
    /// a call in São Paulo on a Sunday is a violation, one on a Monday
    /// morning is not.
    #[test]
    fn a_call_outside_the_statutory_hours_is_a_violation() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let mut debtor = (0..)
            .map(|i| portfolio::debtor(7, i, start).debtor)
            .find(|d| d.jurisdiction == Jurisdiction::Br(Uf::SP) && d.time_zone.tz().is_some())
            .unwrap();
        debtor.phones.iter_mut().for_each(|p| p.consent = true);
        let tz = debtor.time_zone.tz().unwrap();
        let call = |day: u32| Event {
            at: tz
                .with_ymd_and_hms(2026, 3, day, 11, 0, 0)
                .unwrap()
                .with_timezone(&Utc),
            kind: EventKind::Contact {
                channel: Channel::Call,
                firmness: Firmness::Friendly,
                result: ContactResult::Dialed,
                requested: false,
            },
        };
        let policy = crate::schedule::default_policy();
        let (checked, violations) = audit(&debtor, &[call(9)], &policy);
        assert_eq!((checked, violations.len()), (1, 0), "{violations:?}");
        let (_, violations) = audit(&debtor, &[call(8)], &policy);
        assert!(
            violations
                .iter()
                .any(|v| v.rule.starts_with("outside the statutory hours of SP")),
            "{violations:?}"
        );
    }

    /// A listing with a credit bureau needs the letter ten days before it
    /// (the default policy's `after`).
    #[test]
    fn a_listing_without_the_letter_before_it_is_a_violation() {
        let start = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let debtor = portfolio::debtor(7, 0, start).debtor;
        let sent = |channel, day: u32| Event {
            at: Utc.with_ymd_and_hms(2026, 3, day, 15, 0, 0).unwrap(),
            kind: EventKind::Contact {
                channel,
                firmness: Firmness::Firm,
                result: ContactResult::Delivered,
                requested: false,
            },
        };
        let policy = crate::schedule::default_policy();
        let listed = |history: &[Event]| {
            let (_, violations) = audit(&debtor, history, &policy);
            violations
                .into_iter()
                .filter(|v| v.channel == Channel::Bureau)
                .map(|v| v.rule)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            listed(&[sent(Channel::Bureau, 20)]),
            ["bureau with no letter at least 10 days before"]
        );
        let early = [sent(Channel::Letter, 12), sent(Channel::Bureau, 20)];
        assert_eq!(listed(&early).len(), 1);
        let in_time = [sent(Channel::Letter, 10), sent(Channel::Bureau, 20)];
        assert_eq!(listed(&in_time), Vec::<String>::new());
    }
}
