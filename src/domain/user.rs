//! The people who use regua, by what they may do.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    Admin,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a role (agent, supervisor or admin)")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> Result<Role, UnknownRole> {
        match s {
            "agent" => Ok(Role::Agent),
            "supervisor" => Ok(Role::Supervisor),
            "admin" => Ok(Role::Admin),
            other => Err(UnknownRole(other.to_string())),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
}

impl User {
    /// The longest user name, in bytes.
    pub const MAX_NAME: usize = 64;

    /// Why `name` cannot be a user's: it is typed to sign in and shown on
    /// every board, so it is short, printable and without spaces around it.
    pub fn name_problem(name: &str) -> Option<String> {
        if name.is_empty() {
            Some("a user name cannot be empty".into())
        } else if name.len() > User::MAX_NAME {
            Some(format!(
                "a user name is at most {} bytes; this one is {}",
                User::MAX_NAME,
                name.len()
            ))
        } else if name.chars().any(char::is_control) {
            Some("a user name has no control characters".into())
        } else if name.trim() != name {
            Some("a user name has no spaces around it".into())
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_user_name_is_short_printable_and_trimmed() {
        for good in ["ana", "maria.souza", "José Carlos", &"a".repeat(64)] {
            assert_eq!(User::name_problem(good), None, "{good}");
        }
        for bad in ["", " ana", "ana ", "an\u{1b}a", "ana\n", &"a".repeat(65)] {
            assert!(User::name_problem(bad).is_some(), "{bad:?}");
        }
    }
}
