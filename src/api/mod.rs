//! The wire: request and response bodies and the error body, shared by the
//! server and its clients so the two cannot drift. Field names are
//! DESIGN.md's contract.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, KnownFormat, ObjectBuilder, Schema, SchemaFormat, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::domain::{Debtor, Disposition, Event, PhoneKind, Reason, Role};

/// Every 4xx and 5xx: `{"error": {"code", "message", "field"?}}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// More, where one field is not enough (every bad row of an import).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub details: Option<serde_json::Value>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportResponse {
    pub debtors: u64,
    pub created: u64,
    pub updated: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

/// Longest pause reason kept (bytes): the server refuses longer, and the
/// console and board stop typing there.
pub const MAX_REASON: usize = 200;

/// The header an outcome sent late carries: how many seconds before it was
/// sent it was recorded, counted on the sender's own clock (a difference
/// of two readings of one clock, whatever that clock says the time is).
/// The server dates the outcome that long before its own now. A header,
/// not a field: the body a retry repeats stays the same, and a server that
/// does not know it records the outcome as it always did.
pub const RECORDED_AGO: &str = "Regua-Recorded-Ago";

/// What an agent is doing now, as they (or a supervisor) last said.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentState {
    Ready,
    OnCall,
    WrapUp,
    Paused,
}

impl AgentState {
    pub fn name(self) -> &'static str {
        match self {
            AgentState::Ready => "ready",
            AgentState::OnCall => "on_call",
            AgentState::WrapUp => "wrap_up",
            AgentState::Paused => "paused",
        }
    }

    pub fn parse(name: &str) -> Option<AgentState> {
        [
            AgentState::Ready,
            AgentState::OnCall,
            AgentState::WrapUp,
            AgentState::Paused,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// `PUT /v1/me/state` and `PUT /v1/agents/{id}/state`: a pause needs its
/// reason; no other state takes one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StateRequest {
    pub state: AgentState,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgentStateView {
    pub state: AgentState,
    pub reason: Option<String>,
    /// When this state began.
    pub since: DateTime<Utc>,
}

/// `GET /v1/me`: who you are and what you are doing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MeView {
    pub id: i64,
    pub name: String,
    pub role: Role,
    pub state: AgentState,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct LoginResponse {
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: UserView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueView {
    pub id: String,
    pub name: String,
    /// Debtors waiting for a call.
    pub depth: i64,
    /// Of those, how many may be called now and nobody holds.
    pub callable: i64,
    pub leased: i64,
    /// Since when the longest-waiting of the callable ones has been in the
    /// queue (`null`: none is).
    pub oldest_since: Option<DateTime<Utc>>,
    /// Debtors who may not be called now, by the rule that blocks them.
    #[serde(default)]
    pub blocked: std::collections::BTreeMap<String, i64>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseView {
    pub id: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PhoneView {
    pub number: String,
    pub kind: PhoneKind,
    pub consent: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DebtView {
    pub id: i64,
    pub creditor: String,
    pub currency: String,
    pub original_minor: i64,
    pub balance_minor: i64,
    pub interest_and_fees_minor: i64,
    pub due_date: NaiveDate,
}

/// A search hit: enough to pick the right debtor, the document masked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DebtorSummary {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub document: String,
}

/// A debtor as the wire shows them: the document masked unless asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct DebtorView {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub document: String,
    pub document_revealed: bool,
    pub phones: Vec<PhoneView>,
    pub email: Option<String>,
    pub jurisdiction: String,
    pub time_zone: String,
    pub segment: String,
    pub tags: Vec<String>,
    pub debts: Vec<DebtView>,
}

impl DebtorView {
    pub fn of(d: &Debtor, reveal: bool) -> DebtorView {
        DebtorView {
            id: d.id,
            external_id: d.external_id.clone(),
            name: d.name.clone(),
            document: if reveal {
                d.document.to_string()
            } else {
                d.document.masked()
            },
            document_revealed: reveal,
            phones: d
                .phones
                .iter()
                .map(|p| PhoneView {
                    number: p.number.clone(),
                    kind: p.kind,
                    consent: p.consent,
                })
                .collect(),
            email: d.email.clone(),
            jurisdiction: d.jurisdiction.to_string(),
            time_zone: d.time_zone.to_string(),
            segment: d.segment.clone(),
            tags: d.tags.clone(),
            debts: d
                .debts
                .iter()
                .map(|debt| DebtView {
                    id: debt.id,
                    creditor: debt.creditor.clone(),
                    currency: debt.balance.currency.code().to_string(),
                    original_minor: debt.original.minor,
                    balance_minor: debt.balance.minor,
                    interest_and_fees_minor: debt.interest_and_fees.minor,
                    due_date: debt.due_date,
                })
                .collect(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct LeaseResponse {
    pub lease: LeaseView,
    pub debtor: DebtorView,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PromiseRequest {
    pub amount_minor: i64,
    pub due_date: NaiveDate,
    /// A settlement: paying `amount_minor` by the date settles the debt,
    /// the rest forgiven (at least the offers' `pay_in_full_minor`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub settles: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    pub installments: u32,
    pub first_date: NaiveDate,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeRequest {
    pub disposition: Disposition,
    #[serde(default)]
    pub reason: Option<Reason>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub promise: Option<PromiseRequest>,
    #[serde(default)]
    pub plan: Option<PlanRequest>,
    #[serde(default)]
    pub callback_at: Option<DateTime<Utc>>,
}

impl OutcomeRequest {
    /// The disposition alone: no reason, note, promise, plan or callback.
    pub fn of(disposition: Disposition) -> OutcomeRequest {
        OutcomeRequest {
            disposition,
            reason: None,
            note: None,
            promise: None,
            plan: None,
            callback_at: None,
        }
    }
}

/// `POST /v1/debtors/{id}/calls`: the number about to be dialed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CallRequest {
    pub phone: String,
}

/// A call the server allowed: its attempt counts against the caps from now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CallResponse {
    pub attempt_id: i64,
    pub debtor_id: i64,
    pub started_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OutcomeResponse {
    pub id: i64,
    pub debtor_id: i64,
    pub disposition: Disposition,
    pub recorded_at: DateTime<Utc>,
    /// The queue the debtor is in after the re-plan, if any.
    pub queue: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanLine {
    pub at: Option<DateTime<Utc>>,
    pub channel: String,
    pub firmness: String,
    pub why: String,
}

/// What the régua will do next with a debtor, and what is blocked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PlanView {
    pub state: String,
    pub queue: Option<String>,
    pub callable_now: bool,
    pub days_past_due: i32,
    pub priority: i32,
    pub actions: Vec<PlanLine>,
    pub blocked: Vec<PlanLine>,
    /// Every line in words: the state, the queue, each action, each
    /// blocked one, the priority.
    pub explanation: Vec<String>,
    /// The state, the queue and the priority in words: the explanation
    /// without the lines that say each action and block, for a screen that
    /// lists those itself (the console's plan panel).
    #[serde(default)]
    pub summary: Vec<String>,
    /// The debtor's call window over the next 14 days, each opening with
    /// its close: the console checks a callback time against it before
    /// the outcome leaves the desk (the server checks again, caps too).
    #[serde(default)]
    pub call_hours: Vec<Opening>,
    /// The latest a callback may be set for now (the policy's
    /// `rules.callback.max_days` ahead); `None` from a server before it.
    #[serde(default)]
    pub latest_callback: Option<DateTime<Utc>>,
}

/// When the debtor's call window opens, and when it shuts again.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Opening {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequest {
    pub debtor_id: i64,
    pub amount_minor: i64,
    /// When it was paid (now when absent).
    #[serde(default)]
    pub paid_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PaymentResponse {
    pub id: i64,
    pub debtor_id: i64,
    pub amount_minor: i64,
    /// What is still owed after it.
    pub balance_minor: i64,
    /// What it forgave, when it kept a settlement.
    #[serde(default)]
    pub forgiven_minor: i64,
    pub queue: Option<String>,
}

/// The talking points for a call: the debtor's situation, its points in
/// order, and what the agent may offer (none where nothing is collected).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ScriptView {
    pub situation: String,
    pub points: Vec<TalkingPointView>,
    pub offers: Option<OffersView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TalkingPointView {
    /// `opening`, `why`, `options` or `closing`.
    pub stage: String,
    pub title: String,
    pub text: String,
}

/// What the policy lets an agent offer this debtor today.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct OffersView {
    pub balance_minor: i64,
    pub currency: String,
    /// The balance less the most discount allowed, for payment in full.
    pub pay_in_full_minor: i64,
    pub max_discount_minor: i64,
    /// The most installments, none under the minimum installment.
    pub max_installments: u32,
    pub min_installment_minor: i64,
    pub latest_promise_date: NaiveDate,
}

/// One item of the event feed, as the live stream and the board show it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct FeedView {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub kind: String,
    pub debtor_id: Option<i64>,
    pub user_id: Option<i64>,
    pub body: serde_json::Value,
}

/// `GET /v1/board`: what a supervisor's board starts from; the live
/// stream brings what changes after `generated_at`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BoardView {
    pub generated_at: DateTime<Utc>,
    /// What the money figures are in: the policy's currency (empty from a
    /// server older than the field; the board then keeps its own).
    #[serde(default)]
    pub currency: String,
    pub queues: Vec<BoardQueue>,
    pub agents: Vec<BoardAgent>,
    pub today: Today,
    /// The newest feed items a ticker shows (`TICKER_KINDS`) and the
    /// leases taken that name their debtors, oldest first.
    pub recent: Vec<FeedView>,
    /// The newest feed item the snapshot counts, whatever its kind: the
    /// stream's items up to it are in the figures already (0 from a server
    /// older than the field; the board then takes `recent`'s newest).
    #[serde(default)]
    pub newest_id: i64,
}

/// Whether the money an event's body tells of (`amount_minor`,
/// `promised_minor`) is in `currency`, so that a board adds it up: its
/// `currency`, where the event names one (older ones do not, and were).
pub fn money_in(body: &serde_json::Value, currency: crate::domain::Currency) -> bool {
    body["currency"]
        .as_str()
        .is_none_or(|code| code == currency.code())
}

/// Of a `promise_kept`: the queue it had been counted broken in on `day`,
/// where it was (made in time, reported after it was counted broken).
pub fn unbroken_on(body: &serde_json::Value, day: chrono::NaiveDate) -> Option<&str> {
    let at: DateTime<Utc> = serde_json::from_value(body["unbroken"]["at"].clone()).ok()?;
    (at.date_naive() == day).then(|| body["unbroken"]["queue"].as_str())?
}

/// The kinds of event the board's ticker shows; the rest (agents' states,
/// calls starting, leases taken) move the tables instead, or the ticker
/// would scroll without pause on a busy floor.
pub const TICKER_KINDS: &[&str] = &[
    "outcome_recorded",
    "payment_received",
    "promise_kept",
    "promise_broken",
    "lease_released",
    "lease_expired",
];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoardQueue {
    pub id: String,
    pub name: String,
    pub depth: i64,
    pub callable: i64,
    /// Debtors who may not be called now, by the rule that blocks them.
    pub blocked: std::collections::BTreeMap<String, i64>,
    pub oldest_since: Option<DateTime<Utc>>,
    pub leased: i64,
}

/// An agent with a live session or a lease.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoardAgent {
    pub id: i64,
    pub name: String,
    pub state: AgentState,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
    pub lease: Option<BoardLease>,
    /// Their console holds the live stream open; `false` for one on the
    /// floor by a lease alone, who leaves it when the lease ends.
    #[serde(default = "yes")]
    pub present: bool,
    pub calls_today: i64,
    pub rpc_today: i64,
    pub promises_today: i64,
}

/// A board agent from a server before `present`: at their desk, as every
/// agent on its floor then was shown.
fn yes() -> bool {
    true
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoardLease {
    pub id: i64,
    pub debtor_id: i64,
    pub debtor_name: String,
    pub expires_at: DateTime<Utc>,
}

/// Today's figures. The day is the server's UTC day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Today {
    pub day: NaiveDate,
    /// By the queue the debtor was worked from.
    pub per_queue: std::collections::BTreeMap<String, Tally>,
    pub total: Tally,
    /// Hours 0 to 23 (UTC).
    pub hourly: Vec<HourTally>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Tally {
    pub promises_made: i64,
    pub promises_kept: i64,
    pub promises_broken: i64,
    pub promised_minor: i64,
    pub collected_minor: i64,
    /// Call attempts.
    pub contacts: i64,
    /// Of those, right-party contacts.
    pub rpc: i64,
    /// `rpc / contacts` (0 without contacts).
    pub rpc_rate: f64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HourTally {
    pub hour: u32,
    pub contacts: i64,
    pub promises: i64,
}

/// `GET /v1/queues/{id}/debtors`: one debtor waiting in a queue, and what
/// keeps them from being called when something does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QueueDebtor {
    pub debtor_id: i64,
    pub name: String,
    pub callable: bool,
    pub priority: i64,
    /// Since when they have been in this queue.
    pub waiting_since: Option<DateTime<Utc>>,
    /// The rule that blocks them now (`null` when callable).
    pub blocked_by: Option<String>,
    /// When the engine looks at them again (a window opens, a pause ends).
    pub review_at: Option<DateTime<Utc>>,
    /// The agent holding them, if anyone.
    pub leased_by: Option<i64>,
}

/// `GET /v1/agents/{id}/calls`: one call an agent placed today, with its
/// outcome once recorded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AgentCall {
    pub debtor_id: i64,
    pub debtor_name: String,
    pub started_at: DateTime<Utc>,
    pub queue: Option<String>,
    /// `null` while the call is open.
    pub disposition: Option<Disposition>,
    pub promised_minor: Option<i64>,
}

// The domain's own types on the wire, described here so the domain knows
// nothing of OpenAPI.

/// A string schema holding one of `values` (as serde writes them).
fn one_of<T: Serialize>(values: &[T]) -> RefOr<Schema> {
    let names = values.iter().map(|v| {
        serde_json::to_value(v)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .expect("a unit variant serializes as its name")
    });
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(names))
        .into()
}

impl PartialSchema for Role {
    fn schema() -> RefOr<Schema> {
        one_of(&[Role::Agent, Role::Supervisor, Role::Admin])
    }
}
impl ToSchema for Role {}

impl PartialSchema for PhoneKind {
    fn schema() -> RefOr<Schema> {
        one_of(&[PhoneKind::Mobile, PhoneKind::Landline, PhoneKind::Work])
    }
}
impl ToSchema for PhoneKind {}

impl PartialSchema for Disposition {
    fn schema() -> RefOr<Schema> {
        one_of(&Disposition::ALL)
    }
}
impl ToSchema for Disposition {}

impl PartialSchema for Reason {
    fn schema() -> RefOr<Schema> {
        one_of(&Reason::ALL)
    }
}
impl ToSchema for Reason {}

/// A history event: when, what kind (`contact`, `outcome`, `promise`,
/// `installment_plan`, `callback`, `payment`, `forgiven`, `message_opened`,
/// `flag`), and that kind's own fields beside them.
impl PartialSchema for Event {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .property(
                "at",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime))),
            )
            .required("at")
            .property("kind", ObjectBuilder::new().schema_type(Type::String))
            .required("kind")
            .additional_properties(Some(AdditionalProperties::FreeForm(true)))
            .into()
    }
}
impl ToSchema for Event {}
