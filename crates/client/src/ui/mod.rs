//! User interaction: the alerts 1100-1104 parsed into an [`Interaction`], and the user
//! interfaces that answer them (DM Protocol 1.3 §10).
//!
//! An [`Interaction`] is read from the Alert's Items in the order they were sent (§10.2: "DM
//! Client MUST preserve the order of the Item elements"): the first Item holds the options
//! (§10.3), the second the text, and from the third on the choices of 1103/1104, numbered
//! from 1. A [`UserInterface`] answers it with a [`UiAnswer`], which the executor turns into the
//! Status of §10.2: 200 (with the text or the chosen numbers as Status Items), 304, 214, 408 or
//! 406. [`callback`] plugs a `UserInterface` into [`Executor::with_ui`](crate::Executor::with_ui).

mod auto;
mod options;
mod script;
mod terminal;

use omadm_syncml::{Alert, AlertCode, Item};

pub use crate::executor::UiAnswer;
pub use auto::{AutoAccept, AutoReject};
pub use options::{EchoType, InputType, UiOptions};
pub use script::{ScriptError, ScriptStep, Scripted};
pub use terminal::Terminal;

/// Which user interaction an alert asks for (DM Protocol 1.3 §10.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 1100: show a text (§10.2.1).
    Display,
    /// 1101: yes or no (§10.2.2).
    Confirm,
    /// 1102: type a text (§10.2.3).
    TextInput,
    /// 1103: pick one choice (§10.2.4).
    SingleChoice,
    /// 1104: pick any number of choices (§10.2.4).
    MultipleChoice,
}

impl Kind {
    /// The kind of a user interaction alert code; `None` for other codes.
    pub fn from_code(code: AlertCode) -> Option<Kind> {
        Some(match code {
            AlertCode::DISPLAY => Kind::Display,
            AlertCode::CONFIRM_OR_REJECT => Kind::Confirm,
            AlertCode::TEXT_INPUT => Kind::TextInput,
            AlertCode::SINGLE_CHOICE => Kind::SingleChoice,
            AlertCode::MULTIPLE_CHOICE => Kind::MultipleChoice,
            _ => return None,
        })
    }

    /// True for 1103 and 1104.
    pub fn is_choice(self) -> bool {
        matches!(self, Kind::SingleChoice | Kind::MultipleChoice)
    }
}

/// A user interaction alert, parsed (DM Protocol 1.3 §10.2, §10.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interaction {
    /// What is asked.
    pub kind: Kind,
    /// The text of the second Item: the message, question, prompt or title of the list.
    pub text: String,
    /// The choices of 1103/1104 (Items three on), in the order sent; choice `n` is
    /// `choices[n - 1]`. Empty for the other kinds.
    pub choices: Vec<String>,
    /// The options of the first Item.
    pub options: UiOptions,
}

impl Interaction {
    /// Parses a user interaction alert. `Err(406)` when the alert is not one of 1100-1104
    /// (§10.2: "MUST report 406"); `Err(400)` when an option is malformed, the text Item is
    /// missing, a choice alert has no choice, or an Item's data is not text.
    ///
    /// Items after the text of 1100-1102 are ignored. An options or text Item without Data is
    /// empty (the §10.2.2 example sends `<Item></Item>` for "no optional parameters").
    pub fn from_alert(a: &Alert) -> Result<Interaction, u16> {
        let kind = a.code().and_then(Kind::from_code).ok_or(406u16)?;
        let (opts, text, choices) = match a.items.as_slice() {
            [opts, text, rest @ ..] => (opts, text, rest),
            _ => return Err(400),
        };
        let options = UiOptions::parse(&text_of(opts)?)?;
        let text = text_of(text)?;
        let choices = if kind.is_choice() {
            if choices.is_empty() {
                return Err(400);
            }
            choices.iter().map(text_of).collect::<Result<_, _>>()?
        } else {
            Vec::new()
        };
        Ok(Interaction {
            kind,
            text,
            choices,
            options,
        })
    }

    /// The default answer of the DR option (§10.3.3) as a [`UiAnswer`], when DR is set and
    /// valid for the kind: 1101 `1` accepts and `0` rejects; 1102 its text; 1103 a choice
    /// number in range; 1104 a `-`-separated list of such numbers. `None` otherwise (and
    /// always for 1100, where DR is ignored).
    pub fn default_answer(&self) -> Option<UiAnswer> {
        let dr = self.options.default.as_deref()?;
        match self.kind {
            Kind::Display => None,
            Kind::Confirm => match dr.trim() {
                "1" => Some(UiAnswer::Accept),
                "0" => Some(UiAnswer::Reject),
                _ => None,
            },
            Kind::TextInput => Some(UiAnswer::Input(vec![dr.into()])),
            Kind::SingleChoice => self.choice(dr).map(|n| UiAnswer::Input(vec![n.into()])),
            Kind::MultipleChoice => {
                let picked: Option<Vec<_>> = dr.split('-').map(|p| self.choice(p)).collect();
                picked.map(|v| UiAnswer::Input(v.into_iter().map(Into::into).collect()))
            }
        }
    }

    /// `s` as a choice number in range, normalised (`"02"` is `"2"`).
    pub fn choice(&self, s: &str) -> Option<String> {
        let n: usize = s.trim().parse().ok()?;
        (1..=self.choices.len()).contains(&n).then(|| n.to_string())
    }
}

fn text_of(item: &Item) -> Result<String, u16> {
    match &item.data {
        None => Ok(String::new()),
        Some(d) => d.as_text().map(str::to_owned).ok_or(400),
    }
}

/// Something that asks the user (DM Protocol 1.3 §10.2).
pub trait UserInterface {
    /// Shows `i` and returns the user's answer. [`UiAnswer::Input`] carries the text typed for
    /// 1102 and the chosen numbers (1-based, as decimal text) for 1103/1104.
    fn interact(&mut self, i: &Interaction) -> UiAnswer;
}

/// Answers the user interaction alert `a` with `ui`: an alert that does not parse answers the
/// parser's status ([`UiAnswer::NotSupported`] for 406, [`UiAnswer::Malformed`] for 400)
/// without asking the user.
pub fn answer(ui: &mut dyn UserInterface, a: &Alert) -> UiAnswer {
    match Interaction::from_alert(a) {
        Ok(i) => ui.interact(&i),
        Err(406) => UiAnswer::NotSupported,
        Err(_) => UiAnswer::Malformed,
    }
}

/// The callback for [`Executor::with_ui`](crate::Executor::with_ui) that asks `ui`:
///
/// ```
/// use omadm_client::{ui, Executor};
/// # let (mut tree, mut plugins) = (omadm_tree::Tree::default(), Default::default());
/// let mut user = ui::AutoReject;
/// let mut cb = ui::callback(&mut user);
/// let exec = Executor::new(&mut tree, &mut plugins, "srv", "1", 1).with_ui(&mut cb);
/// # drop(exec);
/// ```
pub fn callback<'a>(ui: &'a mut dyn UserInterface) -> impl FnMut(&Alert) -> UiAnswer + 'a {
    move |a| answer(ui, a)
}
