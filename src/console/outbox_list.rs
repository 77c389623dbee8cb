//! The outbox screen: what the agent recorded that has not reached the
//! server yet, waiting or refused. A waiting write goes by itself; a
//! refused one stays until the agent decides: send it again once its cause
//! is gone (another agent finished with the debtor), or give it up, which
//! is asked twice because the record is then lost.

use chrono::{DateTime, Utc};

use super::action::Action;
use super::app::{Remote, Severity};
use super::scroll::Follow;
use crate::api::OutcomeRequest;
use crate::client::outbox::Gist;
use crate::domain::Locale;

/// A write kept in the outbox, as the agent reads it.
#[derive(Clone, Debug, PartialEq)]
pub struct Unsent {
    pub id: i64,
    pub debtor_id: Option<i64>,
    /// Whom it is about, what its amounts are in and its times' zone, as
    /// known when it was recorded.
    pub gist: Gist,
    /// The outcome it records, when its body reads as one.
    pub outcome: Option<OutcomeRequest>,
    /// Refused for good: waits for the agent.
    pub failed: bool,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Whose it is (`user@server`) when another's: it waits for them, and
    /// only they may send it again or give it up.
    pub owner: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct OutboxList {
    pub items: Remote<Vec<Unsent>>,
    pub sel: usize,
    pub shown: Follow,
    /// The refused item `discard` was asked for once; asking again on it
    /// gives it up.
    pub discarding: Option<i64>,
    reading: Reading,
}

/// Whether the list is being read from the file.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
enum Reading {
    #[default]
    Idle,
    Once,
    /// Something changed while it was read: once more after it.
    Again,
}

/// The actions this screen answers; the help lists only these.
pub const ACTIONS: &[Action] = &[
    Action::Up,
    Action::Down,
    Action::Select,
    Action::Retry,
    Action::Discard,
    Action::Refresh,
    Action::Back,
    Action::Help,
    Action::Quit,
];

/// What the console does about a key on this screen.
#[derive(Clone, Debug, PartialEq)]
pub enum Next {
    None,
    Load,
    Retry(i64),
    Discard(i64),
    /// Open the debtor the selected write is about.
    Open(i64),
    Say(Severity, String),
}

impl OutboxList {
    pub fn selected(&self) -> Option<&Unsent> {
        self.items.ready().and_then(|items| items.get(self.sel))
    }

    /// `again` is the key that confirms a discard, for saying so.
    pub fn act(&mut self, action: Action, again: &str, locale: Locale) -> Next {
        let pick = |pt: &str, en: &str| locale.pick(pt, en).to_string();
        let asked = self.discarding.take();
        // Its debtor number may be another server's, too.
        if let (Action::Retry | Action::Discard | Action::Select, Some(owner)) =
            (action, self.selected().and_then(|u| u.owner.as_ref()))
        {
            return Next::Say(
                Severity::Info,
                match locale {
                    Locale::PtBr => format!(
                        "este registro é de {owner}: vai quando entrarem no regua com esse usuário e servidor, neste computador"
                    ),
                    Locale::En => format!(
                        "this record is {owner}'s: it goes when they sign in to regua with that user and server, on this computer"
                    ),
                },
            );
        }
        match action {
            Action::Up | Action::Down => {
                let n = self.items.ready().map_or(0, Vec::len);
                self.sel = if action == Action::Down {
                    (self.sel + 1).min(n.saturating_sub(1))
                } else {
                    self.sel.saturating_sub(1)
                };
                Next::None
            }
            Action::Refresh => Next::Load,
            Action::Select => match self.selected().and_then(|u| u.debtor_id) {
                Some(id) => Next::Open(id),
                None => Next::None,
            },
            Action::Retry => match self.selected() {
                Some(u) if u.failed => Next::Retry(u.id),
                Some(_) => Next::Say(
                    Severity::Info,
                    pick(
                        "este ainda não foi recusado: o envio segue sozinho",
                        "this one was not refused: it is still being sent",
                    ),
                ),
                None => Next::None,
            },
            Action::Discard => match self.selected() {
                Some(u) if u.failed && asked == Some(u.id) => Next::Discard(u.id),
                Some(u) if u.failed => {
                    self.discarding = Some(u.id);
                    Next::Say(
                        Severity::Warn,
                        match locale {
                            Locale::PtBr => format!(
                                "descartar este registro? ele não chega ao servidor: {again} de novo para confirmar"
                            ),
                            Locale::En => format!(
                                "discard this record? it never reaches the server: {again} again to confirm"
                            ),
                        },
                    )
                }
                Some(_) => Next::Say(
                    Severity::Warn,
                    pick(
                        "só se descarta um registro recusado; este ainda está sendo enviado",
                        "only a refused record can be discarded; this one is still being sent",
                    ),
                ),
                None => Next::None,
            },
            _ => Next::None,
        }
    }

    /// Whether to read the list now: not while a read is on its way (one
    /// more follows it instead).
    pub fn read_again(&mut self) -> bool {
        match self.reading {
            Reading::Idle => {
                self.reading = Reading::Once;
                true
            }
            Reading::Once | Reading::Again => {
                self.reading = Reading::Again;
                false
            }
        }
    }

    /// The outbox as read again; the selection stays on its item when it
    /// is still there. True when it must be read once more.
    pub fn arrived(&mut self, items: Result<Vec<Unsent>, String>) -> bool {
        let again = self.reading == Reading::Again;
        self.reading = if again { Reading::Once } else { Reading::Idle };
        let was = self.selected().map(|u| u.id);
        self.items = match items {
            Ok(items) => {
                self.sel = was
                    .and_then(|id| items.iter().position(|u| u.id == id))
                    .unwrap_or(self.sel)
                    .min(items.len().saturating_sub(1));
                Remote::Ready(items)
            }
            Err(e) => Remote::Failed(e),
        };
        again
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Disposition;

    fn unsent(id: i64, failed: bool) -> Unsent {
        Unsent {
            id,
            debtor_id: Some(100 + id),
            gist: Gist::default(),
            outcome: Some(OutcomeRequest::of(Disposition::NoAnswer)),
            failed,
            attempts: 1,
            last_error: None,
            created_at: DateTime::UNIX_EPOCH,
            owner: None,
        }
    }

    fn list(items: Vec<Unsent>) -> OutboxList {
        let mut l = OutboxList::default();
        l.arrived(Ok(items));
        l
    }

    #[test]
    fn a_refused_item_is_discarded_only_when_asked_twice_in_a_row() {
        let mut l = list(vec![unsent(1, true), unsent(2, true)]);
        let first = l.act(Action::Discard, "d", Locale::PtBr);
        assert!(
            matches!(&first, Next::Say(Severity::Warn, s) if s.contains("d de novo para confirmar")),
            "{first:?}"
        );
        assert_eq!(l.act(Action::Discard, "d", Locale::PtBr), Next::Discard(1));
        // Asked, then moved away: the question lapses.
        l.act(Action::Discard, "d", Locale::PtBr);
        l.act(Action::Down, "d", Locale::PtBr);
        assert!(matches!(
            l.act(Action::Discard, "d", Locale::PtBr),
            Next::Say(..)
        ));
        assert_eq!(l.act(Action::Discard, "d", Locale::PtBr), Next::Discard(2));
        // Any other action between the two presses lapses it too (a key
        // no action claims lapses it in `App::text`).
        l.act(Action::Discard, "d", Locale::PtBr);
        l.act(Action::Refresh, "d", Locale::PtBr);
        assert!(matches!(
            l.act(Action::Discard, "d", Locale::PtBr),
            Next::Say(..)
        ));
    }

    #[test]
    fn anothers_item_is_left_to_them_and_says_whose_it_is() {
        let theirs = Unsent {
            owner: Some("bruno@embedded".into()),
            ..unsent(1, true)
        };
        let mut l = list(vec![theirs]);
        for action in [
            Action::Retry,
            Action::Discard,
            Action::Discard,
            Action::Select,
        ] {
            let Next::Say(Severity::Info, text) = l.act(action, "d", Locale::En) else {
                panic!("{action:?} acted on another's record");
            };
            assert!(text.contains("bruno@embedded"), "{text}");
        }
    }

    #[test]
    fn a_waiting_item_is_neither_retried_nor_discarded() {
        let mut l = list(vec![unsent(1, false), unsent(2, true)]);
        assert!(matches!(
            l.act(Action::Retry, "d", Locale::En),
            Next::Say(Severity::Info, _)
        ));
        l.act(Action::Discard, "d", Locale::En);
        assert!(matches!(
            l.act(Action::Discard, "d", Locale::En),
            Next::Say(Severity::Warn, _)
        ));
        l.act(Action::Down, "d", Locale::En);
        assert_eq!(l.act(Action::Retry, "d", Locale::En), Next::Retry(2));
        assert_eq!(l.act(Action::Select, "d", Locale::En), Next::Open(102));
    }

    #[test]
    fn one_read_at_a_time_and_one_more_after_a_change_meanwhile() {
        let mut l = OutboxList::default();
        assert!(l.read_again(), "the first read goes");
        assert!(!l.read_again(), "not while it is on its way");
        assert!(!l.read_again());
        assert!(l.arrived(Ok(vec![])), "one more after it, not two");
        assert!(!l.arrived(Ok(vec![])));
        assert!(l.read_again());
    }

    #[test]
    fn the_selection_follows_its_item_when_the_list_changes() {
        let mut l = list(vec![unsent(1, false), unsent(2, true), unsent(3, true)]);
        l.act(Action::Down, "d", Locale::En);
        l.act(Action::Down, "d", Locale::En);
        assert_eq!(l.selected().map(|u| u.id), Some(3));
        // 1 was delivered: 3 moved up a row and stays selected.
        l.arrived(Ok(vec![unsent(2, true), unsent(3, true)]));
        assert_eq!(l.selected().map(|u| u.id), Some(3));
        // 3 was discarded: the selection stays in the list.
        l.arrived(Ok(vec![unsent(2, true)]));
        assert_eq!(l.selected().map(|u| u.id), Some(2));
        l.arrived(Ok(vec![]));
        assert_eq!(l.selected(), None);
        assert_eq!(l.act(Action::Retry, "d", Locale::En), Next::None);
    }
}
