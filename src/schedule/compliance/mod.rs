//! May this channel reach this debtor at this moment? Call windows in the
//! debtor's own time and jurisdiction, frequency caps in rolling windows,
//! message caps, consent and do-not-contact; and if not, which rule stops
//! it and when everything clears.

pub mod holidays;
pub mod windows;

use chrono::{DateTime, Duration, Utc};
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::domain::{
    Channel, ContactResult, Debtor, Event, EventKind, Flag, Jurisdiction, LocalZone,
};
pub use holidays::ExtraHolidays;
pub use windows::{CallWindow, DayKind, Hours, Shut};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct CallCaps {
    /// Attempts allowed in any `per_days` rolling days.
    pub max_attempts: u32,
    pub per_days: u32,
    /// No call for this many days after a conversation (0: none).
    pub quiet_days_after_conversation: u32,
}

impl CallCaps {
    /// US Regulation F (12 CFR 1006.14(b)(2)): more than 7 attempts within 7
    /// days, or a call within 7 days after a telephone conversation, is
    /// presumed harassment.
    pub const REG_F: CallCaps = CallCaps {
        max_attempts: 7,
        per_days: 7,
        quiet_days_after_conversation: 7,
    };
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct MessageCap {
    pub max: u32,
    pub per_days: u32,
}

#[derive(Clone, Debug)]
pub struct Compliance {
    /// One per jurisdiction, by `Jurisdiction::index`.
    pub windows: Vec<CallWindow>,
    pub extra_holidays: ExtraHolidays,
    pub calls: Option<CallCaps>,
    pub messages: [Option<MessageCap>; Channel::ALL.len()],
    /// Debtors with any of these tags are never contacted (represented by an
    /// attorney, say).
    pub do_not_contact_tags: Vec<String>,
}

impl Default for Compliance {
    fn default() -> Compliance {
        Compliance {
            windows: Jurisdiction::all().map(windows::preset).collect(),
            extra_holidays: ExtraHolidays::default(),
            calls: Some(CallCaps::REG_F),
            messages: [None; Channel::ALL.len()],
            do_not_contact_tags: Vec::new(),
        }
    }
}

/// The rule that stops a contact.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Block {
    Stopped(Flag),
    DoNotContactTag(String),
    UnknownZone(String),
    NoConsentedPhone,
    NoEmail,
    Window {
        authority: Arc<str>,
        shut: Shut,
    },
    CallCap {
        attempts: u32,
        caps: CallCaps,
    },
    QuietAfterConversation {
        since: DateTime<Utc>,
        days: u32,
    },
    MessageCap {
        channel: Channel,
        sent: u32,
        cap: MessageCap,
    },
    PromisePause {
        until: chrono::NaiveDate,
    },
}

impl Block {
    /// Short machine name, for counting blocked debtors by rule.
    pub fn code(&self) -> &'static str {
        match self {
            Block::Stopped(flag) => flag.name(),
            Block::DoNotContactTag(_) => "do_not_contact",
            Block::UnknownZone(_) => "unknown_time_zone",
            Block::NoConsentedPhone => "no_consented_phone",
            Block::NoEmail => "no_email",
            Block::Window { .. } => "call_window",
            Block::CallCap { .. } => "call_cap",
            Block::QuietAfterConversation { .. } => "quiet_after_conversation",
            Block::MessageCap { .. } => "message_cap",
            Block::PromisePause { .. } => "promise_pause",
        }
    }
}

impl fmt::Display for Block {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Block::Stopped(Flag::Dispute) => {
                f.write_str("the debt is disputed: no collection until it is resolved")
            }
            Block::Stopped(Flag::CeaseContact) => {
                f.write_str("the debtor asked us to stop contacting them")
            }
            Block::Stopped(Flag::Deceased) => f.write_str("the debtor is reported deceased"),
            Block::DoNotContactTag(tag) => write!(f, "do-not-contact: tagged '{tag}'"),
            Block::UnknownZone(zone) => {
                write!(
                    f,
                    "unknown time zone '{zone}': the debtor's local time cannot be known"
                )
            }
            Block::NoConsentedPhone => {
                f.write_str("no phone number the debtor agreed to be reached on")
            }
            Block::NoEmail => f.write_str("no e-mail address"),
            Block::Window { authority, shut } => write!(f, "call window of {authority}: {shut}"),
            Block::CallCap { attempts, caps } => write!(
                f,
                "frequency cap: {attempts} call attempts in {} days (at most {})",
                caps.per_days, caps.max_attempts
            ),
            Block::QuietAfterConversation { days, .. } => {
                write!(
                    f,
                    "quiet period: no calls within {days} days after a conversation"
                )
            }
            Block::MessageCap { channel, sent, cap } => {
                write!(
                    f,
                    "message cap: {sent} {channel} in {} days (at most {})",
                    cap.per_days, cap.max
                )
            }
            Block::PromisePause { until } => {
                write!(f, "paused by a promise to pay until {until} (with grace)")
            }
        }
    }
}

/// A contact that may not happen now: the rule, and when every rule clears
/// (`None`: not by itself, someone must change something).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Refusal {
    pub block: Block,
    pub clears_at: Option<DateTime<Utc>>,
}

fn days(n: u32) -> Duration {
    Duration::days(n as i64)
}

/// Whether a cap of `max` contacts on `channel` in any `per` is kept at `t`;
/// if not, how many count and when enough leave the window. One backward
/// pass over the recent end of the history, which is in time order.
fn cap_clears(
    history: &[Event],
    channel: Channel,
    t: DateTime<Utc>,
    max: u32,
    per: Duration,
) -> Result<(), (u32, DateTime<Utc>)> {
    let from = t - per;
    let mut n = 0u32;
    // Counting back from the newest, the one at position `max - 1` is the
    // one whose leaving brings the count under the cap.
    let mut leaving = None;
    for e in history.iter().rev() {
        if e.at > t {
            continue;
        }
        if e.at <= from {
            break;
        }
        if let EventKind::Contact {
            channel: c,
            requested: false,
            ..
        } = e.kind
            && c == channel
        {
            if n + 1 == max {
                leaving = Some(e.at);
            }
            n += 1;
        }
    }
    match leaving {
        Some(at) if n >= max => Err((n, at + per)),
        _ => Ok(()),
    }
}

fn last_conversation(history: &[Event], t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    history.iter().rev().find_map(|e| match e.kind {
        EventKind::Contact {
            channel: Channel::Call,
            result: ContactResult::Connected { right_party: true },
            ..
        } if e.at <= t => Some(e.at),
        _ => None,
    })
}

/// What the rules need of a debtor's history, worked out once for the many
/// checks of one plan.
pub struct Recent<'a> {
    history: &'a [Event],
    /// The last call conversation in the whole history.
    last_conversation: Option<DateTime<Utc>>,
    zone: Option<LocalZone>,
    /// The window at the last two instants asked, and when it next opens if
    /// shut: a plan asks about the same instants (now, the next opening) for
    /// every channel that reaches the phone.
    window_memo: Cell<[Option<WindowAt>; 2]>,
}

type WindowAt = (DateTime<Utc>, Result<(), (Shut, Option<DateTime<Utc>>)>);

impl<'a> Recent<'a> {
    /// `history` must be in time order.
    pub fn new(debtor: &Debtor, history: &'a [Event]) -> Recent<'a> {
        let last = last_conversation(history, DateTime::<Utc>::MAX_UTC);
        Recent::with_parts(history, last, debtor.time_zone.tz().map(LocalZone::new))
    }

    /// When the caller already knows the last call conversation and the zone.
    pub(crate) fn with_parts(
        history: &'a [Event],
        last_conversation: Option<DateTime<Utc>>,
        zone: Option<LocalZone>,
    ) -> Recent<'a> {
        Recent {
            history,
            last_conversation,
            zone,
            window_memo: Cell::new([None, None]),
        }
    }

    fn last_conversation_at(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self.last_conversation {
            Some(c) if c <= t => Some(c),
            Some(_) => last_conversation(self.history, t),
            None => None,
        }
    }
}

impl Compliance {
    pub fn window(&self, j: Jurisdiction) -> &CallWindow {
        &self.windows[j.index()]
    }

    /// Rules no waiting clears.
    fn permanent(&self, debtor: &Debtor, channel: Channel) -> Option<Block> {
        if let Some(tag) = debtor
            .tags
            .iter()
            .find(|t| self.do_not_contact_tags.contains(t))
        {
            return Some(Block::DoNotContactTag(tag.clone()));
        }
        if channel.reaches_phone() {
            if debtor.time_zone.tz().is_none() {
                return Some(Block::UnknownZone(debtor.time_zone.to_string()));
            }
            if !debtor.has_consented_phone() {
                return Some(Block::NoConsentedPhone);
            }
        }
        if channel == Channel::Email && debtor.email.as_deref().is_none_or(str::is_empty) {
            return Some(Block::NoEmail);
        }
        None
    }

    /// The first rule that waiting clears which blocks at `t`, and when that
    /// one rule clears (`None`: the window never opens).
    fn temporal(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Option<(Block, Option<DateTime<Utc>>)> {
        let history = recent.history;
        if channel.reaches_phone() {
            let zone = recent.zone?;
            let window = self.window(debtor.jurisdiction);
            let memo = recent.window_memo.get();
            let state = match memo.iter().flatten().find(|(at, _)| *at == t) {
                Some((_, state)) => *state,
                None => {
                    let j = debtor.jurisdiction;
                    let state = window
                        .check_local(j, zone.to_local(t), &self.extra_holidays)
                        .map_err(|shut| {
                            (shut, window.next_open(j, &zone, t, &self.extra_holidays))
                        });
                    recent.window_memo.set([Some((t, state)), memo[0]]);
                    state
                }
            };
            if let Err((shut, opens)) = state {
                let block = Block::Window {
                    authority: window.authority.clone(),
                    shut,
                };
                return Some((block, opens));
            }
        }
        if channel == Channel::Call
            && !requested
            && let Some(caps) = self.calls
        {
            if let Err((attempts, clears)) = cap_clears(
                history,
                Channel::Call,
                t,
                caps.max_attempts,
                days(caps.per_days),
            ) {
                return Some((Block::CallCap { attempts, caps }, Some(clears)));
            }
            if caps.quiet_days_after_conversation > 0
                && let Some(since) = recent.last_conversation_at(t)
            {
                let until = since + days(caps.quiet_days_after_conversation);
                if t < until {
                    let block = Block::QuietAfterConversation {
                        since,
                        days: caps.quiet_days_after_conversation,
                    };
                    return Some((block, Some(until)));
                }
            }
        }
        if let Some(cap) = self.messages[channel as usize]
            && let Err((sent, clears)) =
                cap_clears(history, channel, t, cap.max, days(cap.per_days))
        {
            return Some((Block::MessageCap { channel, sent, cap }, Some(clears)));
        }
        None
    }

    /// The first instant at or after `t` when every rule allows the contact
    /// (`requested`: the debtor asked for this call), with the rule that
    /// blocked at `t` if any; or the rule that no waiting clears. The history
    /// must be in time order.
    pub fn earliest(
        &self,
        debtor: &Debtor,
        history: &[Event],
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<Block>), Refusal> {
        self.earliest_in(debtor, &Recent::new(debtor, history), channel, requested, t)
    }

    /// `earliest`, with the history's summary worked out beforehand.
    pub fn earliest_in(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<Block>), Refusal> {
        if let Some(block) = self.permanent(debtor, channel) {
            return Err(Refusal {
                block,
                clears_at: None,
            });
        }
        let mut at = t;
        let mut first: Option<Block> = None;
        // Each rule moves `at` forward; a few rounds settle it (a cap clearing
        // on a Sunday moves to Monday's opening, which no cap blocks).
        for _ in 0..16 {
            match self.temporal(debtor, recent, channel, requested, at) {
                None => return Ok((at, first)),
                Some((block, Some(later))) if later > at => {
                    first.get_or_insert(block);
                    at = later;
                }
                Some((block, _)) => {
                    first.get_or_insert(block);
                    break;
                }
            }
        }
        Err(Refusal {
            block: first.expect("set in the loop"),
            clears_at: None,
        })
    }

    /// Whether `channel` may reach the debtor at `t`; if not, the rule that
    /// blocks and when every rule clears.
    pub fn check(
        &self,
        debtor: &Debtor,
        history: &[Event],
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        self.check_in(debtor, &Recent::new(debtor, history), channel, requested, t)
    }

    /// `check`, with the history's summary worked out beforehand.
    pub fn check_in(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<(), Refusal> {
        match self.earliest_in(debtor, recent, channel, requested, t)? {
            (_, None) => Ok(()),
            (at, Some(block)) => Err(Refusal {
                block,
                clears_at: Some(at),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
