//! The board's state and its one `update`: keys (through the keymap),
//! the snapshot, live events applied locally, the clock. `update` does no
//! I/O; it answers with effects for the runner and says whether anything
//! on screen changed, so the runner draws only then.

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use std::collections::{HashMap, HashSet, VecDeque};

use crate::api::{
    AgentCall, AgentState, BoardAgent, BoardLease, BoardQueue, BoardView, FeedView, HourTally,
    QueueDebtor, QueueView, Tally, Today, money_in, unbroken_on,
};
use crate::client::events::Live;
use crate::config::BoardConfig;
use crate::console::action::Action;
use crate::console::app::{Remote, Severity};
use crate::console::keymap::{Key, Keymap, Mode};
use crate::console::scroll::{Follow, Scroll, rows};
use crate::domain::{Currency, Disposition, Locale, name_key};

/// How many events the ticker keeps.
pub const TICKER: usize = 50;

pub use crate::api::TICKER_KINDS;

/// Events after which the queue counts are fetched again: the server
/// moved debtors (a re-plan, a lease run out) in ways no event spells out.
pub const RECOUNT_KINDS: &[&str] = &["queues_changed", "lease_expired"];

/// Events whose effect on the counts is applied here at once, and fetched
/// again at the next tick (at most once a second): what the board can
/// work out (a lease out of a queue) is only part of what the server
/// does (the debtor re-planned, callable again or blocked, into another
/// queue), and the counts drifted until ctrl-r.
/// How often at most (each scan reads every queued debtor on the server,
/// and a busy floor makes such events all the time).
pub const SETTLE_EVERY_SECONDS: i64 = 5;

pub const SETTLE_KINDS: &[&str] = &[
    "lease_taken",
    "lease_released",
    "call_started",
    "outcome_recorded",
    "payment_received",
    "promise_kept",
    "promise_broken",
];

/// The actions the board answers to (the help lists these alone).
pub const ACTIONS: &[Action] = &[
    Action::Quit,
    Action::Help,
    Action::Back,
    Action::Filter,
    Action::Sort,
    Action::NextPanel,
    Action::PrevPanel,
    Action::Up,
    Action::Down,
    Action::PageUp,
    Action::PageDown,
    Action::Select,
    Action::Submit,
    Action::PauseAgent,
    Action::ReleaseLease,
    Action::Refresh,
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Panel {
    Queues,
    Agents,
}

/// The agents' order; `sort` moves to the next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sort {
    Name,
    State,
    /// Longest in their state first.
    Time,
    Calls,
    Promises,
}

/// An agent's state as the board shows it: the console's words for it.
pub fn state_word(state: AgentState, locale: Locale) -> &'static str {
    let w = crate::console::words::words(locale);
    match state {
        AgentState::Ready => w.state_ready,
        AgentState::OnCall => w.state_on_call,
        AgentState::WrapUp => w.state_wrap_up,
        AgentState::Paused => w.state_paused,
    }
}

impl Sort {
    pub fn name(self, locale: Locale) -> &'static str {
        let (pt, en) = match self {
            Sort::Name => ("nome", "name"),
            Sort::State => ("estado", "state"),
            Sort::Time => ("tempo no estado", "time in state"),
            Sort::Calls => ("ligações", "calls"),
            Sort::Promises => ("promessas", "promises"),
        };
        locale.pick(pt, en)
    }

    fn next(self) -> Sort {
        match self {
            Sort::Name => Sort::State,
            Sort::State => Sort::Time,
            Sort::Time => Sort::Calls,
            Sort::Calls => Sort::Promises,
            Sort::Promises => Sort::Name,
        }
    }
}

/// How urgent a time in state looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Calm,
    Warn,
    Alert,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Detail {
    Agent {
        id: i64,
        calls: Remote<Vec<AgentCall>>,
    },
    Queue {
        id: String,
        debtors: Remote<Vec<QueueDebtor>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub enum Overlay {
    Help(Scroll),
    /// Typing the filter; it applies as it is typed.
    Filter,
    /// A pause's reason for this agent.
    Pause {
        agent: i64,
        name: String,
        reason: String,
    },
    Detail {
        detail: Detail,
        scroll: Scroll,
    },
}

/// The queue counts' refetch: at most one in flight; whatever asks while
/// it is out makes one more after it, however many asked.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Recount {
    #[default]
    Idle,
    InFlight,
    /// In flight, and asked for again since it left.
    Again,
}

/// What the runner must do.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    LoadSnapshot,
    /// `GET /v1/queues`: depth, callable, blocked by rule, oldest, leased.
    LoadQueues,
    LoadAgentCalls(i64),
    LoadQueueDebtors(String),
    SetState {
        agent: i64,
        state: AgentState,
        reason: Option<String>,
    },
    ReleaseLease(i64),
}

pub enum Msg {
    Key(Key),
    Tick(DateTime<Utc>),
    /// The screen's new size: how many agent rows fit depends on it.
    Resize(u16, u16),
    Snapshot(Result<BoardView, String>),
    Queues(Result<Vec<QueueView>, String>),
    Live(Live),
    AgentCalls(i64, Result<Vec<AgentCall>, String>),
    QueueDebtors(String, Result<Vec<QueueDebtor>, String>),
    /// A supervisor action came back: what to say.
    Done(Result<String, String>),
}

pub struct Board {
    pub locale: Locale,
    pub keymap: Keymap,
    pub limits: BoardConfig,
    pub user: String,
    pub server: String,
    pub now: DateTime<Utc>,
    pub size: (u16, u16),
    pub loaded: Remote<()>,
    pub queues: Vec<BoardQueue>,
    pub agents: Vec<BoardAgent>,
    pub today: Option<Today>,
    /// What the money figures are in, as the snapshot says.
    pub currency: Currency,
    /// Newest last.
    pub ticker: VecDeque<FeedView>,
    /// Why the live stream is down (`None`: live).
    pub offline: Option<String>,
    /// The live stream has opened at least once.
    streamed: bool,
    /// Agents whose lease showed them holding one with no row here (a
    /// script, no console open): a snapshot was asked for to draw them,
    /// once, since a lease event carries no state to draw a row from.
    sought: HashSet<i64>,
    pub focus: Panel,
    pub queue_sel: usize,
    /// Which queue rows the panel has room for, around the selection.
    pub queues_shown: Follow,
    /// The selected agent, by id, so events that reorder keep it.
    pub agent_sel: Option<i64>,
    /// The first agent row shown. Kept here rather than in a drawing
    /// `Follow` (as the queues are): the clock face needs the agents on
    /// screen to know whether a tick changes what is drawn.
    pub agent_top: usize,
    pub sort: Sort,
    pub filter: String,
    pub overlay: Option<Overlay>,
    pub notice: Option<(Severity, String)>,
    pub quit: bool,
    /// The queue of each lease seen taken, to give it back its count.
    lease_queues: HashMap<i64, String>,
    /// Agents who left the floor holding a lease: the floor keeps them
    /// until it ends.
    leaving: HashSet<i64>,
    /// Every agent's name the board has seen, for the ticker: what an
    /// agent did still names them after they left the floor.
    names: HashMap<i64, String>,
    /// Every debtor's name the board has seen (a lease, an event), for the
    /// ticker: a snapshot's events come without the names a lease gave.
    debtor_names: HashMap<i64, String>,
    /// The newest feed item the snapshot already counts: the stream may
    /// bring it again, and it must not be counted twice.
    counted_up_to: i64,
    /// The clocks as last drawn: a tick redraws only when they differ.
    face: String,
    pub recount: Recount,
    /// A `SETTLE_KINDS` event came since the counts were last asked for.
    unsettled: bool,
    /// When the counts were last asked for that.
    settled_at: Option<DateTime<Utc>>,
    /// The day a fresh snapshot was last asked for because "today" had
    /// ended: asked once per day, whichever clock saw it first.
    new_day_asked: Option<NaiveDate>,
}

impl Board {
    pub fn new(
        locale: Locale,
        keymap: Keymap,
        limits: BoardConfig,
        user: String,
        server: String,
        now: DateTime<Utc>,
    ) -> Board {
        Board {
            locale,
            keymap,
            limits,
            user,
            server,
            now,
            size: (80, 24),
            loaded: Remote::Loading,
            queues: Vec::new(),
            agents: Vec::new(),
            today: None,
            currency: Currency::BRL,
            ticker: VecDeque::new(),
            offline: None,
            streamed: false,
            sought: HashSet::new(),
            focus: Panel::Agents,
            queue_sel: 0,
            queues_shown: Follow::default(),
            agent_sel: None,
            agent_top: 0,
            sort: Sort::Name,
            filter: String::new(),
            overlay: None,
            notice: None,
            quit: false,
            leaving: HashSet::new(),
            names: HashMap::new(),
            debtor_names: HashMap::new(),
            lease_queues: HashMap::new(),
            counted_up_to: 0,
            face: String::new(),
            recount: Recount::Idle,
            unsettled: false,
            settled_at: None,
            new_day_asked: None,
        }
    }

    pub fn mode(&self) -> Mode {
        match &self.overlay {
            None => Mode::Board,
            Some(Overlay::Help(_)) => Mode::Help,
            Some(Overlay::Filter | Overlay::Pause { .. }) => Mode::BoardPrompt,
            Some(Overlay::Detail { .. }) => Mode::BoardDetail,
        }
    }

    /// The agents shown: filtered (any case, accents or not), then sorted.
    pub fn visible_agents(&self) -> Vec<&BoardAgent> {
        let f = name_key(&self.filter);
        let has = |text: &str| name_key(text).contains(&f);
        let mut list: Vec<&BoardAgent> = self
            .agents
            .iter()
            .filter(|a| {
                f.is_empty()
                    || has(&a.name)
                    || a.state.name().contains(&f)
                    || has(state_word(a.state, self.locale))
                    || a.reason.as_deref().is_some_and(has)
                    || a.lease.as_ref().is_some_and(|l| has(&l.debtor_name))
            })
            .collect();
        match self.sort {
            // As people read names: José among the j's, not before "ana".
            Sort::Name => list.sort_by_cached_key(|a| (name_key(&a.name), a.id)),
            Sort::State => list.sort_by_key(|a| (state_order(a.state), a.since, a.id)),
            Sort::Time => list.sort_by_key(|a| (a.since, a.id)),
            Sort::Calls => list.sort_by_key(|a| (-a.calls_today, a.name.clone())),
            Sort::Promises => list.sort_by_key(|a| (-a.promises_today, a.name.clone())),
        }
        list
    }

    pub fn visible_queues(&self) -> Vec<&BoardQueue> {
        let f = name_key(&self.filter);
        self.queues
            .iter()
            .filter(|q| f.is_empty() || name_key(&q.name).contains(&f) || q.id.contains(&f))
            .collect()
    }

    pub fn selected_agent(&self) -> Option<&BoardAgent> {
        let id = self.agent_sel?;
        self.agents.iter().find(|a| a.id == id)
    }

    /// How long an agent has been in their state, and how that looks.
    pub fn level(&self, a: &BoardAgent) -> Level {
        let secs = (self.now - a.since).num_seconds().max(0);
        let l = &self.limits;
        let (warn, alert) = match a.state {
            AgentState::Ready | AgentState::WrapUp => (l.waiting_warn, l.waiting_alert),
            AgentState::Paused => (l.paused_warn, l.paused_alert),
            AgentState::OnCall => (l.on_call_alert, l.on_call_alert),
        };
        if secs >= i64::from(alert) {
            Level::Alert
        } else if secs >= i64::from(warn) {
            Level::Warn
        } else {
            Level::Calm
        }
    }

    /// What a tick could change on screen: the clock in the top bar, the
    /// times in state of the agent rows shown (seconds only for the
    /// selected one) and their colours, the queues' oldest waits.
    fn clock_face(&self) -> String {
        let mut face = super::view::clock(self.now);
        let shown = super::view::agent_rows(self.size, self.visible_queues().len());
        for a in self
            .visible_agents()
            .into_iter()
            .skip(self.agent_top)
            .take(shown)
        {
            let selected = self.agent_sel == Some(a.id);
            face.push_str(&super::view::in_state(self.now - a.since, selected));
            face.push(char::from(b'0' + self.level(a) as u8));
        }
        for q in &self.queues {
            if let Some(t) = q.oldest_since {
                face.push_str(&crate::console::format::wait(self.now - t));
            }
        }
        if let Some(Overlay::Detail {
            detail: Detail::Agent { id, .. },
            ..
        }) = &self.overlay
            && let Some(a) = self.agents.iter().find(|a| a.id == *id)
        {
            face.push_str(&super::view::in_state(self.now - a.since, true));
        }
        face
    }

    /// Call after drawing: the clocks as they are now on screen.
    pub fn drawn(&mut self) {
        self.face = self.clock_face();
    }

    /// Applies one message; returns what to do and whether the screen
    /// changed.
    pub fn update(&mut self, msg: Msg) -> (Vec<Effect>, bool) {
        match msg {
            Msg::Tick(now) => {
                self.now = now;
                let due = self
                    .settled_at
                    .is_none_or(|t| now - t >= Duration::seconds(SETTLE_EVERY_SECONDS));
                let mut fx = if due && std::mem::take(&mut self.unsettled) {
                    self.settled_at = Some(now);
                    self.ask_recount()
                } else {
                    Vec::new()
                };
                fx.extend(self.new_day(now));
                // At the tick, not at the event: a lease given back as the
                // next is taken (one event after the other) is no leaving.
                let gone = self.let_leaving_go();
                (fx, gone || self.clock_face() != self.face)
            }
            Msg::Resize(w, h) => {
                self.size = (w, h);
                self.keep_selection_visible();
                (Vec::new(), true)
            }
            Msg::Key(k) => match self.keymap.action(self.mode(), k) {
                Some(a) => (self.act(a), true),
                None => (Vec::new(), self.type_text(k)),
            },
            Msg::Snapshot(Ok(view)) => {
                self.apply_snapshot(view);
                // A count in flight may be older than this snapshot: one
                // more after it keeps the newest.
                if self.recount == Recount::InFlight {
                    self.recount = Recount::Again;
                }
                (Vec::new(), true)
            }
            Msg::Queues(r) => {
                let changed = match r {
                    Ok(list) => self.apply_queues(list),
                    Err(e) => {
                        self.notice = Some((Severity::Error, e));
                        true
                    }
                };
                let again = self.recount == Recount::Again;
                self.recount = Recount::Idle;
                let fx = if again {
                    self.ask_recount()
                } else {
                    Vec::new()
                };
                (fx, changed)
            }
            Msg::Snapshot(Err(e)) => {
                if self.today.is_none() {
                    self.loaded = Remote::Failed(e.clone());
                }
                self.notice = Some((Severity::Error, e));
                (Vec::new(), true)
            }
            Msg::Live(live) => self.live(live),
            Msg::AgentCalls(id, r) => {
                if let Some(Overlay::Detail {
                    detail: Detail::Agent { id: shown, calls },
                    ..
                }) = &mut self.overlay
                    && *shown == id
                {
                    *calls = remote(r);
                    return (Vec::new(), true);
                }
                (Vec::new(), false)
            }
            Msg::QueueDebtors(id, r) => {
                if let Some(Overlay::Detail {
                    detail: Detail::Queue { id: shown, debtors },
                    ..
                }) = &mut self.overlay
                    && *shown == id
                {
                    *debtors = remote(r);
                    return (Vec::new(), true);
                }
                (Vec::new(), false)
            }
            Msg::Done(r) => {
                self.notice = Some(match r {
                    Ok(said) => (Severity::Info, said),
                    Err(e) => (Severity::Error, e),
                });
                (Vec::new(), true)
            }
        }
    }

    fn apply_snapshot(&mut self, view: BoardView) {
        self.loaded = Remote::Ready(());
        let newest_recent = view.recent.iter().map(|e| e.id).max().unwrap_or(0);
        self.counted_up_to = view.newest_id.max(newest_recent);
        self.queues = view.queues;
        self.agents = view.agents;
        self.names
            .extend(self.agents.iter().map(|a| (a.id, a.name.clone())));
        self.today = Some(view.today);
        // A code the board cannot read keeps the one it had.
        if let Ok(c) = Currency::read(&view.currency) {
            self.currency = c;
        }
        for a in &self.agents {
            if let Some(l) = a.lease.as_ref().filter(|l| !l.debtor_name.is_empty()) {
                self.debtor_names.insert(l.debtor_id, l.debtor_name.clone());
            }
        }
        for e in &view.recent {
            self.learn_names(e);
        }
        let mut ticker: VecDeque<FeedView> = view
            .recent
            .into_iter()
            .filter(|e| TICKER_KINDS.contains(&e.kind.as_str()))
            .collect();
        for e in &mut ticker {
            self.name_debtor(e);
        }
        self.ticker = ticker;
        while self.ticker.len() > TICKER {
            self.ticker.pop_front();
        }
        self.lease_queues.clear();
        // Here by a lease alone: they go when it ends.
        self.leaving = self
            .agents
            .iter()
            .filter(|a| !a.present)
            .map(|a| a.id)
            .collect();
        // Drawn now: asked for again should they go and come back.
        let agents = &self.agents;
        self.sought.retain(|id| !agents.iter().any(|a| a.id == *id));
        if self
            .agent_sel
            .is_none_or(|id| !self.agents.iter().any(|a| a.id == id))
        {
            self.agent_sel = self.visible_agents().first().map(|a| a.id);
        }
        self.queue_sel = self.queue_sel.min(self.queues.len().saturating_sub(1));
        self.keep_selection_visible();
    }

    /// Asks for the queue counts: at once when none is in flight, else
    /// once after it.
    fn ask_recount(&mut self) -> Vec<Effect> {
        match self.recount {
            Recount::Idle => {
                self.recount = Recount::InFlight;
                vec![Effect::LoadQueues]
            }
            Recount::InFlight | Recount::Again => {
                self.recount = Recount::Again;
                Vec::new()
            }
        }
    }

    /// Fresh queue counts; whether anything shown changed.
    fn apply_queues(&mut self, list: Vec<QueueView>) -> bool {
        let queues: Vec<BoardQueue> = list
            .into_iter()
            .map(|q| BoardQueue {
                id: q.id,
                name: q.name,
                depth: q.depth,
                callable: q.callable,
                blocked: q.blocked,
                oldest_since: q.oldest_since,
                leased: q.leased,
            })
            .collect();
        if queues == self.queues {
            return false;
        }
        self.queues = queues;
        self.queue_sel = self.queue_sel.min(self.queues.len().saturating_sub(1));
        self.keep_selection_visible();
        true
    }

    fn live(&mut self, live: Live) -> (Vec<Effect>, bool) {
        match live {
            // A new connection may have missed events: start again from a
            // snapshot (the stream resumes after it, so nothing is counted
            // twice beyond what the snapshot already holds).
            // The first snapshot too: it is asked for at start, beside the
            // stream's opening, and may have been read before the stream's
            // cursor was set, missing what came between (an agent arriving
            // then never showed).
            Live::Connected => {
                let first = !std::mem::replace(&mut self.streamed, true);
                let was_offline = self.offline.take().is_some();
                let fx = if was_offline || first {
                    vec![Effect::LoadSnapshot]
                } else {
                    Vec::new()
                };
                (fx, was_offline)
            }
            Live::Reset => (vec![Effect::LoadSnapshot], false),
            Live::SignedOut => self.live(Live::Disconnected(
                self.locale
                    .pick(
                        "sessão encerrada; abra o painel de novo",
                        "session ended; start the board again",
                    )
                    .into(),
            )),
            Live::Disconnected(why) => {
                let changed = self.offline.as_deref() != Some(why.as_str());
                self.offline = Some(why);
                (Vec::new(), changed)
            }
            Live::Event(e) => {
                let at = e.at;
                let recount = RECOUNT_KINDS.contains(&e.kind.as_str());
                let settle = SETTLE_KINDS.contains(&e.kind.as_str());
                let feed = FeedView {
                    id: e.id,
                    at: e.at,
                    kind: e.kind,
                    debtor_id: e.debtor_id,
                    user_id: e.user_id,
                    body: e.body,
                };
                // Before the snapshot, the snapshot holds the counts.
                let fresh = self.today.is_some() && feed.id > self.counted_up_to;
                let holder = (fresh && feed.kind == "lease_taken")
                    .then_some(feed.user_id)
                    .flatten();
                // The agent drilled into made or ended a call: their list
                // comes again, as their counts above it moved.
                let drilled = match &self.overlay {
                    Some(Overlay::Detail {
                        detail: Detail::Agent { id, .. },
                        ..
                    }) => Some(*id),
                    _ => None,
                };
                let calls_of = drilled.filter(|&id| {
                    fresh
                        && feed.user_id == Some(id)
                        && matches!(feed.kind.as_str(), "call_started" | "outcome_recorded")
                });
                // Their lease or presence ended: asked again at their next
                // lease, since a snapshot read meanwhile may have missed them.
                if matches!(
                    feed.kind.as_str(),
                    "lease_released" | "lease_expired" | "agent_left"
                ) {
                    let agent = feed.body["agent_id"].as_i64().or(feed.user_id);
                    let left = feed.body["user_id"].as_i64();
                    for id in [agent, left].into_iter().flatten() {
                        self.sought.remove(&id);
                    }
                }
                let changed = self.apply(feed);
                self.unsettled |= settle && fresh;
                let mut fx = if recount && fresh {
                    self.ask_recount()
                } else {
                    Vec::new()
                };
                // The floor is who is at a desk and who holds a lease: a
                // holder with no row comes from the server's floor. Asked
                // once per agent, so one the floor leaves out (never
                // signed in) does not ask at every lease.
                if let Some(agent) = holder
                    && !self.agents.iter().any(|a| a.id == agent)
                    && self.sought.insert(agent)
                {
                    fx.push(Effect::LoadSnapshot);
                }
                if !fx.iter().any(|f| matches!(f, Effect::LoadSnapshot)) {
                    fx.extend(self.new_day(at));
                }
                fx.extend(calls_of.map(Effect::LoadAgentCalls));
                (fx, changed)
            }
        }
    }

    /// An agent's name, on the floor or not.
    pub fn agent_name(&self, id: i64) -> Option<&str> {
        self.names.get(&id).map(String::as_str)
    }

    /// Takes an agent's row off; whether there was one.
    fn drop_agent(&mut self, id: i64) -> bool {
        let before = self.agents.len();
        self.agents.retain(|a| a.id != id);
        self.leaving.remove(&id);
        if self.agent_sel == Some(id) {
            self.agent_sel = self.visible_agents().first().map(|a| a.id);
        }
        self.agents.len() != before
    }

    /// Agents who left with a lease go once it has ended; whether any did.
    fn let_leaving_go(&mut self) -> bool {
        let done: Vec<i64> = self
            .agents
            .iter()
            .filter(|a| a.lease.is_none() && self.leaving.contains(&a.id))
            .map(|a| a.id)
            .collect();
        for id in &done {
            self.drop_agent(*id);
        }
        !done.is_empty()
    }

    /// One event of the feed, applied to what the board shows; whether it
    /// changed anything.
    pub fn apply(&mut self, mut e: FeedView) -> bool {
        if self.today.is_none() || e.id <= self.counted_up_to {
            // Before the snapshot (it will hold this), or already in it.
            return false;
        }
        self.counted_up_to = e.id;
        // The ticker names the debtor an agent held, as the agents' table
        // did: read before this event ends the lease that holds the name.
        self.learn_names(&e);
        if TICKER_KINDS.contains(&e.kind.as_str()) {
            self.name_debtor(&mut e);
        }
        let b = &e.body;
        let str_of = |k: &str| b[k].as_str().map(str::to_string);
        let changed = match e.kind.as_str() {
            // Arriving on the floor says the agent's state as a change does.
            "agent_state" | "agent_arrived" => {
                let Some(id) = b["user_id"].as_i64() else {
                    return false;
                };
                let state = b["state"].as_str().and_then(AgentState::parse);
                let since = b["since"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&Utc));
                let (Some(state), Some(since)) = (state, since) else {
                    return false;
                };
                let reason = str_of("reason");
                let arrived = e.kind == "agent_arrived";
                if arrived {
                    self.leaving.remove(&id);
                }
                if let Some(name) = str_of("name") {
                    self.names.insert(id, name);
                }
                match self.agents.iter_mut().find(|a| a.id == id) {
                    Some(a) => {
                        a.state = state;
                        a.reason = reason;
                        a.since = since;
                    }
                    // A state set with no console open (a script, or a
                    // supervisor's change): the floor is who is at a desk.
                    None if !arrived => return false,
                    None => self.agents.push(BoardAgent {
                        id,
                        name: str_of("name").unwrap_or_else(|| format!("#{id}")),
                        state,
                        reason,
                        since,
                        lease: None,
                        present: true,
                        // The day's so far, as the server counted them.
                        calls_today: b["calls_today"].as_i64().unwrap_or(0),
                        rpc_today: b["rpc_today"].as_i64().unwrap_or(0),
                        promises_today: b["promises_today"].as_i64().unwrap_or(0),
                    }),
                }
                if self.agent_sel.is_none() {
                    self.agent_sel = Some(id);
                }
                true
            }
            "agent_left" => {
                let Some(id) = b["user_id"].as_i64() else {
                    return false;
                };
                if self.agents.iter().any(|a| a.id == id && a.lease.is_some()) {
                    self.leaving.insert(id);
                    false
                } else {
                    self.drop_agent(id)
                }
            }
            "call_started" => {
                let Some(agent) = e.user_id else { return false };
                self.count_call(agent, str_of("queue").as_deref(), e.at);
                true
            }
            "outcome_recorded" => {
                let Some(agent) = e.user_id else { return false };
                let from = str_of("from_queue");
                // Dated when recorded: one sent late from an agent's
                // outbox belongs to the hour (or day) it happened in.
                let at = serde_json::from_value(b["recorded_at"].clone()).unwrap_or(e.at);
                // A call dialed through the server was counted when it
                // started (here, or in the snapshot): the outcome that
                // resolves it is no second call.
                if b["attempt_id"].as_i64().is_none() {
                    self.count_call(agent, from.as_deref(), at);
                }
                if !self.is_today(at) {
                    return true;
                }
                let d: Option<Disposition> = serde_json::from_value(b["disposition"].clone()).ok();
                let rpc = d.is_some_and(Disposition::is_right_party);
                let promise = d.is_some_and(|d| {
                    matches!(d, Disposition::PromiseToPay | Disposition::PaymentPlan)
                });
                let promised = match money_in(b, self.currency) {
                    true => b["promised_minor"].as_i64().unwrap_or(0),
                    false => 0,
                };
                if let Some(a) = self.agents.iter_mut().find(|a| a.id == agent) {
                    a.rpc_today += i64::from(rpc);
                    a.promises_today += i64::from(promise);
                }
                self.tally(from.as_deref(), |t| {
                    t.rpc += i64::from(rpc);
                    t.promises_made += i64::from(promise);
                    t.promised_minor = t.promised_minor.saturating_add(promised);
                });
                if promise && let Some(h) = self.hour(at) {
                    h.promises += 1;
                }
                let to = str_of("queue");
                if from != to {
                    self.move_depth(from.as_deref(), -1);
                    self.move_depth(to.as_deref(), 1);
                }
                true
            }
            // Today's, as the server counts them: by when they came.
            "payment_received" if self.is_today(e.at) => {
                let amount = match money_in(b, self.currency) {
                    true => b["amount_minor"].as_i64().unwrap_or(0),
                    false => 0,
                };
                self.tally(str_of("from_queue").as_deref(), |t| {
                    t.collected_minor = t.collected_minor.saturating_add(amount)
                });
                true
            }
            "promise_kept" if self.is_today(e.at) => {
                self.tally(str_of("from_queue").as_deref(), |t| t.promises_kept += 1);
                let day = self.today.as_ref().map(|t| t.day);
                if let Some(q) = day.and_then(|d| unbroken_on(b, d)).map(str::to_string) {
                    self.tally(Some(&q), |t| {
                        t.promises_broken = (t.promises_broken - 1).max(0)
                    });
                }
                true
            }
            "promise_broken" if self.is_today(e.at) => {
                self.tally(str_of("queue").as_deref(), |t| t.promises_broken += 1);
                true
            }
            // Another day's: the ticker's line.
            "payment_received" | "promise_kept" | "promise_broken" => true,
            "lease_taken" => {
                let (Some(agent), Some(lease_id), Some(debtor_id)) =
                    (e.user_id, b["lease_id"].as_i64(), b["debtor_id"].as_i64())
                else {
                    return false;
                };
                let expires_at = b["expires_at"]
                    .as_str()
                    .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
                    .map_or(e.at, |t| t.with_timezone(&Utc));
                // A lease run out and taken by another before the
                // scheduler said so: the first holder has it no more.
                for a in &mut self.agents {
                    if a.id != agent && a.lease.as_ref().is_some_and(|l| l.debtor_id == debtor_id) {
                        a.lease = None;
                    }
                }
                if let Some(a) = self.agents.iter_mut().find(|a| a.id == agent) {
                    a.lease = Some(BoardLease {
                        id: lease_id,
                        debtor_id,
                        debtor_name: str_of("debtor_name").unwrap_or_default(),
                        expires_at,
                    });
                }
                if let Some(q) = str_of("queue") {
                    if let Some(queue) = self.queues.iter_mut().find(|x| x.id == q) {
                        queue.leased += 1;
                        queue.callable = (queue.callable - 1).max(0);
                    }
                    self.lease_queues.insert(lease_id, q);
                }
                true
            }
            "lease_released" => {
                let lease_id = b["lease_id"].as_i64();
                for a in &mut self.agents {
                    if a.lease.as_ref().map(|l| l.id) == lease_id {
                        a.lease = None;
                    }
                }
                if let Some(q) = lease_id.and_then(|id| self.lease_queues.remove(&id))
                    && let Some(queue) = self.queues.iter_mut().find(|x| x.id == q)
                {
                    queue.leased = (queue.leased - 1).max(0);
                }
                true
            }
            // The counts come fresh from the server (`RECOUNT_KINDS`); here
            // only the agent's row.
            "lease_expired" => {
                let lease_id = b["lease_id"].as_i64();
                if let Some(id) = lease_id {
                    self.lease_queues.remove(&id);
                }
                for a in &mut self.agents {
                    if a.lease.as_ref().map(|l| l.id) == lease_id {
                        a.lease = None;
                    }
                }
                // Drawn for the ticker line.
                true
            }
            _ => false,
        };
        if TICKER_KINDS.contains(&e.kind.as_str()) {
            self.ticker.push_back(e);
            while self.ticker.len() > TICKER {
                self.ticker.pop_front();
            }
        }
        self.keep_selection_visible();
        changed
    }

    /// A snapshot of the new day, once "today" has ended by `now` (the
    /// board's clock at a tick, the server's in an event's time): the
    /// day's counts start again, and what the server counts for it comes
    /// with them (an event of the new day is not counted on the old).
    fn new_day(&mut self, now: DateTime<Utc>) -> Option<Effect> {
        let day = now.date_naive();
        let ended = self.today.as_ref().is_some_and(|t| day > t.day);
        (ended && self.new_day_asked.replace(day) != Some(day)).then_some(Effect::LoadSnapshot)
    }

    /// Whether `at` is in the board's today (the server's UTC day).
    fn is_today(&self, at: DateTime<Utc>) -> bool {
        self.today
            .as_ref()
            .is_some_and(|t| at.date_naive() == t.day)
    }

    fn count_call(&mut self, agent: i64, queue: Option<&str>, at: DateTime<Utc>) {
        if !self.is_today(at) {
            return;
        }
        if let Some(a) = self.agents.iter_mut().find(|a| a.id == agent) {
            a.calls_today += 1;
        }
        self.tally(queue, |t| t.contacts += 1);
        if let Some(h) = self.hour(at) {
            h.contacts += 1;
        }
    }

    fn hour(&mut self, at: DateTime<Utc>) -> Option<&mut HourTally> {
        let today = self.today.as_mut()?;
        if at.date_naive() != today.day {
            return None;
        }
        today.hourly.iter_mut().find(|h| h.hour == at.hour())
    }

    fn tally(&mut self, queue: Option<&str>, f: impl Fn(&mut Tally)) {
        let Some(today) = self.today.as_mut() else {
            return;
        };
        let mut all = vec![&mut today.total];
        if let Some(q) = queue {
            all.push(today.per_queue.entry(q.to_string()).or_default());
        }
        for t in all {
            f(t);
            t.rpc_rate = if t.contacts > 0 {
                t.rpc as f64 / t.contacts as f64
            } else {
                0.0
            };
        }
    }

    fn move_depth(&mut self, queue: Option<&str>, by: i64) {
        if let Some(q) = queue.and_then(|q| self.queues.iter_mut().find(|x| x.id == q)) {
            q.depth = (q.depth + by).max(0);
        }
    }

    /// Text typed into a prompt; whether it changed.
    fn type_text(&mut self, k: Key) -> bool {
        use ratatui::crossterm::event::KeyCode;
        let (field, limit) = match &mut self.overlay {
            Some(Overlay::Filter) => (&mut self.filter, usize::MAX),
            Some(Overlay::Pause { reason, .. }) => (reason, crate::api::MAX_REASON),
            _ => return false,
        };
        if k.text().is_some_and(|c| field.len() + c.len_utf8() > limit) {
            let said = match self.locale {
                Locale::PtBr => format!("o motivo vai até {} bytes", crate::api::MAX_REASON),
                Locale::En => format!("a reason is at most {} bytes", crate::api::MAX_REASON),
            };
            self.notice = Some((Severity::Warn, said));
            return true;
        }
        self.notice = None;
        match (k.code, k.text()) {
            (_, Some(c)) => field.push(c),
            (KeyCode::Backspace, _) => {
                if field.pop().is_none() {
                    return false;
                }
            }
            _ => return false,
        }
        if matches!(self.overlay, Some(Overlay::Filter)) {
            self.agent_top = 0;
            self.agent_sel = self.visible_agents().first().map(|a| a.id);
            self.queue_sel = 0;
        }
        true
    }

    fn act(&mut self, action: Action) -> Vec<Effect> {
        self.notice = None;
        match action {
            Action::Quit => self.quit = true,
            Action::Help => self.overlay = Some(Overlay::Help(Scroll::default())),
            Action::Back => match self.overlay.take() {
                // Esc in the filter drops it; Enter keeps it.
                Some(Overlay::Filter) => self.filter.clear(),
                Some(_) => {}
                None => self.filter.clear(),
            },
            Action::Filter => self.overlay = Some(Overlay::Filter),
            Action::Sort => {
                self.sort = self.sort.next();
                self.agent_top = 0;
                self.keep_selection_visible();
                self.notice = Some((
                    Severity::Info,
                    format!(
                        "{} {}",
                        self.locale.pick("agentes por", "agents by"),
                        self.sort.name(self.locale)
                    ),
                ));
            }
            Action::NextPanel | Action::PrevPanel => {
                self.focus = match self.focus {
                    Panel::Queues => Panel::Agents,
                    Panel::Agents => Panel::Queues,
                }
            }
            Action::Up | Action::Down | Action::PageUp | Action::PageDown => {
                self.step(rows(action))
            }
            Action::Select | Action::Submit => return self.select(),
            Action::PauseAgent => return self.pause(),
            Action::ReleaseLease => return self.release(),
            // And what a drill-down shows, which no event keeps current.
            Action::Refresh => {
                let detail = match &self.overlay {
                    Some(Overlay::Detail {
                        detail: Detail::Agent { id, .. },
                        ..
                    }) => Some(Effect::LoadAgentCalls(*id)),
                    Some(Overlay::Detail {
                        detail: Detail::Queue { id, .. },
                        ..
                    }) => Some(Effect::LoadQueueDebtors(id.clone())),
                    _ => None,
                };
                return [Effect::LoadSnapshot].into_iter().chain(detail).collect();
            }
            _ => {}
        }
        Vec::new()
    }

    fn step(&mut self, by: i32) {
        if let Some(Overlay::Detail { scroll, .. } | Overlay::Help(scroll)) = &mut self.overlay {
            scroll.by(by);
            return;
        }
        let by = by as isize;
        match self.focus {
            Panel::Queues => {
                let n = self.visible_queues().len();
                self.queue_sel = self
                    .queue_sel
                    .saturating_add_signed(by)
                    .min(n.saturating_sub(1));
            }
            Panel::Agents => {
                let list = self.visible_agents();
                let at = self
                    .agent_sel
                    .and_then(|id| list.iter().position(|a| a.id == id))
                    .unwrap_or(0);
                let to = at
                    .saturating_add_signed(by)
                    .min(list.len().saturating_sub(1));
                self.agent_sel = list.get(to).map(|a| a.id);
                self.keep_selection_visible();
            }
        }
    }

    /// The name of a debtor an agent on the floor holds.
    /// The debtor's and the agent's names an event gives, kept for later
    /// events that do not.
    fn learn_names(&mut self, e: &FeedView) {
        if let (Some(d), Some(name)) = (e.debtor_id, e.body["debtor_name"].as_str())
            && !name.is_empty()
        {
            self.debtor_names.insert(d, name.to_string());
        }
        if let (Some(u), Some(name)) = (e.user_id, e.body["agent_name"].as_str()) {
            self.names.insert(u, name.to_string());
        }
    }

    /// Puts the debtor's name in a ticker item that lacks it: the lease
    /// that held them, or one seen before.
    fn name_debtor(&self, e: &mut FeedView) {
        let known = self
            .held_name(e.debtor_id)
            .or_else(|| e.debtor_id.and_then(|d| self.debtor_names.get(&d).cloned()));
        if let Some(name) = known
            && let Some(body) = e.body.as_object_mut()
        {
            body.entry("debtor_name").or_insert(name.into());
        }
    }

    fn held_name(&self, debtor: Option<i64>) -> Option<String> {
        let debtor = debtor?;
        self.agents
            .iter()
            .filter_map(|a| a.lease.as_ref())
            .find(|l| l.debtor_id == debtor && !l.debtor_name.is_empty())
            .map(|l| l.debtor_name.clone())
    }

    fn keep_selection_visible(&mut self) {
        let rows = super::view::agent_rows(self.size, self.visible_queues().len()).max(1);
        let list = self.visible_agents();
        let Some(at) = self
            .agent_sel
            .and_then(|id| list.iter().position(|a| a.id == id))
        else {
            self.agent_top = self.agent_top.min(list.len().saturating_sub(rows));
            return;
        };
        if at < self.agent_top {
            self.agent_top = at;
        } else if at >= self.agent_top + rows {
            self.agent_top = at + 1 - rows;
        }
    }

    fn select(&mut self) -> Vec<Effect> {
        match self.overlay.take() {
            Some(Overlay::Pause {
                agent,
                name,
                reason,
            }) => {
                let reason = reason.trim().to_string();
                if reason.is_empty() {
                    self.notice = Some((
                        Severity::Warn,
                        self.locale
                            .pick("uma pausa precisa de motivo", "a pause needs a reason")
                            .into(),
                    ));
                    self.overlay = Some(Overlay::Pause {
                        agent,
                        name,
                        reason,
                    });
                    return Vec::new();
                }
                return vec![Effect::SetState {
                    agent,
                    state: AgentState::Paused,
                    reason: Some(reason),
                }];
            }
            Some(Overlay::Filter) => return Vec::new(),
            Some(other) => {
                self.overlay = Some(other);
                return Vec::new();
            }
            None => {}
        }
        match self.focus {
            Panel::Agents => {
                let Some(a) = self.selected_agent() else {
                    return Vec::new();
                };
                let id = a.id;
                self.overlay = Some(Overlay::Detail {
                    detail: Detail::Agent {
                        id,
                        calls: Remote::Loading,
                    },
                    scroll: Scroll::default(),
                });
                vec![Effect::LoadAgentCalls(id)]
            }
            Panel::Queues => {
                let Some(q) = self
                    .visible_queues()
                    .get(self.queue_sel)
                    .map(|q| q.id.clone())
                else {
                    return Vec::new();
                };
                self.overlay = Some(Overlay::Detail {
                    detail: Detail::Queue {
                        id: q.clone(),
                        debtors: Remote::Loading,
                    },
                    scroll: Scroll::default(),
                });
                vec![Effect::LoadQueueDebtors(q)]
            }
        }
    }

    /// The agent an action is about: the one drilled into, else the
    /// selected one when the agents have the focus.
    pub fn target_agent(&self) -> Option<&BoardAgent> {
        match &self.overlay {
            Some(Overlay::Detail {
                detail: Detail::Agent { id, .. },
                ..
            }) => self.agents.iter().find(|a| a.id == *id),
            None if self.focus == Panel::Agents => self.selected_agent(),
            _ => None,
        }
    }

    /// An agent action with no agent to act on: says so, does nothing.
    fn no_agent_chosen(&mut self) -> Vec<Effect> {
        let text = self
            .locale
            .pick("escolha um agente antes", "select an agent first");
        self.notice = Some((Severity::Warn, text.into()));
        Vec::new()
    }

    fn pause(&mut self) -> Vec<Effect> {
        let Some(a) = self.target_agent() else {
            return self.no_agent_chosen();
        };
        if a.state == AgentState::Paused {
            return vec![Effect::SetState {
                agent: a.id,
                state: AgentState::Ready,
                reason: None,
            }];
        }
        self.overlay = Some(Overlay::Pause {
            agent: a.id,
            name: a.name.clone(),
            reason: String::new(),
        });
        Vec::new()
    }

    fn release(&mut self) -> Vec<Effect> {
        let Some(a) = self.target_agent() else {
            return self.no_agent_chosen();
        };
        match &a.lease {
            Some(l) => vec![Effect::ReleaseLease(l.id)],
            None => {
                self.notice = Some((
                    Severity::Warn,
                    format!(
                        "{} {}",
                        a.name,
                        self.locale.pick("não tem reserva", "holds no lease")
                    ),
                ));
                Vec::new()
            }
        }
    }
}

fn remote<T>(r: Result<T, String>) -> Remote<T> {
    match r {
        Ok(t) => Remote::Ready(t),
        Err(e) => Remote::Failed(e),
    }
}

/// Who needs a look first when sorting by state.
fn state_order(s: AgentState) -> u8 {
    match s {
        AgentState::Paused => 0,
        AgentState::Ready => 1,
        AgentState::WrapUp => 2,
        AgentState::OnCall => 3,
    }
}
