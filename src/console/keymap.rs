//! Keys to actions, per screen. The defaults live here; the config file's
//! `[keys.<screen>]` tables overlay them (`"none"` unbinds), and every
//! binding that cannot be understood is reported with its line. A console
//! key may also run one of the agent's `[commands]`, or a chain of actions
//! and commands done in turn.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

use super::action::Action;

/// Where the keys are read: each screen has its own table, and `Global`
/// answers for keys a screen leaves alone.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Mode {
    Global,
    Queues,
    Workspace,
    Outcome,
    /// The one-line prompt for a pause's reason.
    Pause,
    Search,
    Help,
    /// The outbox: writes not yet delivered, waiting or refused.
    Outbox,
    /// The supervisor's board: queues, agents, today, the ticker.
    Board,
    /// The board's drill-down into an agent or a queue.
    BoardDetail,
    /// The board's one-line prompts: the filter, a pause's reason.
    BoardPrompt,
}

impl Mode {
    pub const ALL: [Mode; 11] = [
        Mode::Global,
        Mode::Queues,
        Mode::Workspace,
        Mode::Outcome,
        Mode::Pause,
        Mode::Search,
        Mode::Help,
        Mode::Outbox,
        Mode::Board,
        Mode::BoardDetail,
        Mode::BoardPrompt,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Queues => "queues",
            Mode::Workspace => "workspace",
            Mode::Outcome => "outcome",
            Mode::Pause => "pause",
            Mode::Search => "search",
            Mode::Help => "help",
            Mode::Outbox => "outbox",
            Mode::Board => "board",
            Mode::BoardDetail => "board-detail",
            Mode::BoardPrompt => "board-prompt",
        }
    }

    /// Screens where typing goes into a text field: there, a plain
    /// character is text unless the screen itself binds it.
    pub fn takes_text(self) -> bool {
        matches!(
            self,
            Mode::Outcome | Mode::Pause | Mode::Search | Mode::BoardPrompt
        )
    }
}

/// A key with its modifiers, normalised so that `G` and `shift-g` or
/// `backtab` and `shift-backtab` are one key.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct Key {
    pub code: KeyCode,
    pub mods: KeyModifiers,
}

impl Key {
    pub fn new(code: KeyCode, mods: KeyModifiers) -> Key {
        let mods = match code {
            KeyCode::Char(_) | KeyCode::BackTab => mods - KeyModifiers::SHIFT,
            _ => mods,
        } & (KeyModifiers::CONTROL | KeyModifiers::ALT | KeyModifiers::SHIFT);
        Key { code, mods }
    }

    pub fn of(event: KeyEvent) -> Key {
        Key::new(event.code, event.modifiers)
    }

    /// A character that a text field would take.
    pub fn text(self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if (self.mods - KeyModifiers::SHIFT).is_empty() => Some(c),
            _ => None,
        }
    }
}

const NAMED: &[(&str, KeyCode)] = &[
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("backspace", KeyCode::Backspace),
    ("delete", KeyCode::Delete),
    ("insert", KeyCode::Insert),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("pgup", KeyCode::PageUp),
    ("pgdown", KeyCode::PageDown),
    ("space", KeyCode::Char(' ')),
];

impl std::str::FromStr for Key {
    type Err = String;

    /// `n`, `?`, `ctrl-j`, `alt-enter`, `shift-tab`, `f5`, `pgdown`.
    fn from_str(text: &str) -> Result<Key, String> {
        let mut mods = KeyModifiers::NONE;
        let mut rest = text;
        while let Some((head, tail)) = rest.split_once('-') {
            // "-" alone and "ctrl--" name the minus key.
            if head.is_empty() {
                break;
            }
            mods |= match head {
                "ctrl" => KeyModifiers::CONTROL,
                "alt" => KeyModifiers::ALT,
                "shift" => KeyModifiers::SHIFT,
                _ => break,
            };
            rest = tail;
        }
        let code = if let Some((_, code)) = NAMED.iter().find(|(n, _)| *n == rest) {
            *code
        } else if let Some(n) = rest.strip_prefix('f').and_then(|n| n.parse::<u8>().ok()) {
            if !(1..=12).contains(&n) {
                return Err(format!("no such key {text:?} (f1 to f12)"));
            }
            KeyCode::F(n)
        } else {
            let mut chars = rest.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) if !c.is_control() => KeyCode::Char(c),
                _ => return Err(format!("no such key {text:?}")),
            }
        };
        // What a terminal sends for these is another key's byte: bound,
        // they would be listed in help and never come (or come as that
        // key).
        if mods.contains(KeyModifiers::CONTROL)
            && let KeyCode::Char(c) = code
        {
            let same_as = match c.to_ascii_lowercase() {
                'm' => Some("enter".to_string()),
                'i' => Some("tab".to_string()),
                '[' => Some("esc".to_string()),
                lower if c.is_ascii_uppercase() => Some(format!("ctrl-{lower}")),
                _ => None,
            };
            if let Some(same_as) = same_as {
                return Err(format!(
                    "{text:?}: a terminal sends {same_as} for it; bind {same_as}"
                ));
            }
        }
        let code = match code {
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
            // What shift types: `shift-n` is `N` (the terminal sends it so).
            // With ctrl a terminal sends the same byte shifted or not
            // (ctrl-shift-a is ctrl-a), so the letter stays as it is.
            KeyCode::Char(c)
                if mods.contains(KeyModifiers::SHIFT)
                    && !mods.contains(KeyModifiers::CONTROL)
                    && c.is_lowercase() =>
            {
                let mut upper = c.to_uppercase();
                match (upper.next(), upper.next()) {
                    (Some(u), None) => KeyCode::Char(u),
                    _ => KeyCode::Char(c),
                }
            }
            // Which character shift makes of `1` depends on the keyboard.
            KeyCode::Char(c) if mods.contains(KeyModifiers::SHIFT) && !c.is_alphabetic() => {
                return Err(format!(
                    "{text:?}: write the character shift types (like ! for shift-1)"
                ));
            }
            other => other,
        };
        Ok(Key::new(code, mods))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (m, name) in [
            (KeyModifiers::CONTROL, "ctrl-"),
            (KeyModifiers::ALT, "alt-"),
            (KeyModifiers::SHIFT, "shift-"),
        ] {
            if self.mods.contains(m) {
                f.write_str(name)?;
            }
        }
        match self.code {
            KeyCode::F(n) => write!(f, "f{n}"),
            KeyCode::Char(c) if c != ' ' => write!(f, "{c}"),
            // What the keycap says; `backtab` is the terminal's word.
            KeyCode::BackTab => f.write_str("shift-tab"),
            code => {
                let name = NAMED.iter().find(|(_, c)| *c == code).map(|(n, _)| *n);
                f.write_str(name.unwrap_or("?"))
            }
        }
    }
}

pub use crate::config::KeyBinding as Binding;
use crate::config::UserCommand;
use crate::domain::Locale;

/// One thing a key does: an action, or the agent's command (by its place
/// in the keymap's list).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Action(Action),
    Command(usize),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindingError {
    pub line: usize,
    /// `keys.<mode>."<key>"`, as the config file spells it.
    pub key: String,
    pub message: String,
}

impl fmt::Display for BindingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.line, self.key, self.message)
    }
}

#[derive(Clone, Debug)]
pub struct Keymap {
    /// What each key does, in order: one step for a plain binding.
    tables: BTreeMap<Mode, HashMap<Key, Vec<Step>>>,
    commands: Vec<UserCommand>,
}

const DEFAULTS: &[(Mode, &str, Action)] = &[
    (Mode::Global, "q", Action::Quit),
    (Mode::Global, "ctrl-c", Action::Quit),
    (Mode::Global, "?", Action::Help),
    (Mode::Global, "f1", Action::Help),
    (Mode::Global, "esc", Action::Back),
    (Mode::Global, "/", Action::Search),
    (Mode::Global, "n", Action::LeaseNext),
    (Mode::Global, "p", Action::Pause),
    (Mode::Global, "e", Action::Outbox),
    (Mode::Global, "f5", Action::Refresh),
    (Mode::Global, "ctrl-r", Action::Refresh),
    (Mode::Global, "up", Action::Up),
    (Mode::Global, "k", Action::Up),
    (Mode::Global, "down", Action::Down),
    (Mode::Global, "j", Action::Down),
    (Mode::Global, "pgup", Action::PageUp),
    (Mode::Global, "pgdown", Action::PageDown),
    (Mode::Global, "enter", Action::Select),
    (Mode::Global, "tab", Action::NextPanel),
    (Mode::Global, "shift-tab", Action::PrevPanel),
    (Mode::Workspace, "c", Action::Call),
    (Mode::Workspace, "o", Action::RecordOutcome),
    (Mode::Workspace, "f", Action::FilterTimeline),
    (Mode::Workspace, "v", Action::RevealDocument),
    (Mode::Workspace, "x", Action::ReleaseLease),
    (Mode::Outcome, "ctrl-s", Action::Submit),
    (Mode::Outcome, "ctrl-q", Action::Settle),
    (Mode::Pause, "ctrl-s", Action::Submit),
    (Mode::Outbox, "r", Action::Retry),
    (Mode::Outbox, "d", Action::Discard),
    (Mode::Help, "q", Action::Back),
    (Mode::Help, "?", Action::Back),
    (Mode::Board, "/", Action::Filter),
    (Mode::Board, "s", Action::Sort),
    (Mode::Board, "p", Action::PauseAgent),
    (Mode::Board, "x", Action::ReleaseLease),
    (Mode::BoardDetail, "p", Action::PauseAgent),
    (Mode::BoardDetail, "x", Action::ReleaseLease),
    (Mode::BoardDetail, "q", Action::Back),
    (Mode::BoardPrompt, "enter", Action::Submit),
];

/// Each screen's way out.
const WAYS_OUT: &[(Mode, Action)] = &[
    (Mode::Queues, Action::Quit),
    (Mode::Workspace, Action::Quit),
    (Mode::Outcome, Action::Back),
    (Mode::Pause, Action::Back),
    (Mode::Search, Action::Back),
    (Mode::Help, Action::Back),
    (Mode::Outbox, Action::Back),
    (Mode::Board, Action::Quit),
    (Mode::BoardDetail, Action::Back),
    (Mode::BoardPrompt, Action::Back),
];

impl Default for Keymap {
    fn default() -> Keymap {
        let mut tables: BTreeMap<Mode, HashMap<Key, Vec<Step>>> = BTreeMap::new();
        for (mode, key, action) in DEFAULTS {
            let key = key.parse().expect("default keys parse");
            tables
                .entry(*mode)
                .or_default()
                .insert(key, vec![Step::Action(*action)]);
        }
        Keymap {
            tables,
            commands: Vec::new(),
        }
    }
}

impl Keymap {
    /// The defaults with the config file's bindings laid over them, and the
    /// agent's commands they may name; every bad line is reported, not only
    /// the first.
    pub fn with(
        bindings: &[Binding],
        commands: &[UserCommand],
    ) -> Result<Keymap, Vec<BindingError>> {
        let mut map = Keymap {
            commands: commands.to_vec(),
            ..Keymap::default()
        };
        let mut errors = Vec::new();
        // Each key's first binding in the file, by screen: `N` and
        // `shift-n` are one key, and the later would silently win.
        let mut bound: HashMap<(Mode, Key), (usize, &str)> = HashMap::new();
        for c in commands {
            if c.name.parse::<Action>().is_ok() || c.name == "none" {
                errors.push(BindingError {
                    line: c.line,
                    key: format!("commands.{}", c.name),
                    message: "has the name of an action: call it something else".into(),
                });
            }
        }
        for b in bindings {
            let err = |message: String| BindingError {
                line: b.line,
                key: format!("keys.{}.{:?}", b.mode, b.key),
                message,
            };
            let Some(mode) = Mode::ALL.iter().copied().find(|m| m.name() == b.mode) else {
                let names: Vec<_> = Mode::ALL.iter().map(|m| m.name()).collect();
                errors.push(err(format!(
                    "no screen {:?} (screens: {})",
                    b.mode,
                    names.join(", ")
                )));
                continue;
            };
            let key: Key = match b.key.parse() {
                Ok(k) => k,
                Err(e) => {
                    errors.push(err(e));
                    continue;
                }
            };
            match bound.entry((mode, key)) {
                Entry::Occupied(first) => {
                    let (line, spelling) = first.get();
                    errors.push(err(format!(
                        "the same key as {spelling:?} on line {line}: bind it once"
                    )));
                    continue;
                }
                Entry::Vacant(v) => {
                    v.insert((b.line, &b.key));
                }
            }
            // Bound to nothing rather than removed: the key then does
            // nothing on this screen, the global table's binding of it
            // included.
            if b.steps == ["none"] {
                map.tables.entry(mode).or_default().insert(key, Vec::new());
                continue;
            }
            let steps: Result<Vec<Step>, String> =
                b.steps.iter().map(|name| map.step(name)).collect();
            let steps = match steps {
                Ok(steps) => steps,
                Err(e) => {
                    errors.push(err(e));
                    continue;
                }
            };
            // The board reads the global table too, and takes one action.
            let board = matches!(
                mode,
                Mode::Global | Mode::Board | Mode::BoardDetail | Mode::BoardPrompt
            );
            if board && !matches!(steps.as_slice(), [Step::Action(_)]) {
                errors.push(err(
                    "the board's screens (and global, which the board reads too) take one action, not commands or chains: bind those on queues or workspace".into(),
                ));
                continue;
            }
            map.tables.entry(mode).or_default().insert(key, steps);
        }
        if errors.is_empty() {
            errors = map.ways_out_missing(bindings);
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    /// A screen whose way out (quitting, or back to what is under it) has
    /// lost its last key would hold the agent there: said at the binding
    /// that took the last key that reached it by default.
    fn ways_out_missing(&self, bindings: &[Binding]) -> Vec<BindingError> {
        let defaults = Keymap::default();
        let mut errors = Vec::new();
        for &(mode, action) in WAYS_OUT {
            if self.key_for(mode, action).is_some() {
                continue;
            }
            let took = bindings.iter().rev().find(|b| {
                (b.mode == mode.name() || b.mode == Mode::Global.name())
                    && b.key
                        .parse()
                        .is_ok_and(|k| defaults.action(mode, k) == Some(action))
            });
            errors.push(BindingError {
                line: took.map_or(0, |b| b.line),
                key: took.map_or(format!("keys.{}", mode.name()), |b| {
                    format!("keys.{}.{:?}", b.mode, b.key)
                }),
                message: format!(
                    "leaves the {} screen no key for {action}: bind one",
                    mode.name()
                ),
            });
        }
        errors
    }

    /// An action's or a command's name as a step.
    pub fn step(&self, name: &str) -> Result<Step, String> {
        if let Ok(a) = name.parse::<Action>() {
            return Ok(Step::Action(a));
        }
        match self.commands.iter().position(|c| c.name == name) {
            Some(i) => Ok(Step::Command(i)),
            None => Err(format!(
                "unknown action or command {name:?}; see `?` in the console, README's key table, or your [commands]"
            )),
        }
    }

    /// What a key does on a screen, step by step. A screen that takes text
    /// keeps plain characters for its field unless it binds them itself.
    pub fn bound(&self, mode: Mode, key: Key) -> Option<&[Step]> {
        let steps = match self.tables.get(&mode).and_then(|t| t.get(&key)) {
            Some(steps) => steps,
            None if mode.takes_text() && key.text().is_some() => return None,
            None => self.tables.get(&Mode::Global)?.get(&key)?,
        };
        (!steps.is_empty()).then_some(steps.as_slice())
    }

    /// The action a key means on a screen, when it means one action.
    pub fn action(&self, mode: Mode, key: Key) -> Option<Action> {
        match self.bound(mode, key)? {
            [Step::Action(a)] => Some(*a),
            _ => None,
        }
    }

    pub fn command(&self, i: usize) -> Option<&UserCommand> {
        self.commands.get(i)
    }

    /// The keys on a screen that run a command or a chain, each with what
    /// it does in words and its name(s), for the help screen.
    pub fn extras_for(&self, mode: Mode, locale: Locale) -> Vec<(Vec<Key>, String, String)> {
        let mut by_steps: BTreeMap<(String, String), Vec<Key>> = BTreeMap::new();
        for table in [mode, Mode::Global] {
            for key in self.tables.get(&table).into_iter().flat_map(|t| t.keys()) {
                match self.bound(mode, *key) {
                    Some(steps) if !matches!(steps, [Step::Action(_)]) => {
                        let keys = by_steps.entry(self.said(steps, locale)).or_default();
                        if !keys.contains(key) {
                            keys.push(*key);
                        }
                    }
                    _ => {}
                }
            }
        }
        by_steps
            .into_iter()
            .map(|((what, name), mut keys)| {
                keys.sort_by_key(ToString::to_string);
                (keys, what, name)
            })
            .collect()
    }

    /// Steps in words: a command by its help (or its program) and name, a
    /// chain by its names in turn.
    fn said(&self, steps: &[Step], locale: Locale) -> (String, String) {
        let name = |s: &Step| match s {
            Step::Action(a) => a.name().to_string(),
            Step::Command(i) => self.commands.get(*i).map_or("?".into(), |c| c.name.clone()),
        };
        match steps {
            [Step::Command(i)] if let Some(c) = self.commands.get(*i) => {
                let what = c.help.clone().unwrap_or_else(|| {
                    let program = c.run.first().map_or("", String::as_str);
                    locale.pick(format!("roda {program}"), format!("runs {program}"))
                });
                (what, c.name.clone())
            }
            _ => {
                let names: Vec<String> = steps.iter().map(name).collect();
                let what = locale.pick("em sequência", "in turn").to_string();
                (what, names.join(" → "))
            }
        }
    }

    /// What the help screen shows for a screen: each action with every key
    /// that reaches it there, the screen's own first.
    pub fn keys_for(&self, mode: Mode) -> Vec<(Action, Vec<Key>)> {
        let mut by_action: BTreeMap<Action, Vec<(bool, String, Key)>> = BTreeMap::new();
        for table in [mode, Mode::Global] {
            for key in self.tables.get(&table).into_iter().flat_map(|t| t.keys()) {
                if let Some(a) = self.action(mode, *key) {
                    let keys = by_action.entry(a).or_default();
                    if !keys.iter().any(|(_, _, k)| k == key) {
                        // Plain keys before named ones, then by name.
                        keys.push((key.to_string().chars().count() > 1, key.to_string(), *key));
                    }
                }
            }
        }
        by_action
            .into_iter()
            .map(|(a, mut keys)| {
                keys.sort_by(|x, y| (x.0, &x.1).cmp(&(y.0, &y.1)));
                (a, keys.into_iter().map(|(_, _, k)| k).collect())
            })
            .collect()
    }

    /// The first key bound to an action on a screen, for hints.
    pub fn key_for(&self, mode: Mode, action: Action) -> Option<Key> {
        self.keys_for(mode)
            .into_iter()
            .find(|(a, _)| *a == action)
            .and_then(|(_, keys)| keys.first().copied())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(s: &str) -> Key {
        s.parse().unwrap()
    }

    fn bind(mode: &str, k: &str, action: &str, line: usize) -> Binding {
        chain(mode, k, &[action], line)
    }

    fn chain(mode: &str, k: &str, steps: &[&str], line: usize) -> Binding {
        Binding {
            mode: mode.into(),
            key: k.into(),
            steps: steps.iter().map(|s| s.to_string()).collect(),
            line,
        }
    }

    fn command(name: &str, line: usize) -> UserCommand {
        UserCommand {
            name: name.into(),
            run: vec!["xdg-open".into(), "https://crm/{external_id}".into()],
            help: None,
            background: true,
            line,
        }
    }

    #[test]
    fn the_issue_defaults() {
        let m = Keymap::default();
        let on = |mode, k| m.action(mode, key(k));
        assert_eq!(on(Mode::Queues, "n"), Some(Action::LeaseNext));
        assert_eq!(on(Mode::Workspace, "c"), Some(Action::Call));
        assert_eq!(on(Mode::Workspace, "o"), Some(Action::RecordOutcome));
        assert_eq!(on(Mode::Queues, "/"), Some(Action::Search));
        assert_eq!(on(Mode::Workspace, "?"), Some(Action::Help));
        assert_eq!(on(Mode::Workspace, "tab"), Some(Action::NextPanel));
        assert_eq!(on(Mode::Workspace, "j"), Some(Action::Down));
        assert_eq!(on(Mode::Workspace, "up"), Some(Action::Up));
        assert_eq!(on(Mode::Outcome, "esc"), Some(Action::Back));
        assert_eq!(on(Mode::Queues, "q"), Some(Action::Quit));
        assert_eq!(on(Mode::Help, "q"), Some(Action::Back));
        assert_eq!(on(Mode::Queues, "e"), Some(Action::Outbox));
        assert_eq!(on(Mode::Workspace, "e"), Some(Action::Outbox));
        assert_eq!(on(Mode::Outbox, "r"), Some(Action::Retry));
        assert_eq!(on(Mode::Outbox, "d"), Some(Action::Discard));
        assert_eq!(on(Mode::Outbox, "esc"), Some(Action::Back));
        assert_eq!(on(Mode::Board, "/"), Some(Action::Filter));
        assert_eq!(on(Mode::Board, "enter"), Some(Action::Select));
        assert_eq!(on(Mode::Board, "p"), Some(Action::PauseAgent));
        assert_eq!(on(Mode::BoardDetail, "x"), Some(Action::ReleaseLease));
        assert_eq!(on(Mode::BoardPrompt, "enter"), Some(Action::Submit));
        assert_eq!(on(Mode::BoardPrompt, "p"), None);
    }

    #[test]
    fn text_screens_keep_plain_characters() {
        let m = Keymap::default();
        assert_eq!(m.action(Mode::Search, key("q")), None);
        assert_eq!(m.action(Mode::Search, key("j")), None);
        assert_eq!(m.action(Mode::Search, key("down")), Some(Action::Down));
        assert_eq!(m.action(Mode::Outcome, key("ctrl-s")), Some(Action::Submit));
        assert_eq!(m.action(Mode::Outcome, key("ctrl-c")), Some(Action::Quit));
    }

    #[test]
    fn keys_parse_and_print_back() {
        for k in [
            "n",
            "?",
            "ctrl-j",
            "alt-enter",
            "f5",
            "pgdown",
            "shift-tab",
            "-",
            "ctrl--",
        ] {
            assert_eq!(key(k).to_string(), k, "{k}");
        }
        assert_eq!(key("shift-tab"), key("backtab"));
        // Shift with a letter is the capital, as the terminal sends it.
        assert_eq!(key("shift-n"), key("N"));
        assert_eq!(key("shift-n").to_string(), "N");
        assert_eq!(key("ctrl-shift-a"), key("ctrl-a"), "one byte, 0x01");
        assert_eq!(key("alt-shift-a"), key("alt-A"), "ESC A");
        assert!("shift-1".parse::<Key>().is_err());
        assert_ne!(key("shift-g"), key("g"));
        assert_eq!(key("space").to_string(), "space");
        assert!("f13".parse::<Key>().is_err());
        assert!("ctrl-banana".parse::<Key>().is_err());
        assert!("".parse::<Key>().is_err());
    }

    #[test]
    fn overrides_rebind_and_unbind() {
        let m = Keymap::with(
            &[
                bind("workspace", "ctrl-d", "call", 3),
                bind("workspace", "c", "none", 4),
                bind("global", "Q", "quit", 5),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(m.action(Mode::Workspace, key("ctrl-d")), Some(Action::Call));
        assert_eq!(m.action(Mode::Workspace, key("c")), None);
        assert_eq!(m.action(Mode::Queues, key("Q")), Some(Action::Quit));
        let help = m.keys_for(Mode::Workspace);
        let call = help.iter().find(|(a, _)| *a == Action::Call).unwrap();
        assert_eq!(call.1, vec![key("ctrl-d")]);
    }

    #[test]
    fn every_bad_binding_is_reported_with_its_line() {
        let e = Keymap::with(
            &[
                bind("workspace", "ctrl-banana", "call", 3),
                bind("lobby", "c", "call", 4),
                bind("queues", "c", "dance", 5),
                bind("workspace", "N", "release-lease", 6),
                bind("workspace", "shift-n", "lease-next", 7),
                bind("queues", "N", "lease-next", 8),
            ],
            &[],
        )
        .unwrap_err();
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5, 7]);
        assert_eq!(e[3].key, "keys.workspace.\"shift-n\"");
        assert!(
            e[3].message.contains("the same key as \"N\" on line 6"),
            "{}",
            e[3]
        );
        assert!(e[0].message.contains("no such key"), "{}", e[0]);
        assert_eq!(e[1].key, "keys.lobby.\"c\"");
        assert!(
            e[2].message.contains("unknown action or command \"dance\""),
            "{}",
            e[2]
        );
    }

    #[test]
    fn none_on_a_screen_unbinds_the_global_key_there_alone() {
        let m = Keymap::with(
            &[
                bind("queues", "q", "none", 2),
                bind("queues", "/", "none", 3),
                bind("outcome", "enter", "none", 4),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(m.bound(Mode::Queues, key("q")), None);
        assert_eq!(m.bound(Mode::Queues, key("/")), None);
        assert_eq!(m.bound(Mode::Outcome, key("enter")), None);
        assert_eq!(m.action(Mode::Workspace, key("q")), Some(Action::Quit));
        // Help lists what is left.
        let quit = |mode| {
            let keys = m.keys_for(mode).into_iter();
            keys.filter(|(a, _)| *a == Action::Quit)
                .flat_map(|(_, k)| k)
        };
        let quit: Vec<String> = quit(Mode::Queues).map(|k| k.to_string()).collect();
        assert_eq!(quit, ["ctrl-c"]);
    }

    #[test]
    fn a_screen_cannot_lose_its_last_way_out() {
        let e = Keymap::with(
            &[
                bind("global", "q", "none", 2),
                bind("global", "ctrl-c", "none", 3),
                bind("search", "esc", "none", 4),
            ],
            &[],
        )
        .unwrap_err();
        let said: Vec<_> = e.iter().map(|e| (e.line, e.key.as_str())).collect();
        assert_eq!(
            said,
            [
                (3, "keys.global.\"ctrl-c\""),
                (3, "keys.global.\"ctrl-c\""),
                (4, "keys.search.\"esc\""),
                (3, "keys.global.\"ctrl-c\""),
            ],
            "{e:?}"
        );
        assert!(
            e[0].message
                .contains("leaves the queues screen no key for quit"),
            "{}",
            e[0]
        );
        // Another key for it will do.
        Keymap::with(
            &[
                bind("global", "q", "none", 2),
                bind("global", "ctrl-q", "quit", 3),
            ],
            &[],
        )
        .unwrap();
    }

    #[test]
    fn keys_a_terminal_sends_as_others_are_refused() {
        for (name, same_as) in [
            ("ctrl-D", "ctrl-d"),
            ("ctrl-m", "enter"),
            ("ctrl-i", "tab"),
            ("ctrl-[", "esc"),
            ("alt-ctrl-M", "enter"),
            ("ctrl-alt-E", "ctrl-e"),
        ] {
            let e = name.parse::<Key>().unwrap_err();
            assert!(
                e.contains(&format!("sends {same_as} for it")),
                "{name}: {e}"
            );
        }
        assert_eq!(key("ctrl-shift-d"), key("ctrl-d"));
        assert!("alt-D".parse::<Key>().is_ok());
    }

    #[test]
    fn commands_and_chains_bind_on_console_screens() {
        let m = Keymap::with(
            &[
                bind("workspace", "ctrl-o", "crm", 3),
                chain("workspace", "N", &["release-lease", "lease-next"], 4),
                chain("workspace", "ctrl-p", &["crm", "record-outcome"], 5),
                chain("queues", "N", &["lease-next", "crm"], 6),
            ],
            &[command("crm", 1)],
        )
        .unwrap();
        let ws = |k| m.bound(Mode::Workspace, key(k)).map(<[Step]>::to_vec);
        assert_eq!(ws("ctrl-o"), Some(vec![Step::Command(0)]));
        assert_eq!(
            ws("N"),
            Some(vec![
                Step::Action(Action::ReleaseLease),
                Step::Action(Action::LeaseNext)
            ])
        );
        assert_eq!(
            m.action(Mode::Workspace, key("ctrl-o")),
            None,
            "not one action"
        );
        assert_eq!(m.command(0).unwrap().name, "crm");
        // The help lists them, the command by what it runs.
        let extras = m.extras_for(Mode::Workspace, Locale::En);
        let said: Vec<_> = extras
            .iter()
            .map(|(keys, what, name)| format!("{} {what} · {name}", keys[0]))
            .collect();
        assert_eq!(
            said,
            vec![
                "ctrl-p in turn · crm → record-outcome",
                "N in turn · release-lease → lease-next",
                "ctrl-o runs xdg-open · crm",
            ]
        );
        // Each screen its own: the workspace's are not the queues'.
        assert_eq!(
            m.bound(Mode::Queues, key("N")),
            Some(&[Step::Action(Action::LeaseNext), Step::Command(0)][..])
        );
        assert!(m.bound(Mode::Queues, key("ctrl-o")).is_none());
    }

    #[test]
    fn bad_commands_and_chains_are_reported_with_their_lines() {
        let e = Keymap::with(
            &[
                chain("workspace", "x", &["crm", "dance"], 7),
                bind("board", "o", "crm", 8),
                chain("board-detail", "y", &["back", "quit"], 9),
                chain("global", "q", &["release-lease", "quit"], 10),
            ],
            &[command("crm", 1), command("call", 2)],
        )
        .unwrap_err();
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![2, 7, 8, 9, 10]);
        assert_eq!(e[0].key, "commands.call");
        assert!(e[0].message.contains("name of an action"), "{}", e[0]);
        assert!(e[1].message.contains("\"dance\""), "{}", e[1]);
        assert!(e[2].message.contains("one action"), "{}", e[2]);
        assert!(e[3].message.contains("one action"), "{}", e[3]);
        // Global serves the board too: a chain there would leave the
        // board's `q` doing nothing.
        assert!(e[4].message.contains("global"), "{}", e[4]);
    }
}
