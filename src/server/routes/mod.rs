//! The API's routes, one module per area.

pub mod agents;
pub mod board;
pub mod calls;
pub mod debtors;
pub mod events;
pub mod import;
pub mod outcomes;
pub mod payments;
pub mod queues;
pub mod sessions;
