//! Reading a policy from TOML: every mistake named with its file, line and
//! key, all of them at once where the file parses; nothing panics.

use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;
use toml::Spanned;

use super::compliance::{
    CallCaps, CallWindow, Compliance, ExtraHolidays, Hours, MessageCap, windows,
};
use super::policy::*;
use crate::domain::{Channel, Currency, Firmness, Jurisdiction, Money};
use crate::scripts::{Part, Problem, Source, TalkingPoints};

/// The default policy, commented, as `regua policy print` writes it.
pub const DEFAULT_TOML: &str = include_str!("default_policy.toml");

/// `rules.callback.max_days` when a policy does not say (policies written
/// before the key keep working).
const DEFAULT_CALLBACK_MAX_DAYS: u32 = 30;

/// The default policy: read once, a copy after.
pub fn default_policy() -> Policy {
    static POLICY: OnceLock<Policy> = OnceLock::new();
    POLICY
        .get_or_init(|| {
            load("<default policy>", DEFAULT_TOML).expect("the built-in policy is valid")
        })
        .clone()
}

/// The built-in talking points and what they were compiled from, compiled
/// once: checking every template takes a while, and most policies keep
/// them (a policy without `[scripts]`, or with the default's word for word).
fn built_in_points() -> &'static (String, TalkingPoints) {
    static POINTS: OnceLock<(String, TalkingPoints)> = OnceLock::new();
    POINTS.get_or_init(|| {
        let raw: RawPolicy = toml::from_str(DEFAULT_TOML).expect("the built-in policy parses");
        let scripts = raw.scripts.expect("the built-in policy has talking points");
        let sources = sources(&scripts.get_ref().point);
        let points = TalkingPoints::compile(&sources).expect("the built-in points are valid");
        (sources_key(&sources), points)
    })
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}: {}",
            self.file, self.line, self.column, self.key, self.message
        )
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    policy: RawHeader,
    #[serde(default)]
    step: Vec<RawStep>,
    rules: RawRules,
    #[serde(default)]
    compliance: RawCompliance,
    offers: RawOffers,
    #[serde(default)]
    queue: Vec<RawQueue>,
    scripts: Option<Spanned<RawScripts>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHeader {
    name: String,
    currency: Spanned<String>,
    business_time_zone: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    name: Option<Name>,
    day: Spanned<i64>,
    channel: Channel,
    firmness: Spanned<Firmness>,
    template: String,
    #[serde(default)]
    segment: Vec<String>,
    min_balance: Option<Spanned<String>>,
    expires_after_days: Option<Spanned<i64>>,
    after: Option<RawAfter>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAfter {
    step: Spanned<String>,
    days: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRules {
    promise: RawPromiseRule,
    broken_promise: RawBrokenPromise,
    callback: RawCallback,
    stop: RawStop,
    #[serde(default)]
    engagement: Vec<RawEngagement>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPromiseRule {
    pauses_from: Firmness,
    grace_days: Spanned<i64>,
    encourage_days_before: Option<Spanned<i64>>,
    encourage_channel: Option<Spanned<Channel>>,
    encourage_template: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBrokenPromise {
    queue: Spanned<String>,
    #[serde(default = "friendly")]
    firmness: Firmness,
    template: String,
}

fn friendly() -> Firmness {
    Firmness::Friendly
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCallback {
    queue: Spanned<String>,
    max_days: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStop {
    dispute: Spanned<String>,
    cease_contact: Spanned<String>,
    deceased: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEngagement {
    id: Spanned<String>,
    name: Option<Name>,
    when: Spanned<String>,
    opened_on: Option<Channel>,
    no_payment_within_hours: Spanned<i64>,
    channel: Spanned<Channel>,
    #[serde(default = "friendly")]
    firmness: Firmness,
    template: String,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawCompliance {
    #[serde(default)]
    windows: BTreeMap<Spanned<String>, RawWindow>,
    calls: Option<Spanned<RawCalls>>,
    #[serde(default)]
    messages: BTreeMap<Spanned<Channel>, RawCap>,
    #[serde(default)]
    holidays: BTreeMap<Spanned<String>, Vec<Spanned<DateLike>>>,
    #[serde(default)]
    do_not_contact_tags: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWindow {
    authority: Option<String>,
    weekdays: Spanned<String>,
    saturday: Spanned<String>,
    sunday: Spanned<String>,
    closed_on_holidays: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalls {
    preset: Option<Spanned<String>>,
    max_attempts: Option<Spanned<i64>>,
    per_days: Option<Spanned<i64>>,
    quiet_days_after_conversation: Option<Spanned<i64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCap {
    max: Spanned<i64>,
    per_days: Spanned<i64>,
}

/// A date written as a TOML date (2026-12-24) or a string ("2026-12-24").
#[derive(Deserialize)]
#[serde(untagged)]
enum DateLike {
    Date(toml::value::Datetime),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffers {
    max_discount_percent: Spanned<i64>,
    max_installments: Spanned<i64>,
    min_installment: Spanned<String>,
    /// For debts in another currency than the policy's, by its code.
    #[serde(default)]
    min_installment_in: BTreeMap<String, Spanned<String>>,
    max_promise_days: Spanned<i64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQueue {
    id: Spanned<String>,
    name: Name,
    days_past_due: Option<Spanned<[i64; 2]>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScripts {
    #[serde(default)]
    point: Vec<RawPoint>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPoint {
    situation: Spanned<OneOrMany>,
    stage: Spanned<String>,
    title: RawText,
    text: RawText,
}

/// One name, or a list of them.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn names(&self) -> Vec<&str> {
        match self {
            OneOrMany::One(name) => vec![name],
            OneOrMany::Many(names) => names.iter().map(String::as_str).collect(),
        }
    }
}

/// A queue's, step's or rule's name: one for every locale, or one each.
#[derive(Deserialize)]
#[serde(untagged, expecting = "a name, or name.pt-BR and name.en")]
enum Name {
    One(String),
    ByLocale(Names),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Names {
    #[serde(rename = "pt-BR")]
    pt_br: String,
    en: String,
}

impl Name {
    fn by_locale(&self) -> [String; 2] {
        match self {
            Name::One(name) => [name.clone(), name.clone()],
            Name::ByLocale(n) => [n.pt_br.clone(), n.en.clone()],
        }
    }
}

/// A text in every locale, in the order of `scripts::LOCALES`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawText {
    #[serde(rename = "pt-BR")]
    pt_br: Spanned<String>,
    en: Spanned<String>,
}

impl RawText {
    fn by_locale(&self) -> [&Spanned<String>; 2] {
        [&self.pt_br, &self.en]
    }
}

/// Collects mistakes with their position, to report them all at once.
struct Report<'a> {
    file: &'a str,
    text: &'a str,
    errors: Vec<PolicyError>,
}

impl Report<'_> {
    fn at(&self, span: Range<usize>) -> (usize, usize) {
        let start = span.start.min(self.text.len());
        let before = &self.text[..start];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    fn error(&mut self, span: Range<usize>, key: impl Into<String>, message: impl Into<String>) {
        let (line, column) = self.at(span);
        self.error_at(line, column, key, message);
    }

    fn error_at(
        &mut self,
        line: usize,
        column: usize,
        key: impl Into<String>,
        message: impl Into<String>,
    ) {
        self.errors.push(PolicyError {
            file: self.file.to_string(),
            line,
            column,
            key: key.into(),
            message: message.into(),
        });
    }

    /// An integer within `range`, or an error naming the key.
    fn int(
        &mut self,
        value: &Spanned<i64>,
        key: &str,
        range: std::ops::RangeInclusive<i64>,
    ) -> i64 {
        let v = *value.get_ref();
        if !range.contains(&v) {
            let message = if v < 0 && *range.start() >= 0 {
                format!(
                    "{v} is negative; it must be from {} to {}",
                    range.start(),
                    range.end()
                )
            } else {
                format!(
                    "{v} is out of range; it must be from {} to {}",
                    range.start(),
                    range.end()
                )
            };
            self.error(value.span(), key, message);
        }
        v.clamp(*range.start(), *range.end())
    }

    fn queue(&mut self, queues: &[Queue], id: &Spanned<String>, key: &str) -> QueueIdx {
        match queues.iter().position(|q| &q.id == id.get_ref()) {
            Some(i) => i as QueueIdx,
            None => {
                let known: Vec<&str> = queues.iter().map(|q| q.id.as_str()).collect();
                self.error(
                    id.span(),
                    key,
                    format!("no queue '{}' (queues: {})", id.get_ref(), known.join(", ")),
                );
                0
            }
        }
    }
}

/// The key an error at `span` is about, read from the line it points into.
fn key_at(text: &str, span: Option<Range<usize>>) -> String {
    let Some(span) = span else {
        return "(file)".into();
    };
    let start = span.start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let line = text[line_start..].lines().next().unwrap_or("").trim();
    // A table missing altogether has no line of its own: the span is the
    // whole file, whose first line may be blank or a comment.
    if line.is_empty() || line.starts_with('#') {
        return "(file)".into();
    }
    if line.starts_with('[') {
        return line
            .trim_matches(|c| c == '[' || c == ']')
            .trim()
            .to_string();
    }
    let key = match line.split_once('=') {
        Some((key, _)) => key.trim().to_string(),
        None => return line.chars().take(40).collect(),
    };
    // Name the key by its full path, as the engine's own checks do:
    // `step[3].channel`, `compliance.calls.preset`.
    match table_path(&text[..line_start]) {
        Some(table) => format!("{table}.{key}"),
        None => key,
    }
}

/// The table the text just before a key is in: `step[2]` for the third
/// `[[step]]`, `rules.promise` for `[rules.promise]`.
fn table_path(before: &str) -> Option<String> {
    let header = before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))?;
    if let Some(name) = header.strip_prefix("[[").and_then(|h| h.split("]]").next()) {
        let name = name.trim();
        let marker = format!("[[{name}]]");
        let index = before
            .lines()
            .filter(|l| l.trim().starts_with(&marker))
            .count()
            .saturating_sub(1);
        Some(format!("{name}[{index}]"))
    } else {
        header
            .strip_prefix('[')
            .and_then(|h| h.split(']').next())
            .map(|h| h.trim().to_string())
    }
}

fn parse_hours(text: &str) -> Result<Option<Hours>, String> {
    if text.trim() == "closed" {
        return Ok(None);
    }
    let bad = || format!("'{text}' is not hours like \"08:00-20:00\" nor \"closed\"");
    let (open, close) = text.split_once('-').ok_or_else(bad)?;
    let minutes = |t: &str| -> Result<u16, String> {
        let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
        let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if h > 24 || m > 59 || (h == 24 && m > 0) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    };
    let (open, close) = (minutes(open)?, minutes(close)?);
    if open >= close {
        return Err(format!("'{text}' opens at or after it closes"));
    }
    Ok(Some(Hours { open, close }))
}

/// Parses and checks a policy; `file` names it in errors.
pub fn load(file: &str, text: &str) -> Result<Policy, Vec<PolicyError>> {
    let mut r = Report {
        file,
        text,
        errors: Vec::new(),
    };
    let raw: RawPolicy = match toml::from_str(text) {
        Ok(raw) => raw,
        Err(first) => {
            // serde's first mistake stays, should the part-by-part read
            // miss it.
            let mut all = shape::mistakes(text);
            let first = shape::shape(&first);
            if !all.contains(&first) {
                all.push(first);
            }
            all.sort_by_key(|(at, _)| at.as_ref().map_or(0, |at| at.start));
            for (span, message) in all {
                let (line, column) = r.at(span.clone().unwrap_or(0..0));
                r.error_at(line, column, key_at(text, span), message);
            }
            return Err(r.errors);
        }
    };

    let currency = Currency::new(raw.policy.currency.get_ref()).unwrap_or_else(|e| {
        r.error(raw.policy.currency.span(), "policy.currency", e.to_string());
        Currency::BRL
    });
    let business_time_zone = raw
        .policy
        .business_time_zone
        .get_ref()
        .parse::<Tz>()
        .unwrap_or_else(|_| {
            r.error(
                raw.policy.business_time_zone.span(),
                "policy.business_time_zone",
                format!(
                    "'{}' is not an IANA time zone (like America/Sao_Paulo)",
                    raw.policy.business_time_zone.get_ref()
                ),
            );
            Tz::UTC
        });
    let money = |r: &mut Report, value: &Spanned<String>, key: &str| -> Money {
        match Money::parse(value.get_ref(), currency) {
            Ok(m) if m.minor >= 0 => m,
            Ok(_) => {
                r.error(
                    value.span(),
                    key,
                    format!("'{}' is negative", value.get_ref()),
                );
                Money::zero(currency)
            }
            Err(e) => {
                r.error(value.span(), key, e.to_string());
                Money::zero(currency)
            }
        }
    };

    // Queues first: rules refer to them.
    let mut queues: Vec<Queue> = Vec::new();
    for (i, q) in raw.queue.iter().enumerate() {
        let key = format!("queue[{i}]");
        if queues.iter().any(|other| &other.id == q.id.get_ref()) {
            r.error(
                q.id.span(),
                format!("{key}.id"),
                format!("queue '{}' is defined twice", q.id.get_ref()),
            );
        }
        let range = q.days_past_due.as_ref().map(|d| {
            let [lo, hi] = *d.get_ref();
            if lo > hi {
                r.error(
                    d.span(),
                    format!("{key}.days_past_due"),
                    format!("[{lo}, {hi}] starts after it ends"),
                );
            }
            for other in &queues {
                if let Some((olo, ohi)) = other.days_past_due
                    && lo <= ohi as i64
                    && olo as i64 <= hi
                {
                    r.error(
                        d.span(),
                        format!("{key}.days_past_due"),
                        format!("[{lo}, {hi}] overlaps queue '{}' [{olo}, {ohi}]", other.id),
                    );
                }
            }
            (
                lo.clamp(-36500, 36500) as i32,
                hi.clamp(-36500, 36500) as i32,
            )
        });
        queues.push(Queue {
            id: q.id.get_ref().clone(),
            names: q.name.by_locale(),
            days_past_due: range,
        });
    }
    if queues.is_empty() {
        r.error(0..0, "queue", "a policy needs at least one [[queue]]");
        queues.push(Queue {
            id: String::new(),
            names: Default::default(),
            days_past_due: None,
        });
    }

    let mut steps: Vec<Step> = Vec::new();
    for (i, s) in raw.step.iter().enumerate() {
        let key = format!("step[{i}]");
        let day = r.int(&s.day, &format!("{key}.day"), -365..=3650) as i32;
        if steps.iter().any(|o| &o.id == s.id.get_ref()) {
            r.error(
                s.id.span(),
                format!("{key}.id"),
                format!("step '{}' is defined twice", s.id.get_ref()),
            );
        }
        let overlapping = steps.iter().find(|o| {
            o.day == day
                && o.channel == s.channel
                && (o.segments.is_empty()
                    || s.segment.is_empty()
                    || o.segments.iter().any(|g| s.segment.contains(g)))
        });
        if let Some(o) = overlapping {
            r.error(
                s.day.span(),
                format!("{key}.day"),
                format!(
                    "overlaps step '{}': both {} on day {day} for the same debtors",
                    o.id, s.channel
                ),
            );
        }
        // A listing with a credit bureau or a step towards court is for a
        // debt in default (after its due date), and waits while a promise
        // to pay is open.
        let grave = matches!(s.channel, Channel::Bureau | Channel::Legal);
        let firmness = *s.firmness.get_ref();
        if (grave || firmness == Firmness::Legal) && day < 1 {
            r.error(
                s.day.span(),
                format!("{key}.day"),
                format!(
                    "a {} step that is {} must come after the due date (day 1 or later), not on day {day}",
                    s.channel, firmness
                ),
            );
        }
        if grave && firmness < raw.rules.promise.pauses_from {
            r.error(
                s.firmness.span(),
                format!("{key}.firmness"),
                format!(
                    "a {} step must be at least as firm as rules.promise.pauses_from ({}), so that a promise to pay holds it; it is {}",
                    s.channel, raw.rules.promise.pauses_from, firmness
                ),
            );
        }
        let min_balance = s
            .min_balance
            .as_ref()
            .map(|m| money(&mut r, m, &format!("{key}.min_balance")));
        steps.push(Step {
            id: s.id.get_ref().clone(),
            names: s.name.as_ref().map(Name::by_locale),
            day,
            channel: s.channel,
            firmness,
            template: s.template.clone(),
            segments: s.segment.clone(),
            min_balance,
            expires_after_days: s
                .expires_after_days
                .as_ref()
                .map(|d| r.int(d, &format!("{key}.expires_after_days"), 1..=3650) as u32),
            after: None,
        });
    }
    steps.sort_by_key(|s| s.day);
    // By place once the steps are in order of day.
    for (i, s) in raw.step.iter().enumerate() {
        let Some(after) = &s.after else { continue };
        let key = format!("step[{i}].after");
        let days = r.int(&after.days, &format!("{key}.days"), 0..=365) as u32;
        let this = steps.iter().position(|o| &o.id == s.id.get_ref());
        let prior = steps.iter().position(|o| &o.id == after.step.get_ref());
        match (this, prior) {
            (_, None) => r.error(
                after.step.span(),
                format!("{key}.step"),
                format!("no step '{}'", after.step.get_ref()),
            ),
            (Some(this), Some(prior)) if steps[prior].day >= steps[this].day => r.error(
                after.step.span(),
                format!("{key}.step"),
                format!(
                    "step '{}' is on day {}, not before this one (day {})",
                    after.step.get_ref(),
                    steps[prior].day,
                    steps[this].day
                ),
            ),
            (Some(this), Some(prior)) => steps[this].after = Some(After { step: prior, days }),
            (None, Some(_)) => {}
        }
    }

    let p = &raw.rules.promise;
    let grace_days = r.int(&p.grace_days, "rules.promise.grace_days", 0..=60) as u16;
    let encourage = match (
        &p.encourage_days_before,
        &p.encourage_channel,
        &p.encourage_template,
    ) {
        (None, None, None) => None,
        (Some(days), Some(channel), Some(template)) => Some(Encouragement {
            days_before: r.int(days, "rules.promise.encourage_days_before", 1..=30) as u16,
            channel: *channel.get_ref(),
            template: template.get_ref().clone(),
        }),
        (days, channel, template) => {
            // Point at the one that is there.
            let span = days
                .as_ref()
                .map(|d| d.span())
                .or_else(|| channel.as_ref().map(|c| c.span()))
                .or_else(|| template.as_ref().map(|t| t.span()))
                .unwrap_or_else(|| p.grace_days.span());
            r.error(
                span,
                "rules.promise",
                "encourage_days_before, encourage_channel and encourage_template go together: give all three or none",
            );
            None
        }
    };

    let promise = PromiseRule {
        pauses_from: p.pauses_from,
        grace_days,
        encourage,
    };
    let b = &raw.rules.broken_promise;
    let broken_promise = BrokenPromiseRule {
        queue: r.queue(&queues, &b.queue, "rules.broken_promise.queue"),
        firmness: b.firmness,
        template: b.template.clone(),
    };
    let callback_queue = r.queue(&queues, &raw.rules.callback.queue, "rules.callback.queue");
    let callback_max_days = match &raw.rules.callback.max_days {
        Some(days) => r.int(days, "rules.callback.max_days", 1..=365) as u32,
        None => DEFAULT_CALLBACK_MAX_DAYS,
    };
    let stop = &raw.rules.stop;
    let stop_queues = StopQueues {
        dispute: r.queue(&queues, &stop.dispute, "rules.stop.dispute"),
        cease_contact: r.queue(&queues, &stop.cease_contact, "rules.stop.cease_contact"),
        deceased: r.queue(&queues, &stop.deceased, "rules.stop.deceased"),
    };

    let mut engagement = Vec::new();
    for (i, e) in raw.rules.engagement.iter().enumerate() {
        let key = format!("rules.engagement[{i}]");
        if e.when.get_ref() != "message_opened" {
            r.error(
                e.when.span(),
                format!("{key}.when"),
                format!(
                    "unknown trigger '{}' (known: message_opened)",
                    e.when.get_ref()
                ),
            );
        }
        let channel = *e.channel.get_ref();
        if e.opened_on == Some(channel) {
            r.error(
                e.channel.span(),
                format!("{key}.channel"),
                format!("follows up on the channel it watches ({channel}): choose another"),
            );
        }
        if channel == Channel::Call {
            r.error(
                e.channel.span(),
                format!("{key}.channel"),
                "engagement rules send messages; calls come from steps",
            );
        }
        engagement.push(EngagementRule {
            id: e.id.get_ref().clone(),
            names: e.name.as_ref().map(Name::by_locale),
            opened_on: e.opened_on,
            no_payment_within_hours: r.int(
                &e.no_payment_within_hours,
                &format!("{key}.no_payment_within_hours"),
                1..=24 * 90,
            ) as u32,
            channel,
            firmness: e.firmness,
            template: e.template.clone(),
        });
    }

    let compliance = compliance(&mut r, &raw.compliance);

    let o = &raw.offers;
    let offers = Offers {
        max_discount_percent: r.int(
            &o.max_discount_percent,
            "offers.max_discount_percent",
            0..=100,
        ) as u32,
        max_installments: r.int(&o.max_installments, "offers.max_installments", 1..=360) as u32,
        min_installment: money(&mut r, &o.min_installment, "offers.min_installment"),
        min_installment_in: o
            .min_installment_in
            .iter()
            .filter_map(|(code, value)| {
                let key = format!("offers.min_installment_in.{code}");
                let currency = match Currency::new(code) {
                    Ok(c) => c,
                    Err(e) => {
                        r.error(value.span(), &key, e.to_string());
                        return None;
                    }
                };
                match Money::parse(value.get_ref(), currency) {
                    Ok(m) if m.minor >= 0 => Some(m),
                    Ok(_) => {
                        r.error(
                            value.span(),
                            &key,
                            format!("'{}' is negative", value.get_ref()),
                        );
                        None
                    }
                    Err(e) => {
                        r.error(value.span(), &key, e.to_string());
                        None
                    }
                }
            })
            .collect(),
        max_promise_days: r.int(&o.max_promise_days, "offers.max_promise_days", 0..=365) as u32,
    };

    let talking_points = match &raw.scripts {
        Some(scripts) => talking_points(&mut r, scripts),
        None => Some(built_in_points().1.clone()),
    };

    if !r.errors.is_empty() {
        r.errors.sort_by_key(|e| (e.line, e.column));
        return Err(r.errors);
    }
    Ok(Policy {
        name: raw.policy.name,
        currency,
        business_time_zone,
        steps,
        promise,
        broken_promise,
        callback_queue,
        callback_max_days,
        stop_queues,
        engagement,
        compliance,
        offers,
        queues,
        talking_points: talking_points.expect("no errors, so the points compiled"),
    })
}

/// Compiles `[[scripts.point]]`, placing each problem in the file: a
/// mistake inside a template at its own line and column.
fn talking_points(r: &mut Report, scripts: &Spanned<RawScripts>) -> Option<TalkingPoints> {
    let points = &scripts.get_ref().point;
    let sources = sources(points);
    let (built_in_key, built_in) = built_in_points();
    if sources_key(&sources) == *built_in_key {
        return Some(built_in.clone());
    }
    let problems = match TalkingPoints::compile(&sources) {
        Ok(compiled) => return Some(compiled),
        Err(problems) => problems,
    };
    for problem in problems {
        match problem {
            Problem::Point {
                point,
                part,
                at,
                message,
            } => {
                let p = &points[point];
                let key = format!("scripts.point[{point}].{part}");
                let value = match part {
                    Part::Situation => {
                        r.error(p.situation.span(), key, message);
                        continue;
                    }
                    Part::Stage => &p.stage,
                    Part::Title(l) => p.title.by_locale()[locale_index(l)],
                    Part::Text(l) => p.text.by_locale()[locale_index(l)],
                };
                match at.and_then(|at| in_file(r, value, at)) {
                    Some((line, column)) => r.error_at(line, column, key, message),
                    None => r.error(value.span(), key, message),
                }
            }
            Problem::Missing(situations) => {
                let names: Vec<&str> = situations.iter().map(|s| s.name()).collect();
                r.error(
                    scripts.span(),
                    "scripts",
                    format!(
                        "no talking points for {}: every situation needs at least one \
                         (leave [scripts] out for the built-in points)",
                        names.join(", ")
                    ),
                );
            }
        }
    }
    None
}

fn sources(points: &[RawPoint]) -> Vec<Source<'_>> {
    points
        .iter()
        .map(|p| Source {
            situations: p.situation.get_ref().names(),
            stage: p.stage.get_ref(),
            title: p.title.by_locale().map(|t| t.get_ref().as_str()),
            text: p.text.by_locale().map(|t| t.get_ref().as_str()),
        })
        .collect()
}

/// Every word of a set of points, to tell one set from another.
fn sources_key(sources: &[Source]) -> String {
    let mut key = String::new();
    for s in sources {
        for part in s
            .situations
            .iter()
            .chain([&s.stage])
            .chain(&s.title)
            .chain(&s.text)
        {
            key.push_str(part);
            key.push('\0');
        }
        key.push('\u{1}');
    }
    key
}

fn locale_index(locale: crate::domain::Locale) -> usize {
    crate::scripts::LOCALES
        .iter()
        .position(|&l| l == locale)
        .unwrap_or(0)
}

/// The file position of line and column `at` of a template, when the
/// template stands in the file as written (no escapes in it).
fn in_file(r: &Report, value: &Spanned<String>, at: (usize, usize)) -> Option<(usize, usize)> {
    let span = value.span();
    let raw = r.text.get(span.clone())?;
    let quote = ["\"\"\"", "'''", "\"", "'"]
        .into_iter()
        .find(|q| raw.starts_with(q))?;
    let inner = raw.get(quote.len()..raw.len().checked_sub(quote.len())?)?;
    // TOML drops a newline right after the opening quotes.
    let (inner, skipped) = match inner.strip_prefix('\n') {
        Some(rest) if quote.len() == 3 => (rest, 1),
        _ => (inner, 0),
    };
    if inner != value.get_ref() {
        return None;
    }
    let (start_line, start_column) = r.at(span);
    let (line, column) = at;
    Some(if line == 1 && skipped == 0 {
        (start_line, start_column + quote.len() + column - 1)
    } else {
        (start_line + skipped + line - 1, column)
    })
}

fn compliance(r: &mut Report, raw: &RawCompliance) -> Compliance {
    let mut c = Compliance {
        do_not_contact_tags: raw.do_not_contact_tags.clone(),
        ..Compliance::default()
    };

    for (name, w) in &raw.windows {
        let key = format!("compliance.windows.{}", name.get_ref());
        let Ok(j) = name.get_ref().parse::<Jurisdiction>() else {
            r.error(
                name.span(),
                &key,
                format!(
                    "'{}' is not a Brazilian UF (like SP) nor a US state (like US-CA)",
                    name.get_ref()
                ),
            );
            continue;
        };
        let mut hours = |value: &Spanned<String>, field: &str| {
            parse_hours(value.get_ref()).unwrap_or_else(|e| {
                r.error(value.span(), format!("{key}.{field}"), e);
                None
            })
        };
        let window = CallWindow {
            authority: w
                .authority
                .clone()
                .unwrap_or_else(|| format!("{} (this policy)", name.get_ref()))
                .into(),
            weekdays: hours(&w.weekdays, "weekdays"),
            saturday: hours(&w.saturday, "saturday"),
            sunday: hours(&w.sunday, "sunday"),
            closed_on_holidays: w.closed_on_holidays,
        };
        if let Some(law) = windows::statute(j) {
            for (field, why) in window.wider_than(&law) {
                let span = match field {
                    "weekdays" => w.weekdays.span(),
                    "saturday" => w.saturday.span(),
                    "sunday" => w.sunday.span(),
                    _ => name.span(),
                };
                r.error(span, format!("{key}.{field}"), why);
            }
        }
        c.windows[j.index()] = window;
    }

    c.calls = match &raw.calls {
        None => Some(CallCaps::REG_F),
        Some(spanned) => {
            let calls = spanned.get_ref();
            let fields = [
                &calls.max_attempts,
                &calls.per_days,
                &calls.quiet_days_after_conversation,
            ];
            match &calls.preset {
                Some(preset) if fields.iter().any(|f| f.is_some()) => {
                    r.error(
                        preset.span(),
                        "compliance.calls.preset",
                        "give a preset or your own caps, not both",
                    );
                    None
                }
                Some(preset) => match preset.get_ref().as_str() {
                    "reg-f" => Some(CallCaps::REG_F),
                    "none" => None,
                    other => {
                        r.error(
                            preset.span(),
                            "compliance.calls.preset",
                            format!("unknown preset '{other}' (known: reg-f, none)"),
                        );
                        None
                    }
                },
                None => match fields {
                    [Some(max), Some(per), quiet] => Some(CallCaps {
                        max_attempts: r.int(max, "compliance.calls.max_attempts", 1..=1000) as u32,
                        per_days: r.int(per, "compliance.calls.per_days", 1..=365) as u32,
                        quiet_days_after_conversation: quiet.as_ref().map_or(0, |q| {
                            r.int(q, "compliance.calls.quiet_days_after_conversation", 0..=365)
                                as u32
                        }),
                    }),
                    _ => {
                        r.error(
                            spanned.span(),
                            "compliance.calls",
                            "give preset, or both max_attempts and per_days",
                        );
                        None
                    }
                },
            }
        }
    };

    for (channel, cap) in &raw.messages {
        let ch = *channel.get_ref();
        let key = format!("compliance.messages.{ch}");
        if ch == Channel::Call {
            r.error(
                channel.span(),
                &key,
                "calls are capped under [compliance.calls]",
            );
            continue;
        }
        c.messages[ch as usize] = Some(MessageCap {
            max: r.int(&cap.max, &format!("{key}.max"), 1..=1000) as u32,
            per_days: r.int(&cap.per_days, &format!("{key}.per_days"), 1..=365) as u32,
        });
    }

    let mut all = Vec::new();
    let mut by = Vec::new();
    for (name, dates) in &raw.holidays {
        let key = format!("compliance.holidays.{}", name.get_ref());
        let mut parsed = Vec::new();
        for d in dates {
            let text = match d.get_ref() {
                DateLike::Date(dt) => dt.to_string(),
                DateLike::Text(t) => t.clone(),
            };
            match NaiveDate::parse_from_str(&text, "%Y-%m-%d") {
                Ok(date) => parsed.push(date),
                Err(_) => r.error(
                    d.span(),
                    &key,
                    format!("'{text}' is not a date like 2026-12-24"),
                ),
            }
        }
        if name.get_ref() == "all" {
            all.extend(parsed);
        } else {
            match name.get_ref().parse::<Jurisdiction>() {
                Ok(j) => by.push((j, parsed)),
                Err(e) => r.error(name.span(), &key, format!("{e}, nor 'all'")),
            }
        }
    }
    c.extra_holidays = ExtraHolidays::new(all, by);
    c
}

mod shape;
#[cfg(test)]
mod tests;
