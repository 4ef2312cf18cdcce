//! User interfaces that answer without a user: for unattended devices and tests.

use super::{Interaction, Kind, UiAnswer, UserInterface};

/// Says yes to everything (DM Protocol 1.3 §10.2): 1100 and 1101 are accepted (200); 1102
/// answers the DR text or an empty text; 1103 the DR choice or the first; 1104 the DR choices
/// or none. MINDT and MAXDT do not apply: the answer is immediate.
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoAccept;

impl UserInterface for AutoAccept {
    fn interact(&mut self, i: &Interaction) -> UiAnswer {
        let dr = i.default_answer();
        match i.kind {
            Kind::Display | Kind::Confirm => UiAnswer::Accept,
            Kind::TextInput => dr.unwrap_or_else(|| UiAnswer::Input(vec!["".into()])),
            Kind::SingleChoice => dr.unwrap_or_else(|| UiAnswer::Input(vec!["1".into()])),
            Kind::MultipleChoice => dr.unwrap_or(UiAnswer::Input(Vec::new())),
        }
    }
}

/// Says no to everything: 1101 is rejected (304), 1102-1104 are cancelled (214, which stops
/// the message, §10.2). A 1100 display cannot be refused and answers 200.
#[derive(Clone, Copy, Debug, Default)]
pub struct AutoReject;

impl UserInterface for AutoReject {
    fn interact(&mut self, i: &Interaction) -> UiAnswer {
        match i.kind {
            Kind::Display => UiAnswer::Accept,
            Kind::Confirm => UiAnswer::Reject,
            _ => UiAnswer::Cancel,
        }
    }
}
