//! regua: a terminal console for debt-collection call centres, and the
//! collection engine behind it. Layers depend downward only: `domain` and
//! `schedule` are pure; `simulate` runs the engine on a synthetic portfolio.

pub mod config;
pub mod domain;
pub mod schedule;
pub mod server;
pub mod simulate;
