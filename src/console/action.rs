//! Every change of state starts as a named action. Keys, and later the
//! command palette and custom commands, produce these names; nothing else
//! changes the console's state.

use std::fmt;
use std::str::FromStr;

macro_rules! actions {
    ($($variant:ident = $name:literal: $help:literal,)*) => {
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
        pub enum Action {
            $($variant,)*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The kebab-case name used in the config file and the palette.
            pub fn name(self) -> &'static str {
                match self {
                    $(Action::$variant => $name,)*
                }
            }

            /// What it does, in English (the help screen translates).
            pub fn help(self) -> &'static str {
                match self {
                    $(Action::$variant => $help,)*
                }
            }
        }
    };
}

actions! {
    Quit = "quit": "quit regua",
    Help = "help": "show the keys of this screen",
    Back = "back": "close, cancel or go back",
    Search = "search": "find a debtor by name, CPF or id",
    LeaseNext = "lease-next": "take the next debtor from the queue",
    Call = "call": "call the debtor (when the law and the policy allow)",
    RecordOutcome = "record-outcome": "record what came of the contact",
    NextPanel = "next-panel": "move to the next panel or field",
    PrevPanel = "prev-panel": "move to the previous panel or field",
    Up = "up": "move up",
    Down = "down": "move down",
    PageUp = "page-up": "scroll a page up",
    PageDown = "page-down": "scroll a page down",
    Select = "select": "open or choose the selected line",
    FilterTimeline = "filter-timeline": "show one kind of event in the timeline",
    RevealDocument = "reveal-document": "show the full CPF/CNPJ (audited)",
    ReleaseLease = "release-lease": "give the debtor back to the queue (on the board: the selected agent's, audited)",
    Pause = "pause": "pause with a reason, or back to ready when paused",
    Submit = "submit": "submit the form",
    Refresh = "refresh": "load this screen again",
    Filter = "filter": "show only the lines that match what you type",
    Sort = "sort": "sort the agents by the next column",
    PauseAgent = "pause-agent": "pause the selected agent with a reason (audited), or set a paused one ready",
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Action {
    type Err = String;

    fn from_str(s: &str) -> Result<Action, String> {
        Action::ALL
            .iter()
            .copied()
            .find(|a| a.name() == s)
            .ok_or_else(|| format!("unknown action {s:?}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        for a in Action::ALL {
            assert_eq!(a.name().parse::<Action>(), Ok(*a));
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        assert!("launch-rockets".parse::<Action>().is_err());
    }
}
