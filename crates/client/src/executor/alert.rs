//! Alerts from the server: the user interaction alerts 1100-1104 (DM Protocol 1.3 §10.2).

use compact_str::CompactString;
use omadm_syncml::{Alert, AlertCode, Command, Data, Item};

use super::{Answer, Executor};

/// How the user answered a user interaction alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UiAnswer {
    /// Yes / OK: 200.
    Accept,
    /// No to a 1101 confirmation: 304 (DM Protocol 1.3 §10.2.2: "If the answer is 'No', the
    /// status code 304 ... is returned"). For 1102-1104 it counts as [`UiAnswer::Cancel`]; a
    /// 1100 display cannot be refused (200).
    Reject,
    /// The user cancelled: 214, and processing of the message stops; the commands not yet run
    /// answer 215 (DM Protocol 1.3 §10.2).
    Cancel,
    /// The user did not answer in time: 408.
    Timeout,
    /// The text entered (1102) or the choices made (1103, 1104): 200, one Status Item each.
    Input(Vec<CompactString>),
    /// The device cannot show this alert: 406 (DM Protocol 1.3 §10.2).
    NotSupported,
    /// The alert's Items or options (DM Protocol 1.3 §10.3) are malformed: 400.
    Malformed,
}

impl Executor<'_> {
    pub(super) fn alert(&mut self, a: &Alert) -> Answer {
        let code = a.code();
        let (status, items) = match code {
            None => (400, Vec::new()),
            Some(c) if (1100..=1104).contains(&c.0) => self.ask(a, c),
            // Session alerts (1222 next message, 1223 abort, 1226 ...) belong to the session.
            Some(c) if (1200..=1299).contains(&c.0) => {
                return Answer {
                    ok: true,
                    ..Answer::default()
                }
            }
            Some(_) => (406, Vec::new()),
        };
        let rejected = status == 304;
        if status == 214 {
            self.cancelled = true;
        }
        let mut out = Vec::new();
        if !a.no_resp {
            let mut s = self.status("Alert", &a.cmd_id, status, None);
            if let Command::Status(st) = &mut s {
                st.items = items;
            }
            out.push(s);
        }
        Answer {
            ok: status == 200,
            rejected,
            out,
        }
    }

    fn ask(&mut self, a: &Alert, code: AlertCode) -> (u16, Vec<Item>) {
        let answer = match self.ui.as_mut() {
            Some(ui) => ui(a),
            None => UiAnswer::Accept,
        };
        let confirm = code == AlertCode::CONFIRM_OR_REJECT;
        let display = code == AlertCode::DISPLAY;
        match answer {
            UiAnswer::Accept => (200, Vec::new()),
            UiAnswer::Reject if display => (200, Vec::new()),
            UiAnswer::Reject if confirm => (304, Vec::new()),
            UiAnswer::Reject | UiAnswer::Cancel => (214, Vec::new()),
            UiAnswer::Timeout => (408, Vec::new()),
            UiAnswer::NotSupported => (406, Vec::new()),
            UiAnswer::Malformed => (400, Vec::new()),
            UiAnswer::Input(_) if display || confirm => (200, Vec::new()),
            UiAnswer::Input(v) => (
                200,
                v.into_iter()
                    .map(|t| Item {
                        data: Some(Data::Text(t)),
                        ..Item::default()
                    })
                    .collect(),
            ),
        }
    }
}
