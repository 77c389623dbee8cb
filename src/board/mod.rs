//! The supervisor's live board: queues, agents, today's figures and a
//! ticker of events, over any regua server reached only through `client`.
//! A snapshot, then the live stream applied locally; drawn only when
//! something on screen changed. The loop runs on any `Write` with keys
//! from a channel, so the local terminal and an SSH session share it.

pub mod keys;
pub mod model;
pub mod run;
#[cfg(test)]
mod tests;
pub mod view;
