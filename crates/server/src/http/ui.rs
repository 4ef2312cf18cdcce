//! The operator dashboard (issue 8): a single page at `/` with its script, style sheet and icon
//! under `/ui/`, compiled into the binary. It has no backend of its own: the page calls the REST
//! API with the admin token the operator signs in with.
//!
//! `OMADM_UI_DIR` (development only) serves the files from that folder instead, read on every
//! request, so that a change shows on reload without a rebuild.

use axum::extract::Path;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

/// The page's files: name, media type, compiled-in bytes.
const FILES: [(&str, &str, &[u8]); 4] = [
    (
        "index.html",
        "text/html; charset=utf-8",
        include_bytes!("../../ui/index.html"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../../ui/app.js"),
    ),
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../../ui/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("../../ui/favicon.svg"),
    ),
];

/// Only the page's own files run, load and style it: no inline script, no other origin.
const CSP: &str = "default-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

fn file(name: &str) -> Response {
    let Some((_, media_type, built_in)) = FILES.iter().find(|(n, _, _)| *n == name) else {
        return (StatusCode::NOT_FOUND, "no such file\n").into_response();
    };
    let body = match std::env::var_os("OMADM_UI_DIR") {
        Some(dir) => match std::fs::read(std::path::Path::new(&dir).join(name)) {
            Ok(b) => axum::body::Bytes::from(b),
            Err(e) => {
                return (
                    StatusCode::NOT_FOUND,
                    format!("OMADM_UI_DIR: cannot read {name}: {e}\n"),
                )
                    .into_response()
            }
        },
        None => axum::body::Bytes::from_static(built_in),
    };
    let mut resp = (StatusCode::OK, body).into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(media_type));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // The page and its files change with the binary; a reload after an upgrade must see them.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// `GET /`.
pub(super) async fn index() -> Response {
    file("index.html")
}

/// `GET /ui/{name}`.
pub(super) async fn asset(Path(name): Path<String>) -> Response {
    file(&name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_listed_files_are_served() {
        assert_eq!(file("app.js").status(), StatusCode::OK);
        assert_eq!(file("../Cargo.toml").status(), StatusCode::NOT_FOUND);
        assert_eq!(file("").status(), StatusCode::NOT_FOUND);
        let r = file("index.html");
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert!(r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("default-src 'self'"));
    }
}
