//! An interactive user interface on a terminal (or any reader and writer).
//!
//! - MAXDT (§10.3.2) is not enforced: a timed read needs a thread or platform-specific
//!   polling, and this crate runs no threads. The prompt says how long the server waits. MINDT
//!   (§10.3.1) does not apply either: a display is printed and stays on the terminal.
//! - A text input (§10.2.3) is re-asked while it is longer than MAXLEN characters (§10.3.4) or,
//!   for `IT=N` (§10.3.5), not a number (digits, one decimal point, a leading sign). The other
//!   input types are not checked.
//! - `ET=P` (§10.3.6): a plain reader cannot hide what is typed, so the prompt says the input
//!   is visible.
//! - An empty line takes the DR default (§10.3.3) when there is one; `c` cancels (214); the
//!   end of input cancels too. An I/O error cancels.

use std::io::{self, BufRead, Write};

use super::{EchoType, InputType, Interaction, Kind, UiAnswer, UserInterface};

/// A [`UserInterface`] that prints to `out` and reads answers from `input`.
#[derive(Debug)]
pub struct Terminal<R, W> {
    input: R,
    out: W,
}

impl Terminal<io::StdinLock<'static>, io::Stdout> {
    /// The process's stdin and stdout.
    pub fn stdio() -> Self {
        Terminal::new(io::stdin().lock(), io::stdout())
    }
}

impl<R: BufRead, W: Write> Terminal<R, W> {
    /// A terminal on `input` and `out`.
    pub fn new(input: R, out: W) -> Self {
        Terminal { input, out }
    }

    /// The reader and writer back.
    pub fn into_inner(self) -> (R, W) {
        (self.input, self.out)
    }

    /// The next line without its end; `None` at the end of input.
    fn line(&mut self) -> io::Result<Option<String>> {
        self.out.flush()?;
        let mut s = String::new();
        if self.input.read_line(&mut s)? == 0 {
            return Ok(None);
        }
        Ok(Some(s.trim_end_matches(['\r', '\n']).to_owned()))
    }

    fn run(&mut self, i: &Interaction) -> io::Result<UiAnswer> {
        writeln!(self.out, "{}", i.text)?;
        if i.kind == Kind::Display {
            return Ok(UiAnswer::Accept);
        }
        if let Some(s) = i.options.max_dt {
            writeln!(self.out, "(the server waits {s} s for an answer)")?;
        }
        let dr = i.default_answer();
        match i.kind {
            Kind::Display => Ok(UiAnswer::Accept),
            Kind::Confirm => self.confirm(dr),
            Kind::TextInput => self.text(i, dr),
            Kind::SingleChoice | Kind::MultipleChoice => self.choose(i, dr),
        }
    }

    fn confirm(&mut self, dr: Option<UiAnswer>) -> io::Result<UiAnswer> {
        let hint = match dr {
            Some(UiAnswer::Accept) => "[Y/n/c]",
            Some(UiAnswer::Reject) => "[y/N/c]",
            _ => "[y/n/c]",
        };
        loop {
            write!(self.out, "{hint} ")?;
            let Some(l) = self.line()? else {
                return Ok(UiAnswer::Cancel);
            };
            match l.trim().to_ascii_lowercase().as_str() {
                "y" | "yes" => return Ok(UiAnswer::Accept),
                "n" | "no" => return Ok(UiAnswer::Reject),
                "c" | "cancel" => return Ok(UiAnswer::Cancel),
                "" if dr.is_some() => return Ok(dr.unwrap_or(UiAnswer::Cancel)),
                _ => writeln!(self.out, "answer y (yes), n (no) or c (cancel)")?,
            }
        }
    }

    fn text(&mut self, i: &Interaction, dr: Option<UiAnswer>) -> io::Result<UiAnswer> {
        let o = &i.options;
        if o.echo == Some(EchoType::Password) {
            writeln!(
                self.out,
                "(password: the input is not hidden on this terminal)"
            )?;
        }
        let default = i.options.default.clone().filter(|_| dr.is_some());
        loop {
            match &default {
                Some(d) => write!(self.out, "[{d}] (c to cancel) > ")?,
                None => write!(self.out, "(c to cancel) > ")?,
            }
            let Some(mut l) = self.line()? else {
                return Ok(UiAnswer::Cancel);
            };
            if l == "c" {
                return Ok(UiAnswer::Cancel);
            }
            if l.is_empty() {
                if let Some(d) = &default {
                    l.clone_from(d);
                }
            }
            if let Some(max) = o.max_len {
                if l.chars().count() > max as usize {
                    writeln!(self.out, "at most {max} characters")?;
                    continue;
                }
            }
            if o.input_type == Some(InputType::Numeric) && !numeric(&l) {
                writeln!(self.out, "a number, please (digits, decimal point, sign)")?;
                continue;
            }
            return Ok(UiAnswer::Input(vec![l.into()]));
        }
    }

    fn choose(&mut self, i: &Interaction, dr: Option<UiAnswer>) -> io::Result<UiAnswer> {
        for (n, c) in i.choices.iter().enumerate() {
            writeln!(self.out, "  {}. {c}", n + 1)?;
        }
        let single = i.kind == Kind::SingleChoice;
        let default = match &dr {
            Some(UiAnswer::Input(v)) => Some(v.join(" ")),
            _ => None,
        };
        loop {
            let what = if single { "a number" } else { "numbers" };
            match &default {
                Some(d) => write!(self.out, "{what} [{d}] (c to cancel) > ")?,
                None => write!(self.out, "{what} (c to cancel) > ")?,
            }
            let Some(l) = self.line()? else {
                return Ok(UiAnswer::Cancel);
            };
            let l = l.trim();
            if l == "c" {
                return Ok(UiAnswer::Cancel);
            }
            if l.is_empty() {
                if let Some(d) = dr.clone() {
                    return Ok(d);
                }
            }
            let picked: Option<Vec<_>> = l
                .split([' ', ','])
                .filter(|p| !p.is_empty())
                .map(|p| i.choice(p))
                .collect();
            match picked {
                Some(v) if !single || v.len() == 1 => {
                    return Ok(UiAnswer::Input(v.into_iter().map(Into::into).collect()))
                }
                _ if single => writeln!(self.out, "one number from 1 to {}", i.choices.len())?,
                _ => writeln!(self.out, "numbers from 1 to {}", i.choices.len())?,
            }
        }
    }
}

/// §10.3.5 `IT=N`: digits, at most one decimal point, an optional leading sign.
fn numeric(s: &str) -> bool {
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let mut digits = 0;
    let mut points = 0;
    for c in body.chars() {
        match c {
            '0'..='9' => digits += 1,
            '.' => points += 1,
            _ => return false,
        }
    }
    digits > 0 && points <= 1
}

impl<R: BufRead, W: Write> UserInterface for Terminal<R, W> {
    fn interact(&mut self, i: &Interaction) -> UiAnswer {
        self.run(i).unwrap_or(UiAnswer::Cancel)
    }
}

#[cfg(test)]
mod tests {
    use super::numeric;

    #[test]
    fn dm_pro_10_3_5_it_n_numeric() {
        for ok in ["-1.23", "42", "+0.5", ".5"] {
            assert!(numeric(ok), "{ok}");
        }
        for bad in ["", "-", "1.2.3", "12a", "1 2"] {
            assert!(!numeric(bad), "{bad}");
        }
    }
}
