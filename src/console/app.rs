//! The console's model and its one way to change: `update` takes a message
//! (a key, an answer from the server, a tick of the clock) and returns the
//! effects to run. It never waits on anything; the runner does the I/O and
//! sends the answers back as messages.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::action::Action;
use super::format::local_time;
use super::keymap::{Key, Keymap, Mode, Step};
use super::outbox_list::{Next, OutboxList, Unsent};
use super::outcome_form::OutcomeForm;
use super::scroll::{Follow, Scroll, rows};
use super::words::{self, words};
use crate::api::{
    DebtorSummary, DebtorView, LeaseResponse, LeaseView, OutcomeRequest, PlanView, QueueView,
    ScriptView,
};
use crate::client::ClientError;
use crate::client::outbox::Gist;
use crate::domain::{Currency, Disposition, Event, EventKind, Locale};

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Ready,
    OnCall,
    WrapUp,
    Paused,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentState {
    pub status: AgentStatus,
    pub reason: Option<String>,
    pub since: DateTime<Utc>,
}

/// Something the server has not answered yet, or could not.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum Remote<T> {
    #[default]
    Loading,
    Ready(T),
    Failed(String),
}

impl<T> Remote<T> {
    pub fn ready(&self) -> Option<&T> {
        match self {
            Remote::Ready(t) => Some(t),
            _ => None,
        }
    }

    fn loading(&self) -> bool {
        matches!(self, Remote::Loading)
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Panel {
    Script,
    Timeline,
    Plan,
}

impl Panel {
    const ORDER: [Panel; 3] = [Panel::Script, Panel::Timeline, Panel::Plan];

    fn step(self, forward: bool) -> Panel {
        let i = Panel::ORDER.iter().position(|p| *p == self).unwrap_or(0);
        let n = Panel::ORDER.len();
        Panel::ORDER[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }]
    }
}

/// Which events the timeline shows.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum TimelineFilter {
    All,
    Contacts,
    Outcomes,
    Promises,
    Payments,
    Messages,
}

impl TimelineFilter {
    const ORDER: [TimelineFilter; 6] = [
        TimelineFilter::All,
        TimelineFilter::Contacts,
        TimelineFilter::Outcomes,
        TimelineFilter::Promises,
        TimelineFilter::Payments,
        TimelineFilter::Messages,
    ];

    pub fn name(self, locale: Locale) -> &'static str {
        let (pt, en) = match self {
            TimelineFilter::All => ("tudo", "all"),
            TimelineFilter::Contacts => ("contatos", "contacts"),
            TimelineFilter::Outcomes => ("resultados", "outcomes"),
            TimelineFilter::Promises => ("promessas", "promises"),
            TimelineFilter::Payments => ("pagamentos", "payments"),
            TimelineFilter::Messages => ("mensagens", "messages"),
        };
        locale.pick(pt, en)
    }

    pub fn shows(self, e: &Event) -> bool {
        match (self, &e.kind) {
            (TimelineFilter::All, _) => true,
            (TimelineFilter::Contacts, EventKind::Contact { .. } | EventKind::Callback { .. }) => {
                true
            }
            (TimelineFilter::Outcomes, EventKind::Outcome { .. } | EventKind::Flag { .. }) => true,
            (
                TimelineFilter::Promises,
                EventKind::Promise { .. } | EventKind::InstallmentPlan { .. },
            ) => true,
            (TimelineFilter::Payments, EventKind::Payment { .. } | EventKind::Forgiven { .. }) => {
                true
            }
            (TimelineFilter::Messages, EventKind::MessageOpened { .. }) => true,
            (TimelineFilter::Messages, EventKind::Contact { channel, .. }) => {
                *channel != crate::domain::Channel::Call
            }
            _ => false,
        }
    }

    fn next(self) -> TimelineFilter {
        let i = TimelineFilter::ORDER
            .iter()
            .position(|f| *f == self)
            .unwrap_or(0);
        TimelineFilter::ORDER[(i + 1) % TimelineFilter::ORDER.len()]
    }
}

/// One debtor on screen: leased (to be worked) or opened from a search
/// (read only).
#[derive(Clone, Debug)]
pub struct Workspace {
    pub debtor_id: i64,
    pub lease: Option<LeaseView>,
    pub lease_lost: Option<String>,
    pub queue: Option<String>,
    pub debtor: Remote<DebtorView>,
    pub timeline: Remote<Vec<Event>>,
    pub plan: Remote<PlanView>,
    pub script: Remote<ScriptView>,
    pub panel: Panel,
    pub filter: TimelineFilter,
    /// Per panel (in `Panel::ORDER`).
    pub scroll: [Scroll; 3],
    pub calling: bool,
    /// The outcome recorded on this debtor, once it is.
    pub recorded: Option<crate::domain::Disposition>,
}

impl Workspace {
    fn new(debtor_id: i64, lease: Option<LeaseView>, queue: Option<String>) -> Workspace {
        Workspace {
            debtor_id,
            lease,
            lease_lost: None,
            queue,
            debtor: Remote::Loading,
            timeline: Remote::Loading,
            plan: Remote::Loading,
            script: Remote::Loading,
            panel: Panel::Script,
            filter: TimelineFilter::All,
            scroll: Default::default(),
            calling: false,
            recorded: None,
        }
    }

    /// Holding a lease with nothing recorded yet: the agent owes this
    /// debtor an outcome or a release before taking another.
    pub fn unfinished(&self) -> bool {
        self.lease.is_some() && self.recorded.is_none() && self.lease_lost.is_none()
    }

    pub fn scroll_mut(&mut self) -> &mut Scroll {
        let i = Panel::ORDER
            .iter()
            .position(|p| *p == self.panel)
            .unwrap_or(0);
        &mut self.scroll[i]
    }

    /// The debtor's time zone, once their record is here.
    pub fn zone(&self) -> Option<chrono_tz::Tz> {
        self.debtor.ready().and_then(|d| d.time_zone.parse().ok())
    }

    /// The debtor's today (UTC's until their zone is known): what dates
    /// typed as `+N` count from, and what a due date is before or after.
    pub fn today(&self, now: DateTime<Utc>) -> chrono::NaiveDate {
        match self.zone() {
            Some(z) => now.with_timezone(&z).date_naive(),
            None => now.date_naive(),
        }
    }

    pub fn scroll_of(&self, panel: Panel) -> &Scroll {
        let i = Panel::ORDER.iter().position(|p| *p == panel).unwrap_or(0);
        &self.scroll[i]
    }
}

/// The most debtors a search lists.
pub const SEARCH_LIMIT: u32 = 20;

#[derive(Clone, Debug, Default)]
pub struct Search {
    pub query: String,
    /// Answers to older queries are dropped: only the latest one counts.
    pub seq: u64,
    pub results: Remote<Vec<DebtorSummary>>,
    pub sel: usize,
    pub shown: Follow,
}

#[derive(Clone, Debug)]
pub enum Overlay {
    /// The keys of the screen it was opened on, and the form it was
    /// opened over, back when it closes.
    Help(Mode, Scroll, Option<Box<Overlay>>),
    Search(Search),
    Outcome(Box<OutcomeForm>),
    Pause(String),
    Outbox(OutboxList),
}

#[derive(Clone, Copy, PartialEq, Eq, Debug, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warn,
    Error,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxCount {
    pub waiting: usize,
    pub failed: usize,
    /// Kept for another user or server: not this session's to send.
    pub others: usize,
    pub last_error: Option<String>,
    /// The debtor whose outcome the server just refused, if that is the
    /// change.
    pub refused_debtor: Option<i64>,
}

/// What the runner must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    LoadQueues,
    Lease {
        queue: String,
    },
    Release {
        lease: i64,
    },
    /// The debtor, timeline, plan and talking points.
    LoadDebtor {
        id: i64,
        reveal: bool,
    },
    Search {
        query: String,
        seq: u64,
    },
    SetState {
        status: AgentStatus,
        reason: Option<String>,
    },
    Call {
        debtor_id: i64,
        phone: String,
        name: String,
    },
    Record {
        debtor_id: i64,
        request: OutcomeRequest,
        /// Kept with the write for the outbox screen.
        gist: Gist,
    },
    /// Run one of the agent's `[commands]`, its arguments filled.
    RunCommand {
        name: String,
        args: Vec<String>,
        background: bool,
    },
    /// Read the outbox's items for its screen.
    LoadOutbox,
    RetryUnsent {
        id: i64,
    },
    DiscardUnsent {
        id: i64,
    },
    Quit,
}

/// One link of a chain: a step as a key binds it or, from the shell, text
/// typed into the field on screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    Step(Step),
    Type(String),
}

impl From<Step> for Link {
    fn from(step: Step) -> Link {
        Link::Step(step)
    }
}

/// What reaches `update`.
#[derive(Clone, Debug)]
pub enum Msg {
    Key(Key),
    /// Text pasted into the terminal: typed into the field open, if any.
    Paste(String),
    /// A chain sent from the shell (see `control`), done as a key's.
    Control(Vec<Link>),
    /// The terminal changed size: everything is drawn again.
    Resize,
    Tick(DateTime<Utc>),
    Queues(Result<Vec<QueueView>, String>),
    Leased {
        queue: String,
        result: Result<Option<LeaseResponse>, String>,
    },
    Debtor(i64, Result<DebtorView, String>),
    Timeline(i64, Result<Vec<Event>, String>),
    Plan(i64, Result<PlanView, String>),
    Script(i64, Result<ScriptView, String>),
    Found {
        seq: u64,
        result: Result<Vec<DebtorSummary>, String>,
    },
    State(Result<AgentState, String>),
    LeaseRenewed(LeaseView),
    LeaseLost(String),
    CallRefused(ClientError),
    /// The call was not asked for, and why (the dialer cannot start).
    CallNotStarted(String),
    CallEnded(Result<(), String>),
    /// A command that had the terminal ended: well, or with why not.
    CommandEnded(Result<(), String>),
    Outbox(OutboxCount),
    /// The outbox's items, for its screen.
    Unsent(Result<Vec<Unsent>, String>),
    /// Something happened on the server: `debtor` is who it concerns;
    /// `ended`, a lease the server ended without its holder asking (it
    /// ran out, or a supervisor released it).
    Live {
        kind: String,
        debtor: Option<i64>,
        ended: Option<i64>,
    },
    /// An agent's state as the server now keeps it (`agent_state`): the
    /// console's own when `name` is its user's; `by_other` when a
    /// supervisor set it.
    StateSet {
        name: String,
        state: AgentState,
        by_other: bool,
    },
    Connection(Result<(), Offline>),
    /// A let-go the server did not hear (it was away): tried again when
    /// the connection is back, or the debtor stays held for nobody until
    /// the lease runs out.
    ReleaseFailed(i64, String),
    Notice(Severity, String),
}

/// Why the live stream is down.
#[derive(Clone, Debug, PartialEq)]
pub enum Offline {
    Dropped(String),
    /// The server refused the token: only a new login brings it back.
    SignedOut,
}

pub struct App {
    pub locale: Locale,
    pub keymap: Keymap,
    pub user: String,
    pub server: String,
    pub agent: AgentState,
    pub queues: Remote<Vec<QueueView>>,
    pub queue_sel: usize,
    queues_stale: bool,
    pub work: Option<Workspace>,
    pub overlay: Option<Overlay>,
    pub outbox: OutboxCount,
    pub notice: Option<(Severity, String)>,
    pub offline: Option<Offline>,
    /// The live stream has opened at least once.
    streamed: bool,
    /// The agent's last state did not reach the server: sent again when
    /// the connection comes back, or the board shows them on a call they
    /// ended (or not paused when they are).
    state_unsent: bool,
    /// Leases let go while the server was away (see `Msg::ReleaseFailed`).
    unreleased: Vec<i64>,
    pub leasing: bool,
    /// One of the agent's commands has the terminal: a chain's next step
    /// waits for how it ends.
    commanding: bool,
    /// The rest of a chain, waiting on the server (see `go_on`).
    pending: Vec<Link>,
    /// How many times the outcome form refused what it was given: a
    /// chain ends at a refusal, the same complaint again included.
    form_refusals: u64,
    /// Quit or back was pressed on an outcome form holding what the agent
    /// typed: the same again, next, throws it away.
    leaving: Option<Action>,
    pub now: DateTime<Utc>,
    pub quit: bool,
}

impl App {
    pub fn new(
        locale: Locale,
        keymap: Keymap,
        user: String,
        server: String,
        now: DateTime<Utc>,
    ) -> App {
        App {
            locale,
            keymap,
            user,
            server,
            agent: AgentState {
                status: AgentStatus::Ready,
                reason: None,
                since: now,
            },
            queues: Remote::Loading,
            queue_sel: 0,
            queues_stale: false,
            work: None,
            overlay: None,
            outbox: OutboxCount::default(),
            notice: None,
            offline: None,
            state_unsent: false,
            unreleased: Vec::new(),
            streamed: false,
            leasing: false,
            commanding: false,
            pending: Vec::new(),
            form_refusals: 0,
            now,
            leaving: None,
            quit: false,
        }
    }

    /// The screen whose keys apply now.
    pub fn mode(&self) -> Mode {
        match &self.overlay {
            Some(Overlay::Help(..)) => Mode::Help,
            Some(Overlay::Search(_)) => Mode::Search,
            Some(Overlay::Outcome(_)) => Mode::Outcome,
            Some(Overlay::Pause(_)) => Mode::Pause,
            Some(Overlay::Outbox(_)) => Mode::Outbox,
            None if self.work.is_some() => Mode::Workspace,
            None => Mode::Queues,
        }
    }

    /// Whether a message changes what is on screen; the runner draws only
    /// then.
    pub fn update(&mut self, msg: Msg) -> (Vec<Effect>, bool) {
        let mut fx = Vec::new();
        let mut dirty = match msg {
            Msg::Key(key) => {
                self.key(key, &mut fx);
                return (fx, true);
            }
            Msg::Paste(text) => {
                self.stop_chain();
                self.paste(&text, &mut fx);
                return (fx, true);
            }
            Msg::Control(links) => {
                self.stop_chain();
                // A key there only closes the help; a script, which cannot
                // see it, has its whole line done.
                if let Some(Overlay::Help(_, _, under)) = &mut self.overlay {
                    self.overlay = under.take().map(|o| *o);
                }
                self.go_on(links, &mut fx);
                return (fx, true);
            }
            Msg::Resize => true,
            Msg::Tick(now) => {
                // The clocks on screen show minutes and seconds of time in
                // state and the debtor's local time.
                let changed = now.timestamp() != self.now.timestamp();
                self.now = now;
                if std::mem::take(&mut self.queues_stale) {
                    fx.push(Effect::LoadQueues);
                }
                changed
            }
            Msg::Queues(r) => {
                let first = matches!(self.queues, Remote::Loading);
                self.queues = remote(r);
                if let Some(q) = self.queues.ready() {
                    self.queue_sel = self.queue_sel.min(q.len().saturating_sub(1));
                    // On arrival, the cursor waits on the first queue with
                    // someone to call.
                    if first && let Some(i) = q.iter().position(|q| q.callable > 0) {
                        self.queue_sel = i;
                    }
                }
                true
            }
            Msg::Leased { queue, result } => {
                self.leasing = false;
                match result {
                    Ok(Some(l)) => {
                        let id = l.debtor.id;
                        let mut w = Workspace::new(id, Some(l.lease), Some(queue));
                        w.debtor = Remote::Ready(l.debtor);
                        self.work = Some(w);
                        self.overlay = None;
                        fx.push(Effect::LoadDebtor { id, reveal: false });
                        self.set_status(AgentStatus::Ready, None, &mut fx);
                        self.queues_stale = true;
                    }
                    Ok(None) => {
                        self.pending.clear();
                        self.say(Severity::Warn, words(self.locale).queue_empty.into())
                    }
                    Err(e) => {
                        self.pending.clear();
                        self.say(Severity::Error, e)
                    }
                }
                true
            }
            Msg::Debtor(id, r) => self.on_work(id, |w| w.debtor = remote(r)),
            Msg::Timeline(id, r) => self.on_work(id, |w| w.timeline = remote(r)),
            Msg::Plan(id, r) => self.on_work(id, |w| w.plan = remote(r)),
            Msg::Script(id, r) => self.on_work(id, |w| w.script = remote(r)),
            Msg::Found { seq, result } => match self.search_mut() {
                Some(s) if s.seq == seq => {
                    s.results = remote(result);
                    s.sel = 0;
                    true
                }
                _ => false,
            },
            Msg::State(Ok(state)) => {
                self.agent = state;
                self.state_unsent = false;
                true
            }
            Msg::State(Err(e)) => {
                self.state_unsent = true;
                self.say(Severity::Error, e);
                true
            }
            Msg::LeaseRenewed(lease) => {
                if let Some(w) = &mut self.work
                    && w.lease.as_ref().is_some_and(|l| l.id == lease.id)
                {
                    w.lease = Some(lease);
                }
                false
            }
            Msg::LeaseLost(why) => {
                self.pending.clear();
                if let Some(w) = &mut self.work {
                    w.lease_lost = Some(why);
                }
                true
            }
            Msg::CallRefused(e) => {
                let zone = self.work.as_ref().and_then(Workspace::zone);
                let locale = self.locale;
                let said = e.said(locale, |t| local_time(t, zone, locale));
                self.no_call(said, &mut fx);
                true
            }
            Msg::CallNotStarted(said) => {
                self.no_call(said, &mut fx);
                true
            }
            Msg::CallEnded(result) => {
                if let Some(w) = &mut self.work {
                    w.calling = false;
                    // Whatever the dialer said, the next thing is to
                    // record what happened.
                    self.overlay = Some(Overlay::Outcome(Box::default()));
                    fx.push(Effect::LoadDebtor {
                        id: w.debtor_id,
                        reveal: false,
                    });
                }
                if let Err(e) = result {
                    self.say(Severity::Warn, e);
                }
                true
            }
            Msg::Outbox(count) => {
                // A write the server refused for good is said at once: the
                // agent may need to record it again, differently.
                if count.failed > self.outbox.failed {
                    let why = count.last_error.clone().unwrap_or_default();
                    // One refusal is said: the latest.
                    let mut said = format!("{}: {why}", super::words::refused(self.locale, 1));
                    if !matches!(self.overlay, Some(Overlay::Outbox(_)))
                        && let Some(key) = self.keymap.key_for(self.mode(), Action::Outbox)
                    {
                        said += &match self.locale {
                            Locale::PtBr => format!(" ({key}: ver os envios)"),
                            Locale::En => format!(" ({key}: see the outbox)"),
                        };
                    }
                    self.say(Severity::Error, said);
                }
                // Refused, it is not recorded: the debtor on screen is owed
                // an outcome again (or a give-back), not "recorded".
                if let Some(w) = &mut self.work
                    && count.refused_debtor == Some(w.debtor_id)
                {
                    w.recorded = None;
                }
                let changed = count != self.outbox;
                self.outbox = count;
                // The screen listing the items follows each attempt, even
                // one that leaves the counts as they were (a write sent
                // again and refused again has one attempt more); one read
                // at a time, however fast a backlog drains.
                if let Some(Overlay::Outbox(list)) = &mut self.overlay
                    && list.read_again()
                {
                    fx.push(Effect::LoadOutbox);
                }
                changed
            }
            Msg::Unsent(items) => match &mut self.overlay {
                Some(Overlay::Outbox(list)) => {
                    if list.arrived(items) {
                        fx.push(Effect::LoadOutbox);
                    }
                    true
                }
                _ => false,
            },
            Msg::Live {
                kind,
                debtor,
                ended,
            } => {
                self.queues_stale = true;
                let mut lost = false;
                if let Some(w) = &mut self.work
                    && ended.is_some()
                    && w.lease.as_ref().map(|l| l.id) == ended
                    && w.lease_lost.is_none()
                {
                    let words = words(self.locale);
                    w.lease_lost = Some(
                        if kind == "lease_expired" {
                            words.lease_ran_out
                        } else {
                            words.lease_taken_back
                        }
                        .to_string(),
                    );
                    lost = true;
                }
                match &self.work {
                    Some(w) if debtor == Some(w.debtor_id) && kind != "agent_state" => {
                        fx.push(Effect::LoadDebtor {
                            id: w.debtor_id,
                            reveal: false,
                        });
                    }
                    _ => {}
                }
                lost
            }
            Msg::StateSet {
                name,
                state,
                by_other,
            } => {
                if name != self.user || state == self.agent {
                    return (fx, false);
                }
                // A supervisor's pause holds here too: `n` says so rather
                // than leasing (and the next change of state undoing it).
                if by_other {
                    let status = words::status(self.locale, state.status);
                    let said = match (&state.reason, self.locale) {
                        (Some(r), Locale::PtBr) => {
                            format!("a supervisão mudou seu estado: {status} ({r})")
                        }
                        (None, Locale::PtBr) => format!("a supervisão mudou seu estado: {status}"),
                        (Some(r), Locale::En) => {
                            format!("a supervisor set your state: {status} ({r})")
                        }
                        (None, Locale::En) => format!("a supervisor set your state: {status}"),
                    };
                    self.say(Severity::Warn, said);
                }
                self.agent = state;
                true
            }
            Msg::Connection(r) => {
                let offline = r.err();
                let changed = offline != self.offline;
                // Counted again once the stream is open: the first count,
                // asked for beside its opening, may predate its cursor, and
                // one after a drop missed what the stream did.
                let first = offline.is_none() && !std::mem::replace(&mut self.streamed, true);
                let back = self.offline.is_some() && offline.is_none();
                if first || back {
                    self.queues_stale = true;
                }
                // What was said of the server being away is over.
                if back {
                    self.say(Severity::Info, words(self.locale).back_online.into());
                }
                if back {
                    for lease in std::mem::take(&mut self.unreleased) {
                        fx.push(Effect::Release { lease });
                    }
                }
                if back && std::mem::take(&mut self.state_unsent) {
                    fx.push(Effect::SetState {
                        status: self.agent.status,
                        reason: self.agent.reason.clone(),
                    });
                }
                if offline == Some(Offline::SignedOut) && changed {
                    self.say(Severity::Error, words(self.locale).signed_out_hint.into());
                }
                self.offline = offline;
                changed
            }
            Msg::ReleaseFailed(lease, why) => {
                self.unreleased.push(lease);
                self.say(Severity::Warn, why);
                true
            }
            Msg::Notice(severity, text) => {
                self.say(severity, text);
                true
            }
            // One that failed, could not start or was stopped ends the
            // chain it was in: what came after it was meant for after it
            // had done its part.
            Msg::CommandEnded(result) => {
                self.commanding = false;
                if let Err(why) = result {
                    self.pending.clear();
                    self.say(Severity::Warn, why);
                }
                true
            }
        };
        if !self.pending.is_empty() && !self.waiting() {
            let rest = std::mem::take(&mut self.pending);
            self.go_on(rest, &mut fx);
            dirty = true;
        }
        (fx, dirty)
    }

    /// Waiting on the server for what a chain's next step may need: the
    /// debtor being leased, the one on screen still loading, a call still
    /// being placed, the results of what was typed into the search.
    fn waiting(&self) -> bool {
        let searching = matches!(
            &self.overlay,
            Some(Overlay::Search(s)) if s.seq > 0 && s.results.loading()
        );
        self.leasing
            || self.commanding
            || searching
            || self.work.as_ref().is_some_and(|w| {
                w.calling
                    || w.debtor.loading()
                    || w.timeline.loading()
                    || w.plan.loading()
                    || w.script.loading()
            })
    }

    fn on_work(&mut self, id: i64, f: impl FnOnce(&mut Workspace)) -> bool {
        match &mut self.work {
            Some(w) if w.debtor_id == id => {
                f(w);
                true
            }
            _ => false,
        }
    }

    pub fn say(&mut self, severity: Severity, text: String) {
        self.notice = Some((severity, text));
    }

    fn set_status(&mut self, status: AgentStatus, reason: Option<String>, fx: &mut Vec<Effect>) {
        if self.agent.status == status && self.agent.reason == reason {
            return;
        }
        self.agent = AgentState {
            status,
            reason: reason.clone(),
            since: self.now,
        };
        fx.push(Effect::SetState { status, reason });
    }

    fn key(&mut self, key: Key, fx: &mut Vec<Effect>) {
        let mode = self.mode();
        let Some(steps) = self.keymap.bound(mode, key).map(<[Step]>::to_vec) else {
            if !self.pending.is_empty() {
                self.stop_chain();
            }
            return self.text(key, fx);
        };
        self.stop_chain();
        // On the help screen a key only closes it, chain or not.
        if mode == Mode::Help {
            return self.step(steps[0], fx);
        }
        self.go_on(steps.into_iter().map(Link::Step).collect(), fx);
    }

    /// The agent's own key (or another chain) takes over from a chain
    /// still waiting; the notice is wiped once per key, so that a chain's
    /// later step does not wipe what an earlier one said.
    fn stop_chain(&mut self) {
        let stopped = !std::mem::take(&mut self.pending).is_empty();
        self.notice = None;
        if stopped {
            self.say(Severity::Info, words(self.locale).chain_stopped.into());
        }
    }

    /// Neither a chain nor anything it waits on is left.
    pub fn settled(&self) -> bool {
        self.pending.is_empty() && !self.waiting()
    }

    /// What the console shows, for a script: the screen, the agent's
    /// state, the debtor on screen and their lease, the key bar's word.
    pub fn state(&self) -> serde_json::Value {
        let debtor = self.work.as_ref().map(|w| {
            let d = w.debtor.ready();
            serde_json::json!({
                "id": w.debtor_id,
                "name": d.map(|d| &d.name),
                "external_id": d.map(|d| &d.external_id),
                "lease_id": w.lease.as_ref().filter(|_| w.lease_lost.is_none()).map(|l| l.id),
                "queue": w.queue,
                "recorded": w.recorded,
            })
        });
        serde_json::json!({
            "screen": self.mode().name(),
            "status": self.agent.status,
            "debtor": debtor,
            "notice": self.notice.as_ref().map(|(severity, text)| serde_json::json!({
                "severity": severity,
                "text": text,
            })),
            "input": self.input(),
            "quit": self.quit,
        })
    }

    /// What the open form or search holds, for a script to check what it
    /// typed and to choose among what was found.
    fn input(&self) -> serde_json::Value {
        use serde_json::json;
        match &self.overlay {
            Some(Overlay::Search(s)) => json!({
                "query": s.query,
                "results": s.results.ready().map(|found| found.iter().map(|d| json!({
                    "id": d.id,
                    "name": d.name,
                    "external_id": d.external_id,
                })).collect::<Vec<_>>()),
                "selected": s.sel,
            }),
            Some(Overlay::Outcome(form)) => json!({
                "field": form.field().name(),
                "disposition": form.disposition,
                "reason": form.reason(),
                "settles": form.settles,
                "typed": form
                    .fields()
                    .into_iter()
                    .filter_map(|f| Some((f.name().to_string(), form.text(f)?.into())))
                    .collect::<serde_json::Map<_, _>>(),
                "error": form.error.as_ref().map(|(field, text)| json!({
                    "field": field.name(),
                    "text": text,
                })),
            }),
            Some(Overlay::Pause(reason)) => json!({ "reason": reason }),
            _ => serde_json::Value::Null,
        }
    }

    /// A chain goes in turn, each step on the state the one before left.
    /// A step that asks the server holds the rest until its answer has
    /// come (`update` goes on); a step that cannot be done, or an answer
    /// that says no (the queue empty, the call refused), ends the chain,
    /// and the key bar says why. After quit nothing more is done.
    fn go_on(&mut self, links: Vec<Link>, fx: &mut Vec<Effect>) {
        let mut links = links.into_iter();
        while let Some(link) = links.next() {
            let before = (self.notice.clone(), self.form_refusals);
            match link {
                Link::Step(step) => self.step(step, fx),
                Link::Type(text) => self.type_text(&text, fx),
            }
            // A form that refuses what it was given ends the chain as a
            // warning on the key bar does, even with the same complaint
            // as last time.
            let refused = (self.notice != before.0
                && matches!(self.notice, Some((Severity::Warn | Severity::Error, _))))
                || self.form_refusals != before.1;
            if self.quit || refused {
                return;
            }
            if self.waiting() {
                self.pending = links.collect();
                return;
            }
        }
    }

    /// Text from the shell goes into the field on screen as if typed, one
    /// character at a time; a search asks once, for all of it.
    /// A call that did not start: back to ready, with why.
    fn no_call(&mut self, said: String, fx: &mut Vec<Effect>) {
        self.pending.clear();
        if let Some(w) = &mut self.work {
            w.calling = false;
        }
        self.set_status(AgentStatus::Ready, None, fx);
        self.say(Severity::Error, said);
    }

    /// Pasted text as typed text: a line break stays one in the note and
    /// is a space elsewhere (it must not submit the form), a tab a space,
    /// other control characters (an escape sequence's ESC) are dropped.
    fn paste(&mut self, text: &str, fx: &mut Vec<Effect>) {
        let in_note = matches!(
            &self.overlay,
            Some(Overlay::Outcome(form)) if form.field() == super::outcome_form::Field::Note
        );
        let mut line = String::with_capacity(text.len());
        for c in text.replace("\r\n", "\n").chars() {
            match c {
                '\n' | '\r' if in_note => line.push('\n'),
                '\n' | '\r' | '\t' => line.push(' '),
                c if c.is_control() => {}
                c => line.push(c),
            }
        }
        if !matches!(
            self.overlay,
            Some(Overlay::Search(_) | Overlay::Outcome(_) | Overlay::Pause(_))
        ) {
            let w = words(self.locale);
            return self.say(Severity::Warn, w.pasted_nowhere.into());
        }
        self.type_text(&line, fx);
    }

    fn type_text(&mut self, text: &str, fx: &mut Vec<Effect>) {
        use ratatui::crossterm::event::{KeyCode, KeyModifiers};
        if !matches!(
            self.overlay,
            Some(Overlay::Search(_) | Overlay::Outcome(_) | Overlay::Pause(_))
        ) {
            let w = words(self.locale);
            return self.say(Severity::Warn, w.nothing_to_type_into.into());
        }
        let mut typed = Vec::new();
        for c in text.chars() {
            let key = Key {
                code: KeyCode::Char(c),
                mods: KeyModifiers::NONE,
            };
            self.text(key, &mut typed);
        }
        let searches = typed
            .iter()
            .filter(|e| matches!(e, Effect::Search { .. }))
            .count();
        let mut seen = 0;
        typed.retain(|e| {
            if !matches!(e, Effect::Search { .. }) {
                return true;
            }
            seen += 1;
            seen == searches
        });
        fx.extend(typed);
    }

    fn step(&mut self, step: Step, fx: &mut Vec<Effect>) {
        match step {
            Step::Action(action) => self.act(action, fx),
            Step::Command(i) => self.run_command(i, fx),
        }
    }

    /// One of the agent's commands, on the debtor on screen.
    fn run_command(&mut self, i: usize, fx: &mut Vec<Effect>) {
        let Some(c) = self.keymap.command(i) else {
            return;
        };
        let name = c.name.clone();
        let Some(d) = self.work.as_ref().and_then(|w| w.debtor.ready()) else {
            let said = match (self.locale, &self.work) {
                (_, Some(_)) => format!("{name}: {}", words(self.locale).loading),
                (Locale::PtBr, None) => format!("{name}: abra um devedor antes"),
                (Locale::En, None) => format!("{name}: open a debtor first"),
            };
            self.say(Severity::Warn, said);
            return;
        };
        let fields = super::dial::Fields {
            phone: phone_to_call(d).map_or("", |p| p.number.as_str()),
            debtor_id: d.id,
            external_id: &d.external_id,
            name: &d.name,
        };
        self.commanding |= !c.background;
        fx.push(Effect::RunCommand {
            args: super::dial::arguments(&c.run, &fields),
            background: c.background,
            name,
        });
    }

    /// A key no action claims: typing into the field on screen.
    fn text(&mut self, key: Key, fx: &mut Vec<Effect>) {
        use ratatui::crossterm::event::KeyCode;
        let locale = self.locale;
        self.leaving = None;
        match &mut self.overlay {
            Some(Overlay::Search(_)) => {}
            // A discard is confirmed by the very next key, or not at all.
            Some(Overlay::Outbox(list)) => {
                list.discarding = None;
                return;
            }
            Some(Overlay::Outcome(form)) => match key.code {
                KeyCode::Backspace => form.backspace(locale),
                KeyCode::Char(c) if key.text().is_some() => form.type_char(c, locale),
                _ => {}
            },
            Some(Overlay::Pause(reason)) => match key.code {
                KeyCode::Backspace => {
                    reason.pop();
                }
                KeyCode::Char(c) if key.text().is_some() => {
                    if reason.len() + c.len_utf8() > crate::api::MAX_REASON {
                        let said = match locale {
                            Locale::PtBr => {
                                format!("o motivo vai até {} bytes", crate::api::MAX_REASON)
                            }
                            Locale::En => {
                                format!("a reason is at most {} bytes", crate::api::MAX_REASON)
                            }
                        };
                        return self.say(Severity::Warn, said);
                    }
                    reason.push(c);
                }
                _ => {}
            },
            _ => return,
        }
        if let Some(Overlay::Search(s)) = &mut self.overlay {
            let changed = match key.code {
                KeyCode::Backspace => s.query.pop().is_some(),
                KeyCode::Char(c) if key.text().is_some() => {
                    s.query.push(c);
                    true
                }
                _ => false,
            };
            if changed {
                s.seq += 1;
                s.results = Remote::Loading;
                // Each keystroke asks; the answer to the latest wins.
                fx.push(Effect::Search {
                    query: s.query.clone(),
                    seq: s.seq,
                });
            }
        }
    }

    /// What an action does where the agent is.
    pub fn act(&mut self, action: Action, fx: &mut Vec<Effect>) {
        let locale = self.locale;
        // A stray esc, or ctrl-c pressed to copy, would throw away the
        // amount, date and note typed during a call: the first only asks.
        let confirmed = self.leaving.take() == Some(action);
        // The form may be under the help (f1): quitting loses it all the
        // same (esc there only closes the help).
        let form = match &self.overlay {
            Some(Overlay::Help(_, _, Some(under))) if action == Action::Quit => Some(&**under),
            other => other.as_ref(),
        };
        if matches!(action, Action::Quit | Action::Back)
            && !confirmed
            && matches!(form, Some(Overlay::Outcome(form)) if !form.is_blank())
        {
            self.leaving = Some(action);
            let again = self
                .keymap
                .key_for(Mode::Outcome, action)
                .map_or_else(String::new, |k| k.to_string());
            let w = words(locale);
            let then = if action == Action::Quit {
                w.unsaved_quit
            } else {
                w.unsaved_close
            };
            return self.say(Severity::Warn, format!("{} {again} {then}", w.unsaved_form));
        }
        // Overlays first: they take the keys while they are open.
        if let Some(overlay) = &mut self.overlay {
            match (overlay, action) {
                (_, Action::Quit) => {}
                (
                    Overlay::Help(_, scroll, _),
                    Action::Up | Action::Down | Action::PageUp | Action::PageDown,
                ) => {
                    scroll.by(rows(action));
                    return;
                }
                (Overlay::Help(_, _, under), _) => {
                    self.overlay = under.take().map(|o| *o);
                    return;
                }
                (_, Action::Back) => {
                    self.overlay = None;
                    return;
                }
                (Overlay::Search(s), Action::Up | Action::Down) => {
                    let n = s.results.ready().map_or(0, Vec::len);
                    s.sel = if action == Action::Down {
                        (s.sel + 1).min(n.saturating_sub(1))
                    } else {
                        s.sel.saturating_sub(1)
                    };
                    return;
                }
                (Overlay::Search(s), Action::Select) => {
                    match s.results.ready().and_then(|r| r.get(s.sel)) {
                        Some(found) => {
                            let id = found.id;
                            self.open(id, fx);
                        }
                        // A warning, which ends a chain: a command after
                        // it would run on the debtor behind the search.
                        None => {
                            let w = words(locale);
                            let why = if s.results.loading() {
                                w.loading
                            } else {
                                w.no_matches
                            };
                            self.say(Severity::Warn, why.into());
                        }
                    }
                    return;
                }
                // The outbox's keys, from its screen (which closes).
                (Overlay::Outbox(_), Action::Help) => {
                    self.overlay = Some(Overlay::Help(Mode::Outbox, Scroll::default(), None));
                    return;
                }
                (Overlay::Outbox(list), a) => {
                    let again = self
                        .keymap
                        .key_for(Mode::Outbox, Action::Discard)
                        .map_or_else(String::new, |k| k.to_string());
                    match list.act(a, &again, locale) {
                        Next::None => {}
                        Next::Load => fx.push(Effect::LoadOutbox),
                        Next::Retry(id) => fx.push(Effect::RetryUnsent { id }),
                        Next::Discard(id) => fx.push(Effect::DiscardUnsent { id }),
                        Next::Open(id) => self.open(id, fx),
                        Next::Say(severity, text) => self.say(severity, text),
                    }
                    return;
                }
                // Over the form (or the search), which is there again when
                // the help closes: an agent mid-promise may need to look up
                // a key. (`?` is typed there; f1 asks.)
                (Overlay::Outcome(_) | Overlay::Pause(_) | Overlay::Search(_), Action::Help) => {
                    let mode = self.mode();
                    let under = self.overlay.take().map(Box::new);
                    self.overlay = Some(Overlay::Help(mode, Scroll::default(), under));
                    return;
                }
                (Overlay::Outcome(form), a) => {
                    match a {
                        Action::NextPanel | Action::Select
                            if form.field() != super::outcome_form::Field::Submit
                                && form.field() != super::outcome_form::Field::Note
                                || a == Action::NextPanel =>
                        {
                            form.next_field(locale)
                        }
                        Action::PrevPanel => form.prev_field(),
                        Action::Up => form.move_selection(false, locale),
                        Action::Down => form.move_selection(true, locale),
                        Action::Select if form.field() == super::outcome_form::Field::Note => {
                            form.note.push('\n')
                        }
                        Action::Select | Action::Submit => self.submit_outcome(fx),
                        // A promise's alone: a box ticked unseen would
                        // come back ticked with a later promise.
                        Action::Settle if form.disposition == Some(Disposition::PromiseToPay) => {
                            form.settles = !form.settles;
                            form.error = None;
                        }
                        _ => {}
                    }
                    return;
                }
                (Overlay::Pause(reason), Action::Select | Action::Submit) => {
                    let reason = reason.trim().to_string();
                    if reason.is_empty() {
                        self.say(Severity::Warn, words(locale).pause_reason.to_string() + "?");
                        return;
                    }
                    self.overlay = None;
                    self.set_status(AgentStatus::Paused, Some(reason), fx);
                    return;
                }
                _ => return,
            }
        }
        match action {
            Action::Quit => {
                // Leaving with a debtor unworked gives them back at once,
                // rather than when the lease runs out.
                if let Some(w) = self.work.as_ref().filter(|w| w.unfinished())
                    && let Some(lease) = &w.lease
                {
                    fx.push(Effect::Release { lease: lease.id });
                }
                self.quit = true;
                fx.push(Effect::Quit);
            }
            Action::Help => {
                self.overlay = Some(Overlay::Help(self.mode(), Scroll::default(), None));
            }
            Action::Search => self.overlay = Some(Overlay::Search(Search::default())),
            Action::Outbox => {
                let mut list = OutboxList::default();
                list.read_again();
                self.overlay = Some(Overlay::Outbox(list));
                fx.push(Effect::LoadOutbox);
            }
            Action::Back => {
                if let Some(w) = &self.work {
                    if w.unfinished() {
                        self.say(Severity::Warn, self.unfinished());
                    } else {
                        // Done with them: let go now, as `n` does, rather
                        // than hold them out of every queue until the
                        // lease runs out.
                        if let Some(lease) = w.lease.as_ref().filter(|_| w.lease_lost.is_none()) {
                            fx.push(Effect::Release { lease: lease.id });
                        }
                        self.work = None;
                        fx.push(Effect::LoadQueues);
                    }
                }
            }
            Action::Pause => {
                if self.agent.status == AgentStatus::Paused {
                    self.set_status(AgentStatus::Ready, None, fx);
                } else if self.work.as_ref().is_some_and(Workspace::unfinished) {
                    self.say(Severity::Warn, self.unfinished());
                } else {
                    self.overlay = Some(Overlay::Pause(String::new()));
                }
            }
            Action::LeaseNext => self.lease_next(fx),
            // The board's own: no console screen binds them.
            Action::Filter | Action::Sort | Action::PauseAgent => {}
            // The outbox screen's own, handled above.
            Action::Retry | Action::Discard => {}
            Action::Refresh => match &self.work {
                Some(w) => fx.push(Effect::LoadDebtor {
                    id: w.debtor_id,
                    reveal: false,
                }),
                None => fx.push(Effect::LoadQueues),
            },
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                let delta = rows(action);
                match &mut self.work {
                    Some(w) => w.scroll_mut().by(delta),
                    None => {
                        let n = self.queues.ready().map_or(0, Vec::len);
                        self.queue_sel = (self.queue_sel as i32 + delta)
                            .clamp(0, n.saturating_sub(1) as i32)
                            as usize;
                    }
                }
            }
            Action::Select => {
                if self.work.is_none() {
                    self.lease_next(fx);
                }
            }
            Action::NextPanel | Action::PrevPanel => {
                if let Some(w) = &mut self.work {
                    w.panel = w.panel.step(action == Action::NextPanel);
                }
            }
            Action::FilterTimeline => {
                if let Some(w) = &mut self.work {
                    w.filter = w.filter.next();
                    w.panel = Panel::Timeline;
                    w.scroll[1].home();
                }
            }
            Action::RevealDocument => {
                if let Some(w) = &self.work {
                    fx.push(Effect::LoadDebtor {
                        id: w.debtor_id,
                        reveal: true,
                    });
                }
            }
            Action::ReleaseLease => {
                if let Some(w) = self.work.take() {
                    if let Some(lease) = &w.lease {
                        fx.push(Effect::Release { lease: lease.id });
                    }
                    // The server offers them to this agent again only after
                    // the rest of the queue: said, so that it is not a
                    // surprise where they went. (A lease already lost is
                    // not theirs to give.)
                    if w.lease.is_some() && w.lease_lost.is_none() {
                        let name = w.debtor.ready().map(|d| d.name.as_str());
                        let name = name.unwrap_or(match locale {
                            Locale::PtBr => "devedor",
                            Locale::En => "debtor",
                        });
                        self.say(
                            Severity::Info,
                            match locale {
                                Locale::PtBr => format!(
                                    "{name}: de volta à fila, para você só depois dos outros"
                                ),
                                Locale::En => {
                                    format!("{name}: back in the queue, yours after the others")
                                }
                            },
                        );
                    }
                    self.set_status(AgentStatus::Ready, None, fx);
                    fx.push(Effect::LoadQueues);
                }
            }
            Action::Call => self.call(fx),
            Action::RecordOutcome => match &self.work {
                Some(w) if w.lease.is_some() && w.recorded.is_none() => {
                    self.overlay = Some(Overlay::Outcome(Box::default()))
                }
                Some(w) if w.recorded.is_some() => self.say(Severity::Info, self.recorded()),
                Some(_) => self.say(Severity::Warn, self.no_lease()),
                None => {}
            },
            // Only the outcome form has them.
            Action::Submit | Action::Settle => {}
        }
    }

    /// Opens a debtor to read (found by search, or named by the outbox),
    /// unless the one on screen is owed an outcome first.
    fn open(&mut self, id: i64, fx: &mut Vec<Effect>) {
        if let Some(w) = &self.work {
            if w.debtor_id == id {
                self.overlay = None;
                return;
            }
            if w.unfinished() {
                self.say(Severity::Warn, self.unfinished());
                return;
            }
            // Worked and left for another: given back as `n` gives it,
            // not held (and renewed) by a screen that no longer shows it.
            if let Some(lease) = w.lease.as_ref().filter(|_| w.lease_lost.is_none()) {
                fx.push(Effect::Release { lease: lease.id });
            }
        }
        self.overlay = None;
        self.work = Some(Workspace::new(id, None, None));
        fx.push(Effect::LoadDebtor { id, reveal: false });
    }

    fn lease_next(&mut self, fx: &mut Vec<Effect>) {
        if self.agent.status == AgentStatus::Paused {
            self.say(
                Severity::Warn,
                match self.locale {
                    Locale::PtBr => "em pausa: p para voltar a atender".into(),
                    Locale::En => "paused: p to be ready again".into(),
                },
            );
            return;
        }
        if self.leasing {
            return;
        }
        if let Some(w) = &self.work {
            if w.unfinished() {
                self.say(Severity::Warn, self.unfinished());
                return;
            }
            if let Some(lease) = &w.lease {
                fx.push(Effect::Release { lease: lease.id });
            }
        }
        let queue = self
            .work
            .as_ref()
            .and_then(|w| w.queue.clone())
            .or_else(|| {
                self.queues
                    .ready()
                    .and_then(|q| q.get(self.queue_sel))
                    .map(|q| q.id.clone())
            });
        let Some(queue) = queue else {
            // Said, so that a chain ends here rather than going on.
            if self.offline.is_some() {
                let said = words(self.locale).offline_no_lease;
                self.say(Severity::Warn, said.into());
                return;
            }
            let said = match (&self.queues, self.locale) {
                (Remote::Loading, Locale::PtBr) => "as filas ainda estão carregando",
                (Remote::Loading, Locale::En) => "the queues are still loading",
                (_, Locale::PtBr) => "nenhuma fila de onde pegar",
                (_, Locale::En) => "no queue to take from",
            };
            self.say(Severity::Warn, said.into());
            return;
        };
        self.leasing = true;
        fx.push(Effect::Lease { queue });
    }

    fn call(&mut self, fx: &mut Vec<Effect>) {
        let locale = self.locale;
        let Some(w) = &self.work else { return };
        if w.lease.is_none() || w.lease_lost.is_some() {
            self.say(Severity::Warn, self.no_lease());
            return;
        }
        if w.calling {
            return;
        }
        let Some(plan) = w.plan.ready() else {
            self.say(Severity::Info, words(locale).loading.into());
            return;
        };
        if !plan.callable_now {
            let why = call_refusal(plan, w.zone(), locale);
            self.say(Severity::Error, why);
            return;
        }
        let Some(debtor) = w.debtor.ready() else {
            return;
        };
        let Some(phone) = phone_to_call(debtor) else {
            self.say(
                Severity::Error,
                match locale {
                    Locale::PtBr => "nenhum telefone com consentimento".into(),
                    Locale::En => "no phone with consent to call".into(),
                },
            );
            return;
        };
        let effect = Effect::Call {
            debtor_id: debtor.id,
            phone: phone.number.clone(),
            name: debtor.name.clone(),
        };
        if let Some(w) = &mut self.work {
            w.calling = true;
        }
        self.set_status(AgentStatus::OnCall, None, fx);
        fx.push(effect);
    }

    fn submit_outcome(&mut self, fx: &mut Vec<Effect>) {
        let Some(Overlay::Outcome(form)) = &mut self.overlay else {
            return;
        };
        let Some(w) = &self.work else { return };
        let terms = w.script.ready().and_then(super::outcome_form::terms_of);
        let zone = w.zone();
        let today = w.today(self.now);
        let hours = w.plan.ready().map(|p| p.call_hours.as_slice());
        let locale = self.locale;
        let in_hours =
            |t: DateTime<Utc>| callback_in_hours(hours.unwrap_or_default(), t, zone, locale);
        let currency = w
            .debtor
            .ready()
            .and_then(|d| d.debts.first())
            .and_then(|d| Currency::read(&d.currency).ok());
        let ctx = super::outcome_form::FormContext {
            locale: self.locale,
            today,
            now: self.now,
            zone,
            terms: terms.as_ref(),
            currency,
            window: Some(&in_hours),
            latest_callback: w.plan.ready().and_then(|p| p.latest_callback),
        };
        let currency = terms.as_ref().map(|t| t.balance.currency).or(currency);
        match form.request(&ctx) {
            Ok(request) => {
                let disposition = request.disposition;
                let debtor_id = w.debtor_id;
                let gist = Gist {
                    about: w.debtor.ready().map(|d| d.name.clone()),
                    currency,
                    zone,
                };
                self.overlay = None;
                if let Some(w) = &mut self.work {
                    w.recorded = Some(disposition);
                }
                fx.push(Effect::Record {
                    debtor_id,
                    request,
                    gist,
                });
                self.set_status(AgentStatus::WrapUp, None, fx);
                self.say(Severity::Info, self.recorded());
            }
            Err((field, message)) => {
                if let Some(i) = form.fields().iter().position(|f| *f == field) {
                    form.field_index = i;
                }
                form.error = Some((field, message));
                self.form_refusals += 1;
            }
        }
    }
}

/// Whether a callback at `t` falls in the debtor's call window, as the
/// plan lists it. Past what it lists (or with nothing listed: the zone is
/// unknown) the server's check is the only one.
fn callback_in_hours(
    hours: &[crate::api::Opening],
    t: DateTime<Utc>,
    zone: Option<chrono_tz::Tz>,
    locale: Locale,
) -> Result<(), String> {
    let Some(last) = hours.last() else {
        return Ok(());
    };
    if t >= last.to || hours.iter().any(|o| o.from <= t && t < o.to) {
        return Ok(());
    }
    let next = hours
        .iter()
        .find(|o| o.from > t)
        .map_or(String::new(), |o| {
            let when = super::format::local_time(o.from, zone, locale);
            match locale {
                Locale::PtBr => format!("; o próximo começa {when}"),
                Locale::En => format!("; the next opens {when}"),
            }
        });
    Err(match locale {
        Locale::PtBr => format!("fora do horário de ligação da pessoa{next}"),
        Locale::En => format!("outside the debtor's call hours{next}"),
    })
}

/// The number a call goes to: one the debtor consented to, a mobile first.
pub(crate) fn phone_to_call(d: &DebtorView) -> Option<&crate::api::PhoneView> {
    d.phones
        .iter()
        .filter(|p| p.consent)
        .max_by_key(|p| p.kind == crate::domain::PhoneKind::Mobile)
}

fn remote<T>(r: Result<T, String>) -> Remote<T> {
    match r {
        Ok(t) => Remote::Ready(t),
        Err(e) => Remote::Failed(e),
    }
}

impl App {
    /// The search open, on screen or under the help: its answers still
    /// land while the help is read.
    fn search_mut(&mut self) -> Option<&mut Search> {
        match &mut self.overlay {
            Some(Overlay::Search(s)) => Some(s),
            Some(Overlay::Help(_, _, Some(under))) => match under.as_mut() {
                Overlay::Search(s) => Some(s),
                _ => None,
            },
            _ => None,
        }
    }

    /// A key for an action on the workspace as the keymap has it now (a
    /// rebound `o` is said as its new key), or the action's name when no
    /// key runs it.
    fn key_said(&self, action: Action) -> String {
        self.keymap
            .key_for(Mode::Workspace, action)
            .map_or_else(|| action.name().to_string(), |k| k.to_string())
    }

    /// The outcome is recorded, and the key for the next debtor as bound.
    pub fn recorded(&self) -> String {
        let w = words(self.locale);
        match self.keymap.key_for(Mode::Workspace, Action::LeaseNext) {
            Some(n) => format!("{}. {n}: {}", w.recorded, w.next_debtor),
            None => format!("{}.", w.recorded),
        }
    }

    fn unfinished(&self) -> String {
        let (o, x) = (
            self.key_said(Action::RecordOutcome),
            self.key_said(Action::ReleaseLease),
        );
        match self.locale {
            Locale::PtBr => {
                format!("registre um resultado ({o}) ou devolva o devedor à fila ({x}) antes")
            }
            Locale::En => format!("record an outcome ({o}) or give the debtor back ({x}) first"),
        }
    }

    /// The workspace's line for a debtor opened without a lease.
    pub fn no_lease(&self) -> String {
        let n = self.key_said(Action::LeaseNext);
        match self.locale {
            Locale::PtBr => format!("consulta (sem reserva): {n} pega o próximo da fila"),
            Locale::En => format!("read only (not leased): {n} takes the next debtor"),
        }
    }
}

/// Why a call is not allowed now and when it will be, from the plan.
/// The time is the debtor's local time, as the law reads it.
pub fn call_refusal(plan: &PlanView, zone: Option<chrono_tz::Tz>, locale: Locale) -> String {
    let w = words(locale);
    // Until when first: the rule's name is long and 80 columns cut it.
    match plan.blocked.iter().find(|b| b.channel == "call") {
        Some(b) => match b.at {
            Some(at) => format!(
                "{} {} {} — {}",
                w.call_blocked,
                w.blocked_until,
                super::format::local_time(at, zone, locale),
                b.why,
            ),
            None => format!("{} ({}) — {}", w.call_blocked, w.never, b.why),
        },
        // Nothing stops a call, and none is due: say when the next is, or
        // what state keeps it off (in words: the explanation's first line).
        None => {
            let next = plan
                .actions
                .iter()
                .filter(|a| a.channel == "call")
                .find_map(|a| a.at);
            match (plan.state.as_str(), next) {
                ("active", Some(at)) => format!(
                    "{} — {} {}",
                    w.no_call_due,
                    w.next_call,
                    super::format::local_time(at, zone, locale)
                ),
                ("active", None) => w.no_call_due.to_string(),
                (state, _) => format!(
                    "{} — {}",
                    w.no_call_due,
                    plan.explanation.first().map_or(state, String::as_str)
                ),
            }
        }
    }
}
