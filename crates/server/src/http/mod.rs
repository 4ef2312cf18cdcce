//! The HTTP service: `POST /dm` (the DM endpoint), `GET /healthz`, `GET /metrics` (Prometheus)
//! and the REST API under `/api/v1` ([`api`]), over plain HTTP or TLS (rustls).
//!
//! HTTP status: 200 for every SyncML answer, whatever the DM status inside; 4xx only for what is
//! not SyncML at all (415 another media type, 400 a body that does not decode, 413 over the
//! body limit); 500 when the store fails (the device resends, nothing was committed).

mod api;
mod bulk;
mod dm;
mod events;
mod metrics;
mod openapi;
mod push;
mod tree;
mod ui;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

use crate::engine::ServerConfig;
use crate::store::Store;

pub use metrics::install as install_metrics;

/// How the service runs.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// The session engine's settings.
    pub engine: ServerConfig,
    /// The bearer token of the REST API.
    pub admin_token: String,
    /// Bound on pushes to devices (connect and whole request).
    pub push_timeout: Duration,
}

/// The service's shared state.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    cfg: AppConfig,
    push: reqwest::Client,
    metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    /// The live view's events ([`events`]).
    events: tokio::sync::broadcast::Sender<events::Event>,
}

impl App {
    /// The service over `store`. `metrics` renders `/metrics` (see [`install_metrics`]).
    pub fn new(
        store: Arc<dyn Store>,
        cfg: AppConfig,
        metrics: Option<metrics_exporter_prometheus::PrometheusHandle>,
    ) -> App {
        let push = reqwest::Client::builder()
            .connect_timeout(cfg.push_timeout)
            .timeout(cfg.push_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("omadm-server/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new());
        App {
            inner: Arc::new(Inner {
                store,
                cfg,
                push,
                metrics,
                events: events::channel(),
            }),
        }
    }

    fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    fn cfg(&self) -> &AppConfig {
        &self.inner.cfg
    }

    /// The axum application.
    pub fn router(self) -> Router {
        // Twice the server's MaxMsgSize: a larger body is refused before it is read whole (the
        // engine answers a body over MaxMsgSize itself, in SyncML, up to this bound).
        let limit = (self.inner.cfg.engine.max_msg_size as usize)
            .saturating_mul(2)
            .max(64 * 1024);
        Router::new()
            .route("/", get(ui::index))
            .route("/ui/{name}", get(ui::asset))
            .route("/dm", post(dm::handle))
            .route("/healthz", get(|| async { "ok\n" }))
            .route("/metrics", get(metrics::render))
            .nest("/api/v1", api::router(self.clone()))
            .layer(DefaultBodyLimit::max(limit))
            .with_state(self)
    }
}

/// Seconds since the Unix epoch.
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Serves `app` on `listener` until the process ends: plain HTTP, or TLS when `tls` is given.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: App,
    tls: Option<Arc<rustls::ServerConfig>>,
) -> std::io::Result<()> {
    let router = app.router();
    let Some(tls) = tls else {
        return axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
    };
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(x) => x,
            // Out of file descriptors and the like: wait, do not spin.
            Err(_) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let acceptor = acceptor.clone();
        let router = router.clone();
        tokio::spawn(async move {
            let handshake = tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
            let Ok(Ok(stream)) = handshake.await else {
                return;
            };
            let svc = hyper_util::service::TowerToHyperService::new(
                router.layer(axum::Extension(axum::extract::ConnectInfo(peer))),
            );
            let _ =
                hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new())
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                    .await;
        });
    }
}

/// A rustls server configuration from PEM files (certificate chain, private key).
pub fn tls_config(cert_pem: &[u8], key_pem: &[u8]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Pem(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError::Pem(
            "no certificate in the certificate file".into(),
        ));
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError::Pem(format!("key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Rustls)?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(TlsError::Rustls)?;
    Ok(Arc::new(cfg))
}

/// Why the TLS configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A PEM file does not hold what it should.
    #[error("PEM {0}")]
    Pem(String),
    /// rustls refused the certificate or key.
    #[error("TLS: {0}")]
    Rustls(rustls::Error),
}
