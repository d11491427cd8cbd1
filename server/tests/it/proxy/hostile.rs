//! A hostile upstream for the attack tests: an axum router written by each test, served on a loopback address
//! it names (`127.0.0.1`, or `127.0.0.2` to be "another machine-local address"), over plain HTTP or TLS with a
//! throwaway self-signed certificate (the endpoint is then `insecure`). Every request is recorded with its
//! `Authorization` header, so a test can assert where a credential went and which address Berth contacted.

#![allow(dead_code, reason = "not every test uses every fixture method")]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls;
use tokio_rustls::server::TlsStream;

use crate::images::{require_tool, run_ok};

/// One request a hostile server received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub path: String,
    pub authorization: Option<String>,
}

/// A server running a test's router, recording every request.
pub struct Hostile {
    pub addr: SocketAddr,
    scheme: &'static str,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

async fn record(seen: Arc<Mutex<Vec<Seen>>>, request: Request, next: Next) -> Response {
    seen.lock().unwrap().push(Seen {
        method: request.method().as_str().to_owned(),
        path: request.uri().path_and_query().map_or_else(
            || request.uri().path().to_owned(),
            |p| p.as_str().to_owned(),
        ),
        authorization: request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    });
    next.run(request).await
}

async fn bind(ip: &str) -> TcpListener {
    TcpListener::bind((ip, 0))
        .await
        .unwrap_or_else(|e| panic!("bind {ip}: {e}"))
}

fn recording(router: Router) -> (Router, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let router = router.layer(axum::middleware::from_fn(move |request, next| {
        record(log.clone(), request, next)
    }));
    (router, seen)
}

impl Hostile {
    /// Serves `router` over plain HTTP on `ip` (a loopback address) and a free port.
    pub async fn start(ip: &str, router: Router) -> Hostile {
        Hostile::serve(bind(ip).await, "http", router)
    }

    /// Serves `router` over TLS (a self-signed certificate made with `openssl`) on `ip` and a free port.
    pub async fn start_tls(ip: &str, router: Router) -> Hostile {
        let listener = TlsListener {
            tcp: bind(ip).await,
            acceptor: TlsAcceptor::from(Arc::new(self_signed(ip))),
        };
        Hostile::serve(listener, "https", router)
    }

    fn serve<L>(listener: L, scheme: &'static str, router: Router) -> Hostile
    where
        L: axum::serve::Listener<Addr = SocketAddr>,
    {
        let addr = listener.local_addr().unwrap();
        let (router, seen) = recording(router);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Hostile {
            addr,
            scheme,
            seen,
            task,
        }
    }

    /// `http(s)://IP:PORT`: an endpoint URL.
    pub fn base(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base())
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// The `Authorization` headers received so far.
    pub fn authorizations(&self) -> Vec<String> {
        self.seen()
            .into_iter()
            .filter_map(|s| s.authorization)
            .collect()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A TLS server configuration with a fresh self-signed certificate for `ip`.
fn self_signed(ip: &str) -> rustls::ServerConfig {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    require_tool("openssl");
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    run_ok(
        std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=berth-test",
            ])
            .arg("-addext")
            .arg(format!("subjectAltName=IP:{ip},DNS:localhost"))
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert),
    );
    let cert = CertificateDer::from_pem_file(&cert).unwrap();
    let key = PrivateKeyDer::from_pem_file(&key).unwrap();
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap()
}

/// A TCP listener that completes a TLS handshake before handing a connection to axum.
struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, peer)) = self.tcp.accept().await else {
                continue;
            };
            // A client that fails the handshake (or probes with plain HTTP) is dropped; the next one is served.
            if let Ok(stream) = self.acceptor.accept(stream).await {
                return (stream, peer);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
