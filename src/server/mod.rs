//! The collection server: the store behind it (SQLite for one desk,
//! PostgreSQL for a call centre).

pub mod store;
