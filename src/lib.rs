//! regua: a terminal console for debt-collection call centres, and the
//! collection server and engine behind it. Layers depend downward only:
//! `domain`, `schedule` and `scripts` are pure (a policy carries its talking
//! points, which `scripts` checks and compiles as the policy file loads);
//! `simulate` runs the engine on a synthetic portfolio; `api` is the wire
//! both server and clients speak; `server` serves it over a `Store`;
//! `client` reaches any server for the console and the board.

pub mod api;
pub mod board;
pub mod client;
pub mod config;
pub mod console;
pub mod domain;
pub mod embedded;
pub mod import;
pub mod launch;
pub mod schedule;
pub mod scripts;
pub mod server;
pub mod simulate;
pub mod ssh;
