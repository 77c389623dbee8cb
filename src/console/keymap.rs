//! Keys to actions, per screen. The defaults live here; the config file's
//! `[keys.<screen>]` tables overlay them (`"none"` unbinds), and every
//! binding that cannot be understood is reported with its line.

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
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
    pub const ALL: [Mode; 10] = [
        Mode::Global,
        Mode::Queues,
        Mode::Workspace,
        Mode::Outcome,
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
        matches!(self, Mode::Outcome | Mode::Search | Mode::BoardPrompt)
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
        let code = match code {
            KeyCode::Tab if mods.contains(KeyModifiers::SHIFT) => KeyCode::BackTab,
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
            code => {
                let name = NAMED.iter().find(|(_, c)| *c == code).map(|(n, _)| *n);
                f.write_str(name.unwrap_or("?"))
            }
        }
    }
}

pub use crate::config::KeyBinding as Binding;

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
    tables: BTreeMap<Mode, HashMap<Key, Action>>,
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
    (Mode::Global, "backtab", Action::PrevPanel),
    (Mode::Workspace, "c", Action::Call),
    (Mode::Workspace, "o", Action::RecordOutcome),
    (Mode::Workspace, "f", Action::FilterTimeline),
    (Mode::Workspace, "v", Action::RevealDocument),
    (Mode::Workspace, "x", Action::ReleaseLease),
    (Mode::Outcome, "ctrl-s", Action::Submit),
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

impl Default for Keymap {
    fn default() -> Keymap {
        let mut tables: BTreeMap<Mode, HashMap<Key, Action>> = BTreeMap::new();
        for (mode, key, action) in DEFAULTS {
            let key = key.parse().expect("default keys parse");
            tables.entry(*mode).or_default().insert(key, *action);
        }
        Keymap { tables }
    }
}

impl Keymap {
    /// The defaults with the config file's bindings laid over them; every
    /// bad line is reported, not only the first.
    pub fn with(bindings: &[Binding]) -> Result<Keymap, Vec<BindingError>> {
        let mut map = Keymap::default();
        let mut errors = Vec::new();
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
            let table = map.tables.entry(mode).or_default();
            if b.action == "none" {
                table.remove(&key);
                continue;
            }
            match b.action.parse::<Action>() {
                Ok(action) => {
                    table.insert(key, action);
                }
                Err(e) => errors.push(err(format!(
                    "{e}; see `?` in the console or README's key table"
                ))),
            }
        }
        if errors.is_empty() {
            Ok(map)
        } else {
            Err(errors)
        }
    }

    /// The action a key means on a screen. A screen that takes text keeps
    /// plain characters for its field unless it binds them itself.
    pub fn action(&self, mode: Mode, key: Key) -> Option<Action> {
        if let Some(a) = self.tables.get(&mode).and_then(|t| t.get(&key)) {
            return Some(*a);
        }
        if mode.takes_text() && key.text().is_some() {
            return None;
        }
        self.tables.get(&Mode::Global)?.get(&key).copied()
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
        Binding {
            mode: mode.into(),
            key: k.into(),
            action: action.into(),
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
            "backtab",
            "-",
            "ctrl--",
        ] {
            assert_eq!(key(k).to_string(), k, "{k}");
        }
        assert_eq!(key("shift-tab"), key("backtab"));
        assert_eq!(key("shift-g"), key("g"));
        assert_eq!(key("space").to_string(), "space");
        assert!("f13".parse::<Key>().is_err());
        assert!("ctrl-banana".parse::<Key>().is_err());
        assert!("".parse::<Key>().is_err());
    }

    #[test]
    fn overrides_rebind_and_unbind() {
        let m = Keymap::with(&[
            bind("workspace", "ctrl-d", "call", 3),
            bind("workspace", "c", "none", 4),
            bind("global", "Q", "quit", 5),
        ])
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
        let e = Keymap::with(&[
            bind("workspace", "ctrl-banana", "call", 3),
            bind("lobby", "c", "call", 4),
            bind("queues", "c", "dance", 5),
        ])
        .unwrap_err();
        let lines: Vec<_> = e.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 4, 5]);
        assert!(e[0].message.contains("no such key"), "{}", e[0]);
        assert_eq!(e[1].key, "keys.lobby.\"c\"");
        assert!(
            e[2].message.contains("unknown action \"dance\""),
            "{}",
            e[2]
        );
    }
}
