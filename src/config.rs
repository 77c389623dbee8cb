//! The config file: `REGUA_CONFIG`, or `config.toml` in the user's config
//! directory (on Linux `~/.config/regua/`). Every key is documented in
//! `config.example.toml`; an unknown key or a bad value stops regua with the
//! file, line and key, never silently ignored. Flags beat the file.

use serde::Deserialize;
use std::collections::BTreeMap;
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
    /// The server the console and board use; none means the embedded one.
    #[serde(skip)]
    pub server: Option<String>,
    #[serde(default, rename = "server")]
    raw_server: Option<toml::Spanned<String>>,
    /// Who logs in to `server` (the password comes from a prompt or
    /// `REGUA_PASSWORD`).
    pub user: Option<String>,
    /// A built-in theme (dark, light, high-contrast) or a theme file.
    pub theme: Option<String>,
    /// The program and arguments run to place a call, with placeholders.
    #[serde(default)]
    dial_command: Option<toml::Spanned<Vec<String>>>,
    #[serde(default)]
    keys: BTreeMap<String, BTreeMap<String, toml::Spanned<toml::Value>>>,
    #[serde(default, rename = "commands")]
    raw_commands: BTreeMap<String, toml::Spanned<RawCommand>>,
    /// `[commands.<name>]`: the agent's own programs, in the file's order.
    #[serde(skip)]
    pub commands: Vec<UserCommand>,
    /// When the board's time-in-state turns to warning and alert colours.
    #[serde(skip)]
    pub board: BoardConfig,
    #[serde(default, rename = "board")]
    raw_board: Option<toml::Spanned<BoardConfig>>,
    /// The key bindings of `[keys.<screen>]`, each with its line.
    #[serde(skip)]
    pub bindings: Vec<KeyBinding>,
    /// Where the config came from, to name it in later errors.
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

/// `[board]`: seconds in a state before the board colours it as a warning,
/// then as an alert. A wrap-up is watched like waiting.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct BoardConfig {
    pub waiting_warn: u32,
    pub waiting_alert: u32,
    pub paused_warn: u32,
    pub paused_alert: u32,
    pub on_call_alert: u32,
}

impl Default for BoardConfig {
    fn default() -> BoardConfig {
        BoardConfig {
            waiting_warn: 60,
            waiting_alert: 300,
            paused_warn: 60,
            paused_alert: 300,
            on_call_alert: 600,
        }
    }
}

/// One line of a `[keys.<screen>]` table: `"key" = "action"`, or a chain
/// `"key" = ["action", "command", …]` done in turn.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyBinding {
    pub mode: String,
    pub key: String,
    /// Action or command names; one for a plain binding.
    pub steps: Vec<String>,
    pub line: usize,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
struct RawCommand {
    run: Vec<String>,
    help: Option<String>,
    #[serde(default)]
    background: bool,
}

/// A program the agent runs on the debtor on screen (a CRM page, a pager,
/// a script), its arguments filled as `dial_command`'s are.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserCommand {
    /// What a key binding calls it.
    pub name: String,
    pub run: Vec<String>,
    /// What it does, for the help screen.
    pub help: Option<String>,
    /// Runs beside the console (a browser, a notifier) instead of taking
    /// the terminal until it ends (a pager, an editor).
    pub background: bool,
    pub line: usize,
}

/// What `dial_command` and a command's `run` may name; each becomes part
/// of one argument, never a shell string.
pub const PLACEHOLDERS: &[&str] = &["phone", "debtor_id", "external_id", "name"];

impl Config {
    pub fn dial_command(&self) -> Option<&[String]> {
        self.dial_command.as_ref().map(|c| c.get_ref().as_slice())
    }
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
    // Where each line starts, once: counting the newlines before every
    // key made a file of 40,000 commands take 13 s to read.
    let starts: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    let line_of = |offset: usize| starts.partition_point(|&nl| nl < offset) + 1;
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
    let bad = |line: usize, key: String, message: String| ConfigError {
        path: path.to_path_buf(),
        line,
        column: 1,
        key,
        message,
    };
    if let Some(server) = &config.raw_server {
        let line = line_of(server.span().start);
        check_server(server.get_ref()).map_err(|m| bad(line, "server".into(), m))?;
        config.server = Some(server.get_ref().clone());
    }
    if let Some(board) = config.raw_board.take() {
        let line = line_of(board.span().start);
        config.board = board.into_inner();
        let b = config.board;
        for (warn, alert, what) in [
            (b.waiting_warn, b.waiting_alert, "waiting"),
            (b.paused_warn, b.paused_alert, "paused"),
        ] {
            if warn >= alert {
                return Err(bad(
                    line,
                    format!("board.{what}_warn"),
                    format!("{warn} is not before {what}_alert ({alert}): a warning comes first"),
                ));
            }
        }
    }
    if let Some(cmd) = &config.dial_command {
        let line = line_of(cmd.span().start);
        check_program(cmd.get_ref(), "softphone\", \"--call\", \"{phone}")
            .map_err(|m| bad(line, "dial_command".into(), m))?;
    }
    for (name, raw) in &config.raw_commands {
        let line = line_of(raw.span().start);
        let key = format!("commands.{name}");
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            return Err(bad(
                line,
                key,
                "a command's name is lower-case letters, digits and -".into(),
            ));
        }
        check_program(
            &raw.get_ref().run,
            "xdg-open\", \"https://crm.example/{external_id}",
        )
        .map_err(|m| bad(line, format!("{key}.run"), m))?;
        config.commands.push(UserCommand {
            name: name.clone(),
            run: raw.get_ref().run.clone(),
            help: raw.get_ref().help.clone(),
            background: raw.get_ref().background,
            line,
        });
    }
    config.commands.sort_by_key(|c| c.line);
    for (mode, table) in &config.keys {
        for (key, value) in table {
            let line = line_of(value.span().start);
            let steps = match value.get_ref() {
                toml::Value::String(one) => Some(vec![one.clone()]),
                toml::Value::Array(chain) if !chain.is_empty() => chain
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>(),
                _ => None,
            };
            let Some(steps) = steps else {
                return Err(bad(
                    line,
                    format!("keys.{mode}.{key:?}"),
                    "an action's name, or a list of names done in turn, e.g. \"call\" or [\"release-lease\", \"lease-next\"]".into(),
                ));
            };
            config.bindings.push(KeyBinding {
                mode: mode.clone(),
                key: key.clone(),
                steps,
                line,
            });
        }
    }
    config.bindings.sort_by_key(|b| b.line);
    config.path = Some(path.to_path_buf());
    if let (Some(policy), Some(dir)) = (&config.policy, path.parent())
        && policy.is_relative()
    {
        config.policy = Some(dir.join(policy));
    }
    // A theme file beside the config, as the policy is (a built-in
    // theme's name is no file there).
    if let (Some(theme), Some(dir)) = (&config.theme, path.parent())
        && Path::new(theme).is_relative()
        && dir.join(theme).is_file()
    {
        config.theme = Some(dir.join(theme).to_string_lossy().into_owned());
    }
    Ok(config)
}

/// A server's address as the console and board reach it (and as
/// `--server` takes it: a bare `host:port` is http).
fn check_server(text: &str) -> Result<(), String> {
    crate::client::base_url(text)
        .map(|_| ())
        .map_err(|e| format!("{e}; e.g. \"https://regua.example.com\" or \"127.0.0.1:7878\""))
}

/// A program and its arguments, as `dial_command` and a command's `run`
/// take them: a program first, and only known placeholders.
fn check_program(args: &[String], example: &str) -> Result<(), String> {
    if args.first().is_none_or(|p| p.trim().is_empty()) {
        return Err(format!("needs a program, e.g. [\"{example}\"]"));
    }
    for arg in args {
        if arg.matches('{').count() != arg.matches('}').count() {
            return Err(format!(
                "{arg:?}: a placeholder is written whole, like {{external_id}}"
            ));
        }
        for name in placeholders(arg) {
            if !PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "unknown placeholder {{{name}}} (known: {})",
                    PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
    }
    Ok(())
}

/// The `{name}`s in a dial argument.
pub fn placeholders(arg: &str) -> impl Iterator<Item = &str> {
    arg.split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
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
    fn every_commented_setting_in_the_example_is_valid_too() {
        // The example shows optional settings commented out; switched on,
        // each must still be a valid config.
        let text: String = include_str!("../config.example.toml")
            .lines()
            .map(|l| match l.strip_prefix("# ") {
                Some(rest) if rest.contains(" = ") || rest.starts_with('[') => rest,
                _ => l,
            })
            .collect::<Vec<_>>()
            .join("\n");
        let c = parse(Path::new("/etc/regua/config.toml"), &text).unwrap();
        assert_eq!(c.server.as_deref(), Some("https://regua.example.com"));
        assert_eq!(c.dial_command().unwrap()[0], "softphone");
        assert_eq!(c.bindings.len(), 6);
        assert_eq!(c.commands[0].name, "crm");
        // And its keys resolve: the chain's actions, the command's name.
        crate::console::keymap::Keymap::with(&c.bindings, &c.commands).unwrap();
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
    fn key_bindings_keep_their_lines() {
        let c = parse(
            Path::new("c.toml"),
            "locale = \"en\"\n[keys.workspace]\n\"ctrl-d\" = \"call\"\nc = \"none\"\n",
        )
        .unwrap();
        let lines: Vec<_> = c
            .bindings
            .iter()
            .map(|b| (b.key.as_str(), b.line))
            .collect();
        assert_eq!(lines, vec![("ctrl-d", 3), ("c", 4)]);
        assert_eq!(c.bindings[0].steps, vec!["call"]);
    }

    #[test]
    fn a_dial_command_names_only_known_placeholders() {
        let c = parse(
            Path::new("c.toml"),
            "dial_command = [\"softphone\", \"--to\", \"tel:{phone}\", \"{debtor_id}\"]\n",
        )
        .unwrap();
        assert_eq!(c.dial_command().unwrap().len(), 4);
        let e = parse(Path::new("c.toml"), "\ndial_command = [\"x\", \"{cpf}\"]\n").unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "dial_command"));
        assert!(e.message.contains("unknown placeholder {cpf}"), "{e}");
        let e = parse(Path::new("c.toml"), "dial_command = []\n").unwrap_err();
        assert!(e.message.contains("needs a program"), "{e}");
    }

    #[test]
    fn commands_and_chains_are_read_with_their_lines() {
        let text = "[commands.crm]\nrun = [\"xdg-open\", \"https://crm/{external_id}\"]\nhelp = \"abrir no CRM\"\nbackground = true\n\n[commands.notes]\nrun = [\"less\", \"/notes/{debtor_id}\"]\n\n[keys.workspace]\n\"ctrl-o\" = \"crm\"\nN = [\"release-lease\", \"lease-next\"]\n";
        let c = parse(Path::new("c.toml"), text).unwrap();
        let names: Vec<_> = c
            .commands
            .iter()
            .map(|c| (c.name.as_str(), c.line, c.background))
            .collect();
        assert_eq!(names, vec![("crm", 1, true), ("notes", 6, false)]);
        assert_eq!(c.commands[0].help.as_deref(), Some("abrir no CRM"));
        assert_eq!(c.commands[1].run, vec!["less", "/notes/{debtor_id}"]);
        let steps: Vec<_> = c
            .bindings
            .iter()
            .map(|b| (b.steps.clone(), b.line))
            .collect();
        assert_eq!(
            steps,
            vec![
                (vec!["crm".to_string()], 10),
                (
                    vec!["release-lease".to_string(), "lease-next".to_string()],
                    11
                )
            ]
        );
    }

    #[test]
    fn a_bad_command_or_chain_names_its_line() {
        let e = parse(
            Path::new("c.toml"),
            "\n[commands.crm]\nrun = [\"x\", \"{cpf}\"]\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "commands.crm.run"));
        assert!(e.message.contains("unknown placeholder {cpf}"), "{e}");
        let e = parse(Path::new("c.toml"), "[commands.crm]\nrun = []\n").unwrap_err();
        assert!(e.message.contains("needs a program"), "{e}");
        let e = parse(
            Path::new("c.toml"),
            "[commands.crm]\nrun = [\"x\"]\nshell = true\n",
        )
        .unwrap_err();
        assert!(e.message.contains("unknown field"), "{e}");
        let e = parse(Path::new("c.toml"), "[commands.Open_CRM]\nrun = [\"x\"]\n").unwrap_err();
        assert_eq!(e.key, "commands.Open_CRM");
        for bad in ["3", "[]", "[\"call\", 3]"] {
            let e = parse(
                Path::new("c.toml"),
                &format!("[keys.workspace]\n\nx = {bad}\n"),
            )
            .unwrap_err();
            assert_eq!(
                (e.line, e.key.as_str()),
                (3, "keys.workspace.\"x\""),
                "{bad}"
            );
            assert!(e.message.contains("list of names"), "{e}");
        }
    }

    #[test]
    fn board_thresholds_default_and_overlay() {
        let c = parse(Path::new("c.toml"), "[board]\npaused_alert = 900\n").unwrap();
        assert_eq!(c.board.paused_alert, 900);
        assert_eq!(c.board.waiting_warn, 60);
        let e = parse(Path::new("c.toml"), "[board]\n\npaused = 1\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        // A warning after its alert would never show.
        let e = parse(
            Path::new("c.toml"),
            "\n[board]\nwaiting_warn = 600\nwaiting_alert = 60\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.key.as_str()), (2, "board.waiting_warn"), "{e}");
    }

    #[test]
    fn a_server_that_is_no_address_names_its_line() {
        for bad in ["\"\"", "\"not a url\"", "\"ftp://x\""] {
            let e = parse(
                Path::new("c.toml"),
                &format!("locale = \"en\"\nserver = {bad}\n"),
            )
            .unwrap_err();
            assert_eq!((e.line, e.key.as_str()), (2, "server"), "{e}");
        }
        for good in [
            "https://regua.example.com",
            "127.0.0.1:7878",
            "localhost:7878",
        ] {
            let c = parse(Path::new("c.toml"), &format!("server = \"{good}\"\n")).unwrap();
            assert_eq!(c.server.as_deref(), Some(good));
        }
    }

    #[test]
    fn a_placeholder_left_open_is_named() {
        let e = parse(
            Path::new("c.toml"),
            "[commands.crm]\nrun = [\"x\", \"{external_id\"]\n",
        )
        .unwrap_err();
        assert_eq!(e.key, "commands.crm.run");
        assert!(e.message.contains("written whole"), "{e}");
    }

    #[test]
    fn a_theme_file_is_found_beside_the_config() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("mine.toml"), "").unwrap();
        let config = dir.path().join("config.toml");
        let c = parse(&config, "theme = \"mine.toml\"\n").unwrap();
        assert_eq!(
            c.theme,
            Some(dir.path().join("mine.toml").display().to_string())
        );
        let c = parse(&config, "theme = \"light\"\n").unwrap();
        assert_eq!(c.theme.as_deref(), Some("light"));
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let e = load(Some(PathBuf::from("/nonexistent/regua.toml"))).unwrap_err();
        assert!(e.to_string().contains("cannot read"), "{e}");
    }
}
