//! The HTTP transport against a loopback axum server (DIGEST.md §8): the headers it sends, the
//! `x-syncml-hmac` it hands back, and what counts as a failure.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use omadm_client::agent::transport::{Transport, TransportError, TransportOptions};

/// Echoes the request's headers of interest in the body; answers with an x-syncml-hmac.
async fn echo(headers: HeaderMap, body: Bytes) -> (StatusCode, HeaderMap, Vec<u8>) {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
            .to_owned()
    };
    let text = format!(
        "ct={}|accept={}|cache={}|ua={}|hmac={}|len={}",
        h("content-type"),
        h("accept"),
        h("cache-control"),
        h("user-agent"),
        h("x-syncml-hmac"),
        body.len()
    );
    let mut out = HeaderMap::new();
    out.insert(
        "content-type",
        "application/vnd.syncml.dm+xml".parse().unwrap(),
    );
    out.insert(
        "x-syncml-hmac",
        "algorithm=MD5, username=\"srv\", mac=bWFj".parse().unwrap(),
    );
    (StatusCode::OK, out, text.into_bytes())
}

async fn server() -> SocketAddr {
    let app = Router::new()
        .route("/dm", post(echo))
        .route(
            "/fail",
            post(|| async { StatusCode::INTERNAL_SERVER_ERROR }),
        )
        .route(
            "/moved",
            post(|| async { (StatusCode::FOUND, [("location", "/dm")]) }),
        )
        .route("/big", post(|| async { vec![b'x'; 4096] }));
    let tcp = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(tcp, app).await;
    });
    addr
}

fn transport(max_body: usize) -> Transport {
    let mut o = TransportOptions::new("omadm-device/test");
    o.max_body = max_body;
    o.timeout = Duration::from_secs(10);
    Transport::new(&o).unwrap()
}

#[tokio::test]
async fn post_sends_the_dm_headers_and_returns_the_answer() {
    let addr = server().await;
    let t = transport(1 << 20);
    let r = t
        .post(
            &format!("http://{addr}/dm"),
            b"<SyncML/>".to_vec(),
            "application/vnd.syncml.dm+xml",
            Some("algorithm=MD5, username=\"dev\", mac=eHl6".into()),
        )
        .await
        .unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(
        r.content_type.as_deref(),
        Some("application/vnd.syncml.dm+xml")
    );
    assert_eq!(
        r.hmac.as_deref(),
        Some("algorithm=MD5, username=\"srv\", mac=bWFj")
    );
    let echoed = String::from_utf8(r.body).unwrap();
    assert_eq!(
        echoed,
        "ct=application/vnd.syncml.dm+xml\
         |accept=application/vnd.syncml.dm+wbxml, application/vnd.syncml.dm+xml\
         |cache=no-store|ua=omadm-device/test\
         |hmac=algorithm=MD5, username=\"dev\", mac=eHl6|len=9"
    );
}

#[tokio::test]
async fn statuses_other_than_200_and_oversized_bodies_fail() {
    let addr = server().await;
    let t = transport(1024);
    let post = |path: &'static str| {
        let t = t.clone();
        async move {
            t.post(
                &format!("http://{addr}{path}"),
                Vec::new(),
                "application/vnd.syncml.dm+wbxml",
                None,
            )
            .await
        }
    };
    let e = post("/fail").await.unwrap_err();
    assert!(
        matches!(e, TransportError::Status { status: 500, .. }),
        "{e}"
    );
    assert!(e.to_string().contains("HTTP status 500"), "{e}");
    // Redirects are not followed: a DM server moves a session with RespURI.
    let e = post("/moved").await.unwrap_err();
    assert!(
        matches!(e, TransportError::Status { status: 302, .. }),
        "{e}"
    );
    let e = post("/big").await.unwrap_err();
    assert!(
        matches!(e, TransportError::TooLarge { max: 1024, .. }),
        "{e}"
    );
}

#[tokio::test]
async fn connection_refused_is_a_request_error_naming_the_url() {
    // A port that was free a moment ago and has no listener now.
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("http://{addr}/dm");
    let e = transport(1024)
        .post(&url, Vec::new(), "application/vnd.syncml.dm+wbxml", None)
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Request { .. }), "{e}");
    assert!(e.to_string().contains(&url), "{e}");
}

#[test]
fn ca_files_that_are_missing_or_not_pem_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.pem");
    let e = TransportOptions::new("x")
        .with_ca_file(&missing)
        .unwrap_err();
    assert!(e.to_string().contains("none.pem"), "{e}");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let o = TransportOptions::new("x").with_ca_file(&junk).unwrap();
    let e = Transport::new(&o).unwrap_err();
    assert!(matches!(e, TransportError::CaPem { .. }), "{e}");
    assert!(e.to_string().contains("junk.pem"), "{e}");
}
