//! Answers read from a script, one line per interaction.
//!
//! Script format: one step per line, used in order, one per interaction whatever its kind.
//! Blank lines and lines starting with `#` are skipped. Steps: `accept`, `reject`, `cancel`,
//! `timeout`, `text:<text>` (everything after the colon, kept as written), `choose:<n>[,<n>...]`
//! (1-based choice numbers; `choose:` alone chooses none). When the script is exhausted every
//! interaction is cancelled (214).
//!
//! A step that does not fit the interaction is answered as the user could: `accept` on 1102-1104
//! answers like [`AutoAccept`](super::AutoAccept); `text:` or `choose:` on 1100/1101 accepts;
//! `text:` on a choice, `choose:` on a text input, a choice number out of range, or several
//! numbers for a single choice cancel (214).

use std::collections::VecDeque;
use std::path::Path;

use compact_str::CompactString;

use super::{AutoAccept, Interaction, Kind, UiAnswer, UserInterface};

/// One line of a script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptStep {
    /// `accept`.
    Accept,
    /// `reject`.
    Reject,
    /// `cancel`.
    Cancel,
    /// `timeout`.
    Timeout,
    /// `text:...`.
    Text(String),
    /// `choose:n,m`.
    Choose(Vec<usize>),
}

/// Why a script could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The script file could not be read.
    #[error("reading the UI script: {0}")]
    Io(#[from] std::io::Error),
    /// A line is not a step.
    #[error("UI script line {line}: unknown step {text:?} (accept, reject, cancel, timeout, text:..., choose:n[,n...])")]
    UnknownStep {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
    /// A `choose:` line with something other than choice numbers.
    #[error("UI script line {line}: bad choice number {text:?} (1-based, comma-separated)")]
    BadChoice {
        /// 1-based line number.
        line: usize,
        /// The offending number.
        text: String,
    },
}

/// A [`UserInterface`] that plays a script (see the module doc for the format).
#[derive(Clone, Debug, Default)]
pub struct Scripted {
    steps: VecDeque<ScriptStep>,
}

impl Scripted {
    /// Parses a script; the error names the first bad line.
    pub fn parse(script: &str) -> Result<Scripted, ScriptError> {
        let mut steps = VecDeque::new();
        for (n, raw) in script.lines().enumerate() {
            let line = n + 1;
            let t = raw.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let step = match t {
                "accept" => ScriptStep::Accept,
                "reject" => ScriptStep::Reject,
                "cancel" => ScriptStep::Cancel,
                "timeout" => ScriptStep::Timeout,
                _ => {
                    if let Some(text) = raw.trim_start().strip_prefix("text:") {
                        ScriptStep::Text(text.trim_end_matches('\r').to_owned())
                    } else if let Some(list) = t.strip_prefix("choose:") {
                        ScriptStep::Choose(choices(line, list)?)
                    } else {
                        return Err(ScriptError::UnknownStep {
                            line,
                            text: t.to_owned(),
                        });
                    }
                }
            };
            steps.push_back(step);
        }
        Ok(Scripted { steps })
    }

    /// Reads and parses the script file at `path`.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Scripted, ScriptError> {
        Scripted::parse(&std::fs::read_to_string(path)?)
    }

    /// The steps not yet played.
    pub fn remaining(&self) -> usize {
        self.steps.len()
    }
}

fn choices(line: usize, list: &str) -> Result<Vec<usize>, ScriptError> {
    list.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(ScriptError::BadChoice {
                line,
                text: p.to_owned(),
            }),
        })
        .collect()
}

impl UserInterface for Scripted {
    fn interact(&mut self, i: &Interaction) -> UiAnswer {
        let Some(step) = self.steps.pop_front() else {
            return UiAnswer::Cancel;
        };
        let simple = matches!(i.kind, Kind::Display | Kind::Confirm);
        match step {
            ScriptStep::Accept => AutoAccept.interact(i),
            ScriptStep::Reject => UiAnswer::Reject,
            ScriptStep::Cancel => UiAnswer::Cancel,
            ScriptStep::Timeout => UiAnswer::Timeout,
            ScriptStep::Text(_) | ScriptStep::Choose(_) if simple => UiAnswer::Accept,
            ScriptStep::Text(t) if i.kind == Kind::TextInput => UiAnswer::Input(vec![t.into()]),
            ScriptStep::Choose(v) if i.kind.is_choice() => {
                let in_range = v.iter().all(|n| (1..=i.choices.len()).contains(n));
                if !in_range || (i.kind == Kind::SingleChoice && v.len() != 1) {
                    return UiAnswer::Cancel;
                }
                UiAnswer::Input(
                    v.iter()
                        .map(|n| CompactString::from(n.to_string()))
                        .collect(),
                )
            }
            ScriptStep::Text(_) | ScriptStep::Choose(_) => UiAnswer::Cancel,
        }
    }
}
