//! May this channel reach this debtor at this moment? Call windows in the
//! debtor's own time and jurisdiction, frequency caps in rolling windows,
//! message caps, consent and do-not-contact; and if not, which rule stops
//! it and when everything clears.

pub mod holidays;
pub mod windows;

use chrono::{DateTime, Datelike, Days, Duration, Timelike, Utc};
use std::cell::Cell;
use std::fmt;
use std::sync::Arc;

use crate::domain::{
    Channel, ContactResult, Debtor, Event, EventKind, Flag, Jurisdiction, LocalZone, Locale,
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
    /// Paid in full: there is nothing to collect.
    NothingOwed,
    /// Waits for `days` after the step of day `day` is done, and it is not
    /// yet (a listing with a credit bureau before the written notice).
    AwaitsStep {
        day: i32,
        days: u32,
    },
}

impl Block {
    /// The kind of rule, as blocked debtors are counted by.
    pub fn rule(&self) -> Rule {
        match self {
            Block::Stopped(Flag::Dispute) => Rule::Dispute,
            Block::Stopped(Flag::CeaseContact) => Rule::CeaseContact,
            Block::Stopped(Flag::Deceased) => Rule::Deceased,
            Block::DoNotContactTag(_) => Rule::DoNotContact,
            Block::UnknownZone(_) => Rule::UnknownZone,
            Block::NoConsentedPhone => Rule::NoConsentedPhone,
            Block::NoEmail => Rule::NoEmail,
            Block::Window { .. } => Rule::CallWindow,
            Block::CallCap { .. } => Rule::CallCap,
            Block::QuietAfterConversation { .. } => Rule::QuietAfterConversation,
            Block::MessageCap { .. } => Rule::MessageCap,
            Block::PromisePause { .. } => Rule::PromisePause,
            Block::NothingOwed => Rule::NothingOwed,
            Block::AwaitsStep { .. } => Rule::AwaitsStep,
        }
    }

    /// Short machine name, for counting blocked debtors by rule.
    pub fn code(&self) -> &'static str {
        self.rule().code()
    }
}

macro_rules! rules {
    ($($variant:ident = $code:literal { pt: $pt:literal, en: $en:literal },)*) => {
        /// The kinds of rule that stop a contact (a [`Block`] without its
        /// particulars): what the API counts blocked debtors by.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        pub enum Rule {
            $($variant,)*
        }

        impl Rule {
            pub const ALL: &'static [Rule] = &[$(Rule::$variant,)*];

            /// As the API writes it.
            pub fn code(self) -> &'static str {
                match self {
                    $(Rule::$variant => $code,)*
                }
            }

            /// In a few words, for a count by rule on the board.
            pub fn said(self, locale: Locale) -> &'static str {
                match self {
                    $(Rule::$variant => locale.pick($pt, $en),)*
                }
            }
        }
    };
}

rules! {
    Dispute = "dispute" { pt: "contestação", en: "disputed" },
    CeaseContact = "cease_contact" { pt: "não quer contato", en: "asked for no contact" },
    Deceased = "deceased" { pt: "óbito informado", en: "deceased" },
    DoNotContact = "do_not_contact" { pt: "não contatar", en: "do not contact" },
    UnknownZone = "unknown_time_zone" { pt: "fuso desconhecido", en: "unknown time zone" },
    NoConsentedPhone = "no_consented_phone" { pt: "sem telefone autorizado", en: "no consented phone" },
    NoEmail = "no_email" { pt: "sem e-mail", en: "no e-mail" },
    CallWindow = "call_window" { pt: "fora do horário", en: "outside hours" },
    CallCap = "call_cap" { pt: "limite de ligações", en: "call cap" },
    QuietAfterConversation = "quiet_after_conversation" { pt: "descanso após conversa", en: "quiet after a talk" },
    MessageCap = "message_cap" { pt: "limite de mensagens", en: "message cap" },
    PromisePause = "promise_pause" { pt: "promessa em aberto", en: "promise pending" },
    NothingOwed = "nothing_owed" { pt: "nada em aberto", en: "nothing owed" },
    AwaitsStep = "awaits_step" { pt: "aguarda passo anterior", en: "awaits an earlier step" },
}

/// A rule's code (as the API counts blocked debtors) in words; `None` for
/// a code this build does not know (a newer server's).
pub fn rule_said(code: &str, locale: Locale) -> Option<&'static str> {
    Rule::ALL
        .iter()
        .find(|r| r.code() == code)
        .map(|r| r.said(locale))
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
            Block::NothingOwed => f.write_str("nothing is owed: there is nothing to collect"),
            Block::AwaitsStep { day, days } => write!(
                f,
                "comes {days} days after step {}, which is not done yet",
                step_day(*day)
            ),
        }
    }
}

impl Block {
    /// The rule in words, for the agent and the supervisor.
    pub fn said(&self, locale: Locale) -> String {
        match locale {
            Locale::En => self.to_string(),
            Locale::PtBr => match self {
                Block::Stopped(Flag::Dispute) => {
                    "a dívida é contestada: nada é cobrado até que se resolva".into()
                }
                Block::Stopped(Flag::CeaseContact) => {
                    "a pessoa pediu para não receber mais contato".into()
                }
                Block::Stopped(Flag::Deceased) => "óbito informado: nenhum contato".into(),
                Block::DoNotContactTag(tag) => format!("não contatar: marcada '{tag}'"),
                Block::UnknownZone(zone) => format!(
                    "fuso horário desconhecido '{zone}': não se sabe a hora local da pessoa"
                ),
                Block::NoConsentedPhone => {
                    "nenhum telefone que a pessoa autorizou para contato".into()
                }
                Block::NoEmail => "sem endereço de e-mail".into(),
                // "de" + a place name needs its article (da Bahia, do
                // Paraná): the authority comes after a colon instead.
                Block::Window { authority, shut } => format!(
                    "horário de ligação: {} — {}",
                    authority.replace(windows::NATIONAL_DEFAULT, windows::NATIONAL_DEFAULT_PT),
                    shut.said(locale)
                ),
                Block::CallCap { attempts, caps } => format!(
                    "limite de frequência: {attempts} tentativas de ligação em {} dias (no máximo {})",
                    caps.per_days, caps.max_attempts
                ),
                Block::QuietAfterConversation { days, .. } => {
                    format!("período de descanso: sem ligações por {days} dias após uma conversa")
                }
                Block::MessageCap { channel, sent, cap } => format!(
                    "limite de mensagens: {sent} de {} em {} dias (no máximo {})",
                    channel.said(locale),
                    cap.per_days,
                    cap.max
                ),
                Block::PromisePause { until } => format!(
                    "pausado por uma promessa de pagamento até {} (com carência)",
                    locale.date(*until)
                ),
                Block::NothingOwed => "nada em aberto: não há o que cobrar".into(),
                Block::AwaitsStep { day, days } => format!(
                    "vem {days} dias depois do passo {}, que ainda não foi feito",
                    step_day(*day)
                ),
            },
        }
    }
}

/// A step's day as agents read it: `D`, `D+15`, `D-3`.
pub fn step_day(day: i32) -> String {
    match day {
        0 => "D".to_string(),
        d => format!("D{d:+}"),
    }
}

/// A contact that may not happen now: the rule, and when every rule clears
/// (`None`: not by itself, someone must change something).
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Refusal {
    pub block: Block,
    pub clears_at: Option<DateTime<Utc>>,
}

/// A rule that waiting clears, as `temporal` finds it: plain data, made a
/// `Block` (which names the window's authority) only when one is returned.
#[derive(Clone, Copy)]
enum Wait {
    Window(Shut),
    CallCap {
        attempts: u32,
        caps: CallCaps,
    },
    Quiet {
        since: DateTime<Utc>,
        days: u32,
    },
    MessageCap {
        channel: Channel,
        sent: u32,
        cap: MessageCap,
    },
}

fn days(n: u32) -> Duration {
    Duration::days(n as i64)
}

/// `t + Duration::days(n)`, by the date alone: a UTC day is always 86,400
/// seconds, so only the date moves. Chrono's general path costs several
/// times more, and cap checks do this a few times a plan. A leap second
/// (which chrono handles its own way) takes that general path.
fn add_days(t: DateTime<Utc>, n: i64) -> DateTime<Utc> {
    // `naive_utc` is the stored value; `date_naive` and `time` would each
    // apply the (zero) offset first.
    let naive = t.naive_utc();
    let date = naive.date();
    // Within the same year only the day of the year moves, which chrono
    // checks cheaply (a cap's window mostly stays in one year). 365 days
    // (ordinals 0..=364) are in every year.
    let ordinal = date.ordinal0() as i64 + n;
    let same_year = (0..=364)
        .contains(&ordinal)
        .then(|| date.with_ordinal0(ordinal as u32))
        .flatten();
    let moved = if naive.nanosecond() >= 1_000_000_000 {
        None
    } else if same_year.is_some() {
        same_year
    } else if n >= 0 {
        naive.date().checked_add_days(Days::new(n as u64))
    } else {
        naive.date().checked_sub_days(Days::new(n.unsigned_abs()))
    };
    match moved {
        Some(date) => date.and_time(naive.time()).and_utc(),
        None => t + Duration::days(n),
    }
}

/// Whether a cap of `max` contacts on `channel` in any `per` is kept at `t`;
/// if not, how many count and when enough leave the window. One backward
/// pass over the recent end of the history, which is in time order.
fn cap_clears(
    history: &[Event],
    channel: Channel,
    t: DateTime<Utc>,
    max: u32,
    per_days: u32,
) -> Result<(), (u32, DateTime<Utc>)> {
    let from = add_days(t, -(per_days as i64));
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
        Some(at) if n >= max => Err((n, at + days(per_days))),
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
    /// The window at the last few instants asked, and when it next opens if
    /// shut: a plan asks about the same instants (now, a day's start, its
    /// opening) for every channel that reaches the phone.
    window_memo: WindowMemo,
}

type WindowAt = Result<(), (Shut, Option<DateTime<Utc>>)>;

/// The last `MEMO` answers about the window, oldest overwritten first; the
/// instants apart from the answers, so a miss copies little.
#[derive(Default)]
struct WindowMemo {
    at: [Cell<Option<DateTime<Utc>>>; MEMO],
    state: [Cell<Option<WindowAt>>; MEMO],
    next: Cell<usize>,
}

const MEMO: usize = 4;

impl WindowMemo {
    fn get(&self, t: DateTime<Utc>) -> Option<WindowAt> {
        let i = self.at.iter().position(|at| at.get() == Some(t))?;
        self.state[i].get()
    }

    fn put(&self, t: DateTime<Utc>, state: WindowAt) {
        let i = self.next.get();
        self.at[i].set(Some(t));
        self.state[i].set(Some(state));
        self.next.set((i + 1) % MEMO);
    }
}

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
            window_memo: WindowMemo::default(),
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

    /// When the debtor's call window, open at `at`, shuts; `None` when it
    /// is shut or their zone is unknown.
    pub fn call_window_closes(&self, debtor: &Debtor, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let zone = LocalZone::new(debtor.time_zone.tz()?);
        let j = debtor.jurisdiction;
        self.window(j)
            .closes_after(j, &zone, at, &self.extra_holidays)
    }

    /// The debtor's call window from `from` until `until`: each opening and
    /// its close, in order. Empty when their zone is unknown. What a
    /// callback time is checked against before it leaves the agent's desk
    /// (the caps and quiet periods are left to the server's own check).
    pub fn call_hours(
        &self,
        debtor: &Debtor,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<(DateTime<Utc>, DateTime<Utc>)> {
        let Some(tz) = debtor.time_zone.tz() else {
            return Vec::new();
        };
        let zone = LocalZone::new(tz);
        let j = debtor.jurisdiction;
        let window = self.window(j);
        let mut hours = Vec::new();
        let mut at = from;
        while at < until {
            let Some(open) = window.next_open(j, &zone, at, &self.extra_holidays) else {
                break;
            };
            let Some(close) = window.closes_after(j, &zone, open, &self.extra_holidays) else {
                break;
            };
            if open >= until || close <= open {
                break;
            }
            hours.push((open, close));
            at = close;
        }
        hours
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
    #[inline(never)]
    fn temporal(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Option<(Wait, Option<DateTime<Utc>>)> {
        let history = recent.history;
        if channel.reaches_phone() {
            let zone = recent.zone?;
            let memo = &recent.window_memo;
            let state = match memo.get(t) {
                Some(state) => state,
                None => {
                    let j = debtor.jurisdiction;
                    let found = self.window(j).state_at(j, &zone, t, &self.extra_holidays);
                    memo.put(t, found.state);
                    // The next question is usually about that opening.
                    if let Some(opening) = found.open_at {
                        memo.put(opening, Ok(()));
                    }
                    found.state
                }
            };
            if let Err((shut, opens)) = state {
                return Some((Wait::Window(shut), opens));
            }
        }
        if channel == Channel::Call
            && !requested
            && let Some(caps) = self.calls
        {
            if let Err((attempts, clears)) =
                cap_clears(history, Channel::Call, t, caps.max_attempts, caps.per_days)
            {
                return Some((Wait::CallCap { attempts, caps }, Some(clears)));
            }
            if caps.quiet_days_after_conversation > 0
                && let Some(since) = recent.last_conversation_at(t)
            {
                let until = add_days(since, caps.quiet_days_after_conversation as i64);
                if t < until {
                    let wait = Wait::Quiet {
                        since,
                        days: caps.quiet_days_after_conversation,
                    };
                    return Some((wait, Some(until)));
                }
            }
        }
        if let Some(cap) = self.messages[channel as usize]
            && let Err((sent, clears)) = cap_clears(history, channel, t, cap.max, cap.per_days)
        {
            return Some((Wait::MessageCap { channel, sent, cap }, Some(clears)));
        }
        None
    }

    fn block(&self, debtor: &Debtor, wait: Wait) -> Block {
        match wait {
            Wait::Window(shut) => Block::Window {
                authority: self.window(debtor.jurisdiction).authority.clone(),
                shut,
            },
            Wait::CallCap { attempts, caps } => Block::CallCap { attempts, caps },
            Wait::Quiet { since, days } => Block::QuietAfterConversation { since, days },
            Wait::MessageCap { channel, sent, cap } => Block::MessageCap { channel, sent, cap },
        }
    }

    /// The first instant at or after `t` when every rule allows the contact
    /// (`requested`: the debtor asked for this call), with the rule that
    /// held it longest if any blocked at `t`; or the rule that no waiting
    /// clears. The history
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
        let (at, held) = self.earliest_wait(debtor, recent, channel, requested, t)?;
        Ok((at, held.map(|wait| self.block(debtor, wait))))
    }

    /// `earliest_in` for a caller that wants only the instant.
    pub(crate) fn earliest_time(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, Refusal> {
        self.refuse_permanent(debtor, channel)?;
        // Allowed at `t`, the usual answer, needs no more than one look.
        match self.temporal(debtor, recent, channel, requested, t) {
            None => Ok(t),
            Some(first) => self
                .wait_out(debtor, recent, channel, requested, t, first)
                .map(|(at, _)| at),
        }
    }

    fn earliest_wait(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
    ) -> Result<(DateTime<Utc>, Option<Wait>), Refusal> {
        self.refuse_permanent(debtor, channel)?;
        match self.temporal(debtor, recent, channel, requested, t) {
            None => Ok((t, None)),
            Some(first) => self.wait_out(debtor, recent, channel, requested, t, first),
        }
    }

    /// The rules no waiting clears, as a refusal.
    #[inline]
    fn refuse_permanent(&self, debtor: &Debtor, channel: Channel) -> Result<(), Refusal> {
        match self.permanent(debtor, channel) {
            Some(block) => Err(Refusal {
                block,
                clears_at: None,
            }),
            None => Ok(()),
        }
    }

    /// `earliest_wait` past a rule that blocks at `t` (`first`, as
    /// `temporal` found it there): out of line, the callers' usual answer
    /// being that nothing blocks. The rule named is the one that holds the
    /// longest: a quiet week after a conversation, not the night it began
    /// in, is what stands between the agent and the next call. A window
    /// shut later is named only when it is shut already at `t`: a cap
    /// that ends on a Saturday afternoon is what holds a Friday's call,
    /// though the weekend then holds it longer.
    #[inline(never)]
    fn wait_out(
        &self,
        debtor: &Debtor,
        recent: &Recent,
        channel: Channel,
        requested: bool,
        t: DateTime<Utc>,
        found: (Wait, Option<DateTime<Utc>>),
    ) -> Result<(DateTime<Utc>, Option<Wait>), Refusal> {
        let mut at = t;
        let mut longest: Option<(chrono::Duration, Wait)> = None;
        let windows_count = matches!(found.0, Wait::Window(_));
        let mut found = Some(found);
        // Each rule moves `at` forward; a few rounds settle it (a cap clearing
        // on a Sunday moves to Monday's opening, which no cap blocks).
        for _ in 0..16 {
            let now_found = match found.take() {
                Some(found) => Some(found),
                None => self.temporal(debtor, recent, channel, requested, at),
            };
            match now_found {
                None => return Ok((at, longest.map(|(_, wait)| wait))),
                Some((wait, Some(later))) if later > at => {
                    let held = later - at;
                    let eligible = windows_count || !matches!(wait, Wait::Window(_));
                    if eligible && longest.is_none_or(|(most, _)| held > most) {
                        longest = Some((held, wait));
                    }
                    at = later;
                }
                // One that never clears holds longest of all.
                Some((wait, _)) => {
                    longest = Some((chrono::Duration::MAX, wait));
                    break;
                }
            }
        }
        let (_, wait) = longest.expect("set in the loop");
        Err(Refusal {
            block: self.block(debtor, wait),
            clears_at: None,
        })
    }

    /// Whether `channel` may reach the debtor at `t`; if not, the rule that
    /// holds it longest and when every rule clears.
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
        self.refuse_permanent(debtor, channel)?;
        // Allowed at `t`, the usual answer, needs no more than one look.
        let Some(first) = self.temporal(debtor, recent, channel, requested, t) else {
            return Ok(());
        };
        match self.wait_out(debtor, recent, channel, requested, t, first)? {
            (_, None) => Ok(()),
            (at, Some(wait)) => Err(Refusal {
                block: self.block(debtor, wait),
                clears_at: Some(at),
            }),
        }
    }
}

#[cfg(test)]
mod tests;
