//! The agent console: a terminal UI over any regua server, the embedded one
//! included, reached only through `client`.

pub mod action;
pub mod app;
pub mod control;
pub mod dial;
pub mod format;
pub mod keymap;
pub mod outbox_list;
pub mod outcome_form;
pub mod run;
pub mod scroll;
pub mod terminal;
#[cfg(test)]
mod tests;
pub mod theme;
pub mod views;
pub mod words;
