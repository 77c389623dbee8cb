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

use serde::Deserialize;

use crate::domain::Locale;
use crate::scripts::LOCALES;
use crate::server::error::ApiError;

/// `?locale=`: the language of what a call returns for people to read
/// (queue names, talking points); pt-BR when absent.
#[derive(Deserialize)]
pub struct LocaleQuery {
    #[serde(default)]
    locale: Option<String>,
}

impl LocaleQuery {
    pub fn locale(&self) -> Result<Locale, ApiError> {
        let Some(code) = self.locale.as_deref().filter(|c| !c.is_empty()) else {
            return Ok(Locale::default());
        };
        // Language tags are case-insensitive (BCP 47).
        LOCALES
            .into_iter()
            .find(|l| l.code().eq_ignore_ascii_case(code))
            .ok_or_else(|| {
                ApiError::invalid(
                    "locale",
                    format!("'{code}' is not a locale regua speaks (pt-BR, en)"),
                )
            })
    }
}
