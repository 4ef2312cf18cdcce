//! The human-readable rendering of a [`Report`].

use std::fmt::Write as _;

use super::report::{Cmd, ItemInfo, Loc, MetaInfo, Report};

fn or_dash(v: Option<&str>) -> &str {
    v.unwrap_or("-")
}

fn loc_text(l: &Loc) -> String {
    match &l.loc_name {
        Some(n) => format!("{} (LocName {n})", l.loc_uri),
        None => l.loc_uri.to_string(),
    }
}

fn meta_text(m: &MetaInfo) -> String {
    let mut parts = Vec::new();
    if let Some(f) = &m.format {
        parts.push(format!("Format {f}"));
    }
    if let Some(t) = &m.type_ {
        parts.push(format!("Type {t}"));
    }
    if let Some(s) = &m.size {
        parts.push(format!("Size {s}"));
    }
    if parts.is_empty() {
        "(empty)".to_owned()
    } else {
        parts.join(", ")
    }
}

/// `1226 Generic alert`; an unknown code stands alone.
fn code_text(code: &str, meaning: Option<&str>) -> String {
    match meaning {
        Some(m) => format!("{code} {m}"),
        None => code.to_owned(),
    }
}

/// One `Label:  value` line of the summary, values aligned.
fn row(s: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(s, "{:<14}{value}", format!("{label}:"));
}

impl Report {
    /// The summary `omadm inspect` prints without `--json`.
    pub(super) fn to_text(&self) -> String {
        let mut s = String::new();
        row(&mut s, "File", &self.file);
        let enc = self.encoding.to_uppercase();
        row(
            &mut s,
            "Encoding",
            format!("{enc} ({}), {} bytes", self.content_type, self.size),
        );
        if let Some(w) = &self.wbxml {
            let id = match (&w.public_id, &w.fpi) {
                (Some(id), _) => format!("public id {id}"),
                (None, fpi) => format!("FPI \"{}\"", or_dash(fpi.as_deref())),
            };
            let vocab = w.vocabulary.map(|v| format!(" ({v})")).unwrap_or_default();
            let charset = w
                .charset_name
                .map(|n| format!(" ({n})"))
                .unwrap_or_default();
            let value = format!(
                "version {}, {id}{vocab}, charset {}{charset}",
                w.version, w.charset
            );
            row(&mut s, "WBXML", value);
        }
        let o = &self.other_encoding;
        let label = format!("As {}", o.encoding.to_uppercase());
        let value = match (o.size, &o.error) {
            (Some(n), _) if o.rewritten_items > 0 => format!(
                "{n} bytes (after rewriting {} Data item(s), as convert does)",
                o.rewritten_items
            ),
            (Some(n), _) => format!("{n} bytes"),
            (None, e) => format!("not representable: {}", or_dash(e.as_deref())),
        };
        row(&mut s, &label, value);
        match &self.header {
            None => row(&mut s, "Header", "(none)"),
            Some(h) => {
                s.push_str("Header:\n");
                let cred = h.cred.as_ref().map(|c| {
                    let (t, f) = (or_dash(c.type_.as_deref()), or_dash(c.format.as_deref()));
                    format!("type {t}, format {f}")
                });
                let fields = [
                    ("VerDTD", h.ver_dtd.clone()),
                    ("VerProto", h.ver_proto.clone()),
                    ("SessionID", h.session_id.clone()),
                    ("MsgID", h.msg_id.clone()),
                    ("Target", loc_text(&h.target)),
                    ("Source", loc_text(&h.source)),
                    ("RespURI", or_dash(h.resp_uri.as_deref()).to_owned()),
                    ("NoResp", if h.no_resp { "yes" } else { "no" }.to_owned()),
                    ("Cred", or_dash(cred.as_deref()).to_owned()),
                    ("MaxMsgSize", or_dash(h.max_msg_size.as_deref()).to_owned()),
                    ("MaxObjSize", or_dash(h.max_obj_size.as_deref()).to_owned()),
                ];
                for (label, value) in fields {
                    row(&mut s, &format!("  {label}"), value);
                }
            }
        }
        row(
            &mut s,
            "Commands",
            format!("{} ({} items)", self.command_count, self.item_count),
        );
        for c in &self.commands {
            c.to_text(&mut s, 1);
        }
        row(&mut s, "Final", if self.final_ { "yes" } else { "no" });
        s
    }
}

impl Cmd {
    fn to_text(&self, s: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let mut line = format!("{pad}{} CmdID {}", self.name, self.cmd_id);
        if let Some(a) = &self.alert {
            let _ = write!(
                line,
                ": {}",
                code_text(or_dash(a.code.as_deref()), a.meaning)
            );
        }
        if let Some(st) = &self.status {
            let _ = write!(
                line,
                ": MsgRef {}, CmdRef {}, Cmd {}: {}",
                st.msg_ref,
                st.cmd_ref,
                st.cmd,
                code_text(&st.code, st.meaning)
            );
        }
        if let Some(r) = &self.results {
            if let Some(m) = &r.msg_ref {
                let _ = write!(line, ": MsgRef {m}, CmdRef {}", r.cmd_ref);
            } else {
                let _ = write!(line, ": CmdRef {}", r.cmd_ref);
            }
        }
        if self.no_resp {
            line.push_str(" (NoResp)");
        }
        if self.unsupported {
            line.push_str(" (not a DM command)");
        }
        let _ = writeln!(s, "{line}");
        let detail = format!("{pad}  ");
        let correlator = self.alert.as_ref().and_then(|a| a.correlator.as_deref());
        if let Some(c) = correlator.or(self.exec.as_ref().and_then(|e| e.correlator.as_deref())) {
            let _ = writeln!(s, "{detail}Correlator {c}");
        }
        if let Some(st) = &self.status {
            for t in &st.target_refs {
                let _ = writeln!(s, "{detail}TargetRef {t}");
            }
            for t in &st.source_refs {
                let _ = writeln!(s, "{detail}SourceRef {t}");
            }
            if let Some(ch) = &st.chal {
                let nonce = ch
                    .next_nonce
                    .as_ref()
                    .map(|n| format!(", NextNonce {n}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "{detail}Chal type {}, format {}{nonce}",
                    or_dash(ch.type_.as_deref()),
                    or_dash(ch.format.as_deref())
                );
            }
        }
        if let Some(r) = &self.results {
            if let Some(t) = &r.target_ref {
                let _ = writeln!(s, "{detail}TargetRef {t}");
            }
            if let Some(t) = &r.source_ref {
                let _ = writeln!(s, "{detail}SourceRef {t}");
            }
        }
        if let Some(m) = &self.meta {
            let _ = writeln!(s, "{detail}Meta {}", meta_text(m));
        }
        for item in &self.items {
            item.to_text(s, depth + 1);
        }
        for sub in self.commands.iter().flatten() {
            sub.to_text(s, depth + 1);
        }
    }
}

impl ItemInfo {
    fn to_text(&self, s: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let mut first = Some("Item");
        let mut field = |s: &mut String, label: &str, value: String| {
            let head = first.take().unwrap_or("");
            let _ = writeln!(s, "{pad}{head:<4}  {label:<6} {value}");
        };
        if let Some(t) = &self.target {
            field(s, "Target", loc_text(t));
        }
        if let Some(t) = &self.source {
            field(s, "Source", loc_text(t));
        }
        if let Some(m) = &self.meta {
            field(s, "Meta", meta_text(m));
        }
        match &self.data {
            Some(d) => {
                let nested = if d.nested_wbxml {
                    ", nested WBXML document"
                } else {
                    ""
                };
                field(s, "Data", format!("{} bytes, {}{nested}", d.size, d.kind));
            }
            None => field(s, "Data", "(none)".to_owned()),
        }
        if self.more_data {
            field(s, "", "MoreData".to_owned());
        }
    }
}
