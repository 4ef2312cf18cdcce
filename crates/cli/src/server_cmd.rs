//! `omadm server`: the DM server.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use omadm_server::engine::ServerConfig;
use omadm_server::http::{self, App, AppConfig};
use serde::Deserialize;

pub const LONG_ABOUT: &str = "\
Run the OMA DM server: the DM endpoint devices talk to, and the REST API operators use.

With no options it needs nothing: it listens on 127.0.0.1:8080, keeps everything in the SQLite
file ./omadm.db (created on first start, WAL mode), answers as ServerID omadm, and on first start
generates an admin token, stores it in the database and prints it. --db postgres://... uses a
PostgreSQL database instead (its own migrations run at start), which several omadm server
processes can share.

  POST /dm              the DM endpoint (SyncML DM 1.1/1.2/1.3, XML or WBXML; HTTP 200 for
                        every SyncML answer, 4xx only for what is not SyncML at all)
  GET  /               the operator dashboard (sign in with the admin token)
  GET  /healthz         liveness
  GET  /metrics         Prometheus metrics (sessions, messages, bytes, auth failures, command
                        outcomes, latency)
  /api/v1/...           the REST API (Authorization: Bearer <admin token>); its OpenAPI
                        document is GET /api/v1/openapi.json

Settings come from, in this order of precedence: the options, OMADM_* environment variables
(OMADM_LISTEN, OMADM_DB, OMADM_SERVER_ID, OMADM_ADMIN_TOKEN, OMADM_TLS_CERT, OMADM_TLS_KEY,
OMADM_RESP_URI), the
TOML file of --config (keys: listen, db, server_id, admin_token, tls_cert, tls_key,
max_msg_size, max_obj_size, max_messages_per_session, resp_uri), and the defaults.

TLS: --tls-cert and --tls-key (PEM files) serve everything over https with rustls.

Runs until killed. Every message is handled in one database transaction, so a kill at any
moment loses no queued command and records no result twice.";

/// Run the DM server.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// A TOML configuration file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long, value_name = "ADDR", env = "OMADM_LISTEN")]
    listen: Option<String>,

    /// The database: sqlite://PATH, or postgres://USER@HOST/DB for several server processes
    /// sharing one database [default: sqlite://./omadm.db].
    #[arg(long, value_name = "URL", env = "OMADM_DB")]
    db: Option<String>,

    /// The server's identifier (the devices' DMAcc ServerID) [default: omadm].
    #[arg(long, value_name = "ID", env = "OMADM_SERVER_ID")]
    server_id: Option<String>,

    /// The REST API's bearer token [default: generated on first start, kept in the database].
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OMADM_ADMIN_TOKEN",
        hide_env_values = true
    )]
    admin_token: Option<String>,

    /// This server's own DM address (e.g. http://10.0.0.7:8080/dm), sent as RespURI in every
    /// answer: with several replicas behind one address, each session's later messages come
    /// straight to the replica that started it (a client that cannot reach it falls back to its
    /// account's address; session state is in the shared database) [default: none].
    #[arg(long, value_name = "URL", env = "OMADM_RESP_URI")]
    resp_uri: Option<String>,

    /// TLS certificate chain (PEM).
    #[arg(
        long,
        value_name = "FILE",
        env = "OMADM_TLS_CERT",
        requires = "tls_key"
    )]
    tls_cert: Option<PathBuf>,

    /// TLS private key (PEM).
    #[arg(
        long,
        value_name = "FILE",
        env = "OMADM_TLS_KEY",
        requires = "tls_cert"
    )]
    tls_key: Option<PathBuf>,
}

/// The TOML file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    db: Option<String>,
    server_id: Option<String>,
    admin_token: Option<String>,
    tls_cert: Option<PathBuf>,
    tls_key: Option<PathBuf>,
    max_msg_size: Option<u64>,
    max_obj_size: Option<u64>,
    max_messages_per_session: Option<u32>,
    resp_uri: Option<String>,
}

const TOKEN_KEY: &str = "admin_token";

fn generate_token() -> String {
    let n = omadm_security::nonce::Nonce::generate();
    let m = omadm_security::nonce::Nonce::generate();
    n.as_bytes()
        .iter()
        .chain(m.as_bytes())
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn run(a: &Args) -> Result<()> {
    let file: FileConfig = match &a.config {
        Some(p) => {
            let text = std::fs::read_to_string(p).with_context(|| p.display().to_string())?;
            toml::from_str(&text).with_context(|| p.display().to_string())?
        }
        None => FileConfig::default(),
    };
    let listen = a
        .listen
        .clone()
        .or(file.listen)
        .unwrap_or_else(|| "127.0.0.1:8080".into());
    let db =
        a.db.clone()
            .or(file.db)
            .unwrap_or_else(|| "sqlite://./omadm.db".into());
    let defaults = ServerConfig::default();
    let engine = ServerConfig {
        server_id: a
            .server_id
            .clone()
            .or(file.server_id)
            .unwrap_or(defaults.server_id),
        max_msg_size: file.max_msg_size.unwrap_or(defaults.max_msg_size),
        max_obj_size: file.max_obj_size.unwrap_or(defaults.max_obj_size),
        max_messages_per_session: file
            .max_messages_per_session
            .unwrap_or(defaults.max_messages_per_session),
        resp_uri: a.resp_uri.clone().or(file.resp_uri),
    };
    if engine.server_id.trim().is_empty() {
        bail!("the ServerID is empty");
    }
    if let Some(u) = &engine.resp_uri {
        let scheme_ok = u.starts_with("http://") || u.starts_with("https://");
        if !scheme_ok || u.len() > 1024 || u.chars().any(|c| c.is_whitespace() || c.is_control()) {
            bail!("--resp-uri {u:?} is not an http:// or https:// URL");
        }
    }
    let tls = match (
        a.tls_cert.clone().or(file.tls_cert),
        a.tls_key.clone().or(file.tls_key),
    ) {
        (Some(c), Some(k)) => {
            let cert = std::fs::read(&c).with_context(|| c.display().to_string())?;
            let key = std::fs::read(&k).with_context(|| k.display().to_string())?;
            Some(http::tls_config(&cert, &key).context("--tls-cert/--tls-key")?)
        }
        (None, None) => None,
        _ => bail!("TLS needs both a certificate (tls_cert) and a key (tls_key)"),
    };
    let given_token = a.admin_token.clone().or(file.admin_token);

    crate::async_runtime()?.block_on(async move {
        let store = omadm_server::store::open(&db)
            .await
            .with_context(|| format!("cannot open the database {}", redact(&db)))?;
        let admin_token = match given_token {
            Some(t) if !t.is_empty() => t,
            _ => {
                let fresh = generate_token();
                let kept = store
                    .set_setting(TOKEN_KEY, &fresh, true)
                    .await
                    .context("cannot store the admin token")?;
                if kept == fresh {
                    println!("admin token (generated now, kept in the database): {kept}");
                } else {
                    println!("admin token: the one kept in the database (omadm server prints it only when it makes it; set OMADM_ADMIN_TOKEN to choose one)");
                }
                kept
            }
        };
        let cfg = AppConfig {
            engine: engine.clone(),
            admin_token,
            push_timeout: Duration::from_secs(10),
        };
        let app = App::new(store, cfg, http::install_metrics());
        let tcp = tokio::net::TcpListener::bind(&listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let addr = tcp.local_addr().context("bound address")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        println!(
            "omadm server listening on {scheme}://{addr} (DM endpoint {scheme}://{addr}/dm, ServerID {}, database {})",
            engine.server_id,
            redact(&db)
        );
        http::serve(tcp, app, tls)
            .await
            .with_context(|| format!("serving {addr}"))
    })
}

/// The database URL without its password (`postgres://user:secret@host` → `postgres://user:***@host`).
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((userinfo, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn database_passwords_are_not_printed() {
        assert_eq!(
            redact("postgres://omadm:s3cret@db:5432/omadm"),
            "postgres://omadm:***@db:5432/omadm"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(redact("sqlite://./omadm.db"), "sqlite://./omadm.db");
    }
}
