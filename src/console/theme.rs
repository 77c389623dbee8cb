//! Colours by meaning. Views ask for a role (`overdue`, `promise`,
//! `danger`...); a theme file says what each looks like. The three themes in
//! `themes/` are built in; a path names a theme file of one's own. With
//! `NO_COLOR` set, nothing is coloured and emphasis stays (bold, reverse).

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

const BUILT_IN: &[(&str, &str)] = &[
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

macro_rules! roles {
    ($($role:ident),* $(,)?) => {
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub struct Theme {
            $(pub $role: Color,)*
            pub plain: bool,
        }

        const ROLE_NAMES: &[&str] = &[$(stringify!($role),)*];

        impl Theme {
            fn set(&mut self, role: &str, colour: Color) {
                match role {
                    $(stringify!($role) => self.$role = colour,)*
                    _ => unreachable!("roles are checked before"),
                }
            }
        }
    };
}

roles!(
    text, muted, title, border, focus, selected, ok, warn, danger, overdue, promise, paid, pending,
);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeFile {
    parent: Option<String>,
    #[serde(default)]
    roles: BTreeMap<String, String>,
}

impl Default for Theme {
    fn default() -> Theme {
        Theme::load("dark", None).expect("the built-in dark theme is valid")
    }
}

impl Theme {
    /// `name` is a built-in theme or a path to a theme file; `NO_COLOR`
    /// (any value) turns colour off.
    pub fn load(name: &str, no_color: Option<&str>) -> Result<Theme, String> {
        let mut theme = Theme::from_chain(name, 0)?;
        theme.plain = no_color.is_some();
        Ok(theme)
    }

    fn from_chain(name: &str, depth: u8) -> Result<Theme, String> {
        if depth > 4 {
            return Err(format!("theme {name:?}: parents go round in a circle"));
        }
        let (label, text) = match BUILT_IN.iter().find(|(n, _)| *n == name) {
            Some((n, t)) => (format!("themes/{n}.toml"), t.to_string()),
            None => {
                let text = std::fs::read_to_string(Path::new(name)).map_err(|e| {
                    let names: Vec<_> = BUILT_IN.iter().map(|(n, _)| *n).collect();
                    format!(
                        "theme {name:?}: not a built-in theme ({}) and cannot read it as a file: {e}",
                        names.join(", ")
                    )
                })?;
                (name.to_string(), text)
            }
        };
        let file: ThemeFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map_or(0, |s| text[..s.start].matches('\n').count() + 1);
            format!("{label}:{line}: {}", e.message().trim())
        })?;
        let mut theme = match &file.parent {
            Some(parent) => Theme::from_chain(parent, depth + 1)?,
            None => Theme::blank(),
        };
        for (role, colour) in &file.roles {
            if !ROLE_NAMES.contains(&role.as_str()) {
                return Err(format!(
                    "{label}: roles.{role}: no such role (roles: {})",
                    ROLE_NAMES.join(", ")
                ));
            }
            let colour = parse_colour(colour).map_err(|e| format!("{label}: roles.{role}: {e}"))?;
            theme.set(role, colour);
        }
        Ok(theme)
    }

    fn blank() -> Theme {
        Theme {
            text: Color::Reset,
            muted: Color::Reset,
            title: Color::Reset,
            border: Color::Reset,
            focus: Color::Reset,
            selected: Color::Reset,
            ok: Color::Reset,
            warn: Color::Reset,
            danger: Color::Reset,
            overdue: Color::Reset,
            promise: Color::Reset,
            paid: Color::Reset,
            pending: Color::Reset,
            plain: false,
        }
    }

    /// Text in a role's colour.
    pub fn fg(&self, colour: Color) -> Style {
        if self.plain {
            Style::default()
        } else {
            Style::default().fg(colour)
        }
    }

    /// The selected line: a background in colour, reverse video without.
    pub fn selection(&self) -> Style {
        if self.plain {
            Style::default().add_modifier(Modifier::REVERSED)
        } else {
            Style::default()
                .bg(self.selected)
                .add_modifier(Modifier::BOLD)
        }
    }

    /// What needs the eye at once: bold always, coloured when allowed.
    pub fn alert(&self, colour: Color) -> Style {
        self.fg(colour).add_modifier(Modifier::BOLD)
    }
}

fn parse_colour(text: &str) -> Result<Color, String> {
    if text == "default" {
        return Ok(Color::Reset);
    }
    if let Some(hex) = text.strip_prefix('#') {
        if hex.len() == 6
            && let Ok(rgb) = u32::from_str_radix(hex, 16)
        {
            return Ok(Color::Rgb((rgb >> 16) as u8, (rgb >> 8) as u8, rgb as u8));
        }
        return Err(format!("{text:?} is not a #rrggbb colour"));
    }
    text.replace('-', "")
        .parse::<Color>()
        .map_err(|_| format!("{text:?} is not a colour (a name like light-red, or #rrggbb)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_themes_load() {
        for (name, _) in BUILT_IN {
            let t = Theme::load(name, None).unwrap();
            assert!(!t.plain);
        }
        let light = Theme::load("light", None).unwrap();
        assert_eq!(light.focus, Color::Rgb(0, 0, 0xff));
        // The child names what differs; the rest comes from the parent.
        assert_eq!(light.text, Theme::default().text);
        assert_ne!(light.selected, Theme::default().selected);
    }

    #[test]
    fn no_color_keeps_emphasis_and_drops_colour() {
        let t = Theme::load("dark", Some("1")).unwrap();
        assert_eq!(t.fg(t.danger), Style::default());
        assert!(t.selection().add_modifier.contains(Modifier::REVERSED));
        assert!(t.alert(t.danger).add_modifier.contains(Modifier::BOLD));
    }

    #[test]
    fn bad_themes_say_what_and_where() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mine.toml");
        std::fs::write(&path, "parent = \"dark\"\n[roles]\noverdue = \"blurple\"\n").unwrap();
        let e = Theme::load(path.to_str().unwrap(), None).unwrap_err();
        assert!(e.contains("roles.overdue") && e.contains("blurple"), "{e}");
        std::fs::write(&path, "[roles]\nsparkle = \"red\"\n").unwrap();
        let e = Theme::load(path.to_str().unwrap(), None).unwrap_err();
        assert!(e.contains("roles.sparkle: no such role"), "{e}");
        std::fs::write(&path, "[roles]\ntext = \"red\"\ncolour = 3\n").unwrap();
        let e = Theme::load(path.to_str().unwrap(), None).unwrap_err();
        assert!(e.contains("mine.toml:3:"), "{e}");
        let e = Theme::load("solarized", None).unwrap_err();
        assert!(
            e.contains("not a built-in theme (dark, light, high-contrast)"),
            "{e}"
        );
    }
}
