//! Talking points as a policy writes them: checked and compiled when the
//! policy loads (a template naming a fact its point may not name is an
//! error then, not on the call), rendered for a case in a locale.

use minijinja::syntax::SyntaxConfig;
use minijinja::{AutoEscape, Environment, Error, UndefinedBehavior};
use std::collections::{BTreeMap, HashSet};
use std::fmt;
use std::sync::Arc;

use super::facts::{self, Facts};
use super::situation::{Case, Situation};
use crate::domain::Locale;

/// Where a point comes in the conversation. A situation's points go in this
/// order.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, PartialOrd, Ord)]
pub enum Stage {
    /// Greet and verify identity: nothing about the debt yet.
    Opening,
    /// Ask what happened, and listen: no amounts yet.
    Why,
    /// What the policy lets the agent offer.
    Options,
    /// Confirm what was agreed, and thank them.
    Closing,
}

impl Stage {
    pub const ALL: [Stage; 4] = [Stage::Opening, Stage::Why, Stage::Options, Stage::Closing];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Opening => "opening",
            Stage::Why => "why",
            Stage::Options => "options",
            Stage::Closing => "closing",
        }
    }

    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The locales every point is written in, in the order `Source` gives them.
pub const LOCALES: [Locale; 2] = [Locale::PtBr, Locale::En];

/// One talking point as written, before it is checked.
pub struct Source<'a> {
    /// The situations it is said in (one or more).
    pub situations: Vec<&'a str>,
    pub stage: &'a str,
    /// By `LOCALES`.
    pub title: [&'a str; 2],
    pub text: [&'a str; 2],
}

/// The part of a point a problem is in.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Part {
    Situation,
    Stage,
    Title(Locale),
    Text(Locale),
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Situation => f.write_str("situation"),
            Part::Stage => f.write_str("stage"),
            Part::Title(l) => write!(f, "title.{}", l.code()),
            Part::Text(l) => write!(f, "text.{}", l.code()),
        }
    }
}

#[derive(Clone, PartialEq, Eq, Debug)]
pub enum Problem {
    /// In the `point`th point (from 0), in `part`; `at` is the line and
    /// column (from 1) in its template, when known.
    Point {
        point: usize,
        part: Part,
        at: Option<(usize, usize)>,
        message: String,
    },
    /// Situations no point is written for.
    Missing(Vec<Situation>),
}

/// One point rendered for a call.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Point {
    pub stage: Stage,
    pub title: String,
    pub text: String,
}

struct Compiled {
    situations: Vec<Situation>,
    stage: Stage,
}

/// A policy's talking points, compiled: cheap to clone.
#[derive(Clone)]
pub struct TalkingPoints {
    env: Arc<Environment<'static>>,
    points: Arc<[Compiled]>,
}

impl fmt::Debug for TalkingPoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TalkingPoints")
            .field("points", &self.points.len())
            .finish()
    }
}

/// Templates are named by the policy-file key they come from, so that
/// minijinja's own messages point there too.
fn template_name(point: usize, part: Part) -> String {
    format!("scripts.point[{point}].{part}")
}

/// Line and column (from 1) of byte `offset` in `text`.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// Where in the template a minijinja error is.
fn error_at(text: &str, e: &Error) -> Option<(usize, usize)> {
    match (e.range(), e.line()) {
        (Some(range), _) => Some(position(text, range.start)),
        (None, Some(line)) => Some((line, 1)),
        (None, None) => None,
    }
}

fn describe(e: &Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

/// Where a fact's name (`promise.date`) first appears as a whole word.
fn find_name(text: &str, name: &str) -> Option<(usize, usize)> {
    let word = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    let top = name.split('.').next().unwrap_or(name);
    [name, top].into_iter().find_map(|needle| {
        text.match_indices(needle)
            .find(|(i, _)| {
                let before = text[..*i].chars().next_back();
                let after = text[i + needle.len()..].chars().next();
                !before.is_some_and(word) && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
            .map(|(i, _)| position(text, i))
    })
}

impl TalkingPoints {
    /// Checks and compiles points; every problem at once.
    pub fn compile(sources: &[Source]) -> Result<TalkingPoints, Vec<Problem>> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_auto_escape_callback(|_| AutoEscape::None);
        // `{% if %}` on a line of its own leaves no blank line behind.
        env.set_syntax(
            SyntaxConfig::builder()
                .trim_blocks(true)
                .lstrip_blocks(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        env.set_debug(true);
        let globals: HashSet<String> = env.globals().map(|(name, _)| name.to_string()).collect();
        let mut problems = Vec::new();
        let mut points = Vec::new();
        let mut reached: BTreeMap<Situation, Stage> = BTreeMap::new();
        for (i, source) in sources.iter().enumerate() {
            let mut problem = |part, at, message: String| {
                problems.push(Problem::Point {
                    point: i,
                    part,
                    at,
                    message,
                })
            };
            let mut situations = Vec::new();
            for name in &source.situations {
                match Situation::from_name(name) {
                    Some(s) if situations.contains(&s) => problem(
                        Part::Situation,
                        None,
                        format!("situation {s} is named twice"),
                    ),
                    Some(s) => situations.push(s),
                    None => {
                        let known: Vec<&str> = Situation::ALL.map(Situation::name).to_vec();
                        problem(
                            Part::Situation,
                            None,
                            format!(
                                "unknown situation '{name}' (situations: {})",
                                known.join(", ")
                            ),
                        );
                    }
                }
            }
            if source.situations.is_empty() {
                problem(
                    Part::Situation,
                    None,
                    "name at least one situation".to_string(),
                );
            }
            let situations = (situations.len() == source.situations.len()).then_some(situations);
            let stage = Stage::from_name(source.stage);
            if stage.is_none() {
                problem(
                    Part::Stage,
                    None,
                    format!(
                        "unknown stage '{}' (stages, in order: opening, why, options, closing)",
                        source.stage
                    ),
                );
            }
            if let (Some(situations), Some(stage)) = (&situations, stage) {
                for &situation in situations {
                    match reached.get(&situation) {
                        Some(&before) if stage < before => problem(
                            Part::Stage,
                            None,
                            format!(
                                "a {stage} point after a {before} point in situation \
                                 {situation}: a situation's points go opening, why, options, \
                                 closing"
                            ),
                        ),
                        _ => {
                            reached.insert(situation, stage);
                        }
                    }
                }
            }
            for (l, locale) in LOCALES.into_iter().enumerate() {
                for (part, text) in [
                    (Part::Title(locale), source.title[l]),
                    (Part::Text(locale), source.text[l]),
                ] {
                    let name = template_name(i, part);
                    if let Err(e) = env.add_template_owned(name.clone(), text.to_string()) {
                        problem(part, error_at(text, &e), describe(&e));
                        continue;
                    }
                    let (Some(situations), Some(stage)) = (&situations, stage) else {
                        continue;
                    };
                    let template = env
                        .get_template(&name)
                        .expect("the template was just added");
                    let mut named: Vec<String> = template
                        .undeclared_variables(true)
                        .into_iter()
                        .filter(|n| !globals.contains(n.split('.').next().unwrap_or(n)))
                        .collect();
                    named.sort();
                    let mut named_well = true;
                    for n in &named {
                        // One message a name, for the first situation it fails in.
                        let wrong = situations
                            .iter()
                            .find_map(|&s| facts::check(s, stage, n).err());
                        if let Some(message) = wrong {
                            problem(part, find_name(text, n), message);
                            named_well = false;
                        }
                    }
                    // Names are right: try it, for mistakes only rendering finds.
                    let tried = situations
                        .iter()
                        .filter(|_| named_well)
                        .find_map(|&s| template.render(Facts::sample(s).value(locale)).err());
                    if let Some(e) = tried {
                        problem(part, error_at(text, &e), describe(&e));
                    }
                }
            }
            // A point with a problem is not kept, but then nothing is.
            if let (Some(situations), Some(stage)) = (situations, stage) {
                points.push(Compiled { situations, stage });
            }
        }
        let missing: Vec<Situation> = Situation::ALL
            .into_iter()
            .filter(|s| !reached.contains_key(s))
            .collect();
        if !missing.is_empty() {
            problems.push(Problem::Missing(missing));
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        Ok(TalkingPoints {
            env: Arc::new(env),
            points: points.into(),
        })
    }

    /// The points of a case's situation, in order, rendered in `locale`.
    pub fn render(&self, case: &Case, locale: Locale) -> Result<Vec<Point>, Error> {
        let facts = case.facts.value(locale);
        let render = |i: usize, part: Part| -> Result<String, Error> {
            let template = self.env.get_template(&template_name(i, part))?;
            Ok(template.render(facts.clone())?.trim().to_string())
        };
        self.points
            .iter()
            .enumerate()
            .filter(|(_, p)| p.situations.contains(&case.situation))
            .map(|(i, p)| {
                Ok(Point {
                    stage: p.stage,
                    title: render(i, Part::Title(locale))?,
                    text: render(i, Part::Text(locale))?,
                })
            })
            .collect()
    }
}
