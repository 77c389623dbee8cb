//! The config file: `REGUA_CONFIG`, or `config.toml` in the user's config
//! directory (on Linux `~/.config/regua/`). Every key is documented in
//! `config.example.toml`; an unknown key or a bad value stops regua with the
//! file, line and key, never silently ignored. Flags beat the file.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

use crate::domain::Locale;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Language of money and dates: "pt-BR" or "en".
    #[serde(default)]
    pub locale: Locale,
    /// The policy file `regua simulate` uses without `--policy` (relative
    /// paths are from the config file's folder).
    pub policy: Option<PathBuf>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.key,
                self.message
            )
        }
    }
}

/// Where the config file is looked for when `REGUA_CONFIG` is not set.
pub fn default_path() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "regua").map(|d| d.config_dir().join("config.toml"))
}

/// Parses config text; `path` names it in errors and anchors relative paths.
pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
    let mut config: Config = toml::from_str(text).map_err(|e| {
        let start = e.span().map_or(0, |s| s.start).min(text.len());
        let before = &text[..start];
        let line = before.matches('\n').count() + 1;
        let line_text = text[before.rfind('\n').map_or(0, |i| i + 1)..]
            .lines()
            .next()
            .unwrap_or("");
        ConfigError {
            path: path.to_path_buf(),
            line,
            column: before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1,
            key: line_text
                .split_once('=')
                .map_or(line_text, |(k, _)| k)
                .trim()
                .to_string(),
            message: e.message().trim().to_string(),
        }
    })?;
    if let (Some(policy), Some(dir)) = (&config.policy, path.parent())
        && policy.is_relative()
    {
        config.policy = Some(dir.join(policy));
    }
    Ok(config)
}

/// Loads the config: `explicit` (from `REGUA_CONFIG`) must exist; the
/// default file may be absent, which means the defaults.
pub fn load(explicit: Option<PathBuf>) -> Result<Config, ConfigError> {
    let (path, required) = match explicit {
        Some(p) => (p, true),
        None => match default_path() {
            Some(p) => (p, false),
            None => return Ok(Config::default()),
        },
    };
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text),
        Err(e) if !required && e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
        Err(e) => Err(ConfigError {
            path,
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read: {e}"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_config_is_valid() {
        let text = include_str!("../config.example.toml");
        let c = parse(Path::new("/etc/regua/config.toml"), text).unwrap();
        assert_eq!(c.locale, Locale::PtBr);
    }

    #[test]
    fn relative_policy_paths_are_from_the_config_folder() {
        let c = parse(
            Path::new("/etc/regua/config.toml"),
            "policy = \"policy.toml\"\nlocale = \"en\"\n",
        )
        .unwrap();
        assert_eq!(c.policy, Some(PathBuf::from("/etc/regua/policy.toml")));
        assert_eq!(c.locale, Locale::En);
    }

    #[test]
    fn unknown_keys_and_bad_values_name_line_and_key() {
        let e = parse(Path::new("c.toml"), "locale = \"en\"\ncolour = \"blue\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "colour"));
        assert!(e.message.contains("unknown field"), "{}", e.message);
        let e = parse(Path::new("c.toml"), "\n\nlocale = \"fr\"\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (3, "locale"));
        assert!(e.to_string().starts_with("c.toml:3:"), "{e}");
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let e = load(Some(PathBuf::from("/nonexistent/regua.toml"))).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
