//! The API's routes, one module per area.

pub mod debtors;
pub mod outcomes;
pub mod queues;
pub mod sessions;
