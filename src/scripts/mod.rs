//! Talking points: the debtor's situation (read from their record, history
//! and plan) chooses the points the policy wrote for it, rendered with the
//! debtor's facts and the offers the policy allows. Pure: time comes in.
//!
//! The policy file's `[[scripts.point]]` entries are compiled here when the
//! policy loads (`schedule::policy_file` reads the file and places errors);
//! each point is checked against the facts its situation and stage may name,
//! so a mistake is reported then, with its line, not during a call.

mod facts;
mod points;
mod situation;

#[cfg(test)]
mod tests;

pub use facts::{Facts, Owing, PromiseFacts, max_installments};
pub use points::{LOCALES, Part, Point, Problem, Source, Stage, TalkingPoints};
pub use situation::{Case, CaseError, Situation, case};
