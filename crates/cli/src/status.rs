//! DM status codes in error messages, as `425 Permission denied`.

use omadm_syncml::StatusCode;

/// The code and the meaning SyncML RepPro gives it; a code without one stands alone.
pub fn text(code: u16) -> String {
    match StatusCode(code).meaning() {
        Some(m) => format!("{code} {m}"),
        None => code.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_and_meaning() {
        assert_eq!(text(425), "425 Permission denied");
        assert_eq!(text(599), "599");
    }
}
