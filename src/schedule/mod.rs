//! The régua engine: policy, compliance, plans with reasons, priority and
//! offers. Pure and deterministic: time comes in as an argument.

mod calendar;
pub mod compliance;
pub mod explain;
pub mod offers;
pub mod plan;
pub mod policy;
pub mod policy_file;
pub mod score;

pub use plan::{Action, Blocked, Plan, Source, State, plan};
pub use policy::Policy;
pub use policy_file::{DEFAULT_TOML, PolicyError, default_policy, load};
