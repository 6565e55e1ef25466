//! A raw Electrum client for the simnet tests: the project's framing and parser over TCP or
//! TLS (accepting any certificate, so the certificate itself can be inspected).

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use observatory_protocol::frame::{Limits, LineBuffer};
use observatory_protocol::message::encode_request;
use observatory_simnet::{EndpointTruth, GroundTruth};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature_with_raw_key, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Deadline of every read in the tests.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);

/// A stream of either kind.
pub trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// Accepts every certificate (X.509 v1 included) but still checks handshake signatures.
#[derive(Debug)]
struct AcceptAny(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        // webpki refuses X.509 v1 (ElectrumX's recipe makes them): check the signature against
        // the certificate's public key directly, as the scanner does.
        use x509_parser::prelude::FromDer;
        let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(cert.as_ref())
            .map_err(|_| {
                rustls::Error::InvalidCertificate(rustls::CertificateError::BadEncoding)
            })?;
        let spki = rustls::pki_types::SubjectPublicKeyInfoDer::from(
            parsed.tbs_certificate.subject_pki.raw,
        );
        verify_tls13_signature_with_raw_key(
            message,
            &spki,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One client connection.
pub struct Client {
    stream: Box<dyn Stream>,
    buf: LineBuffer,
    next_id: u64,
    /// Certificates the server presented (TLS only), leaf first.
    pub certs: Vec<Vec<u8>>,
}

impl Client {
    /// Connects over TCP.
    pub async fn tcp(addr: SocketAddr) -> Client {
        let s = tokio::time::timeout(READ_TIMEOUT, TcpStream::connect(addr))
            .await
            .expect("connect timeout")
            .expect("connect");
        Client::wrap(Box::new(s), Vec::new())
    }

    /// Connects over TLS, accepting any certificate.
    pub async fn tls(addr: SocketAddr) -> std::io::Result<Client> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .expect("versions")
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth();
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let tcp = TcpStream::connect(addr).await?;
        let name = ServerName::IpAddress(addr.ip().into());
        let tls = tokio::time::timeout(READ_TIMEOUT, connector.connect(name, tcp))
            .await
            .map_err(|_| std::io::Error::from(std::io::ErrorKind::TimedOut))??;
        let certs = tls
            .get_ref()
            .1
            .peer_certificates()
            .unwrap_or_default()
            .iter()
            .map(|c| c.to_vec())
            .collect();
        Ok(Client::wrap(Box::new(tls), certs))
    }

    /// Connects to an endpoint of the ground truth with its transport.
    pub async fn to(e: &EndpointTruth) -> Client {
        let addr = addr_of(e);
        match e.transport {
            observatory_model::raw::Transport::Tcp => Client::tcp(addr).await,
            observatory_model::raw::Transport::Tls => Client::tls(addr).await.expect("tls connect"),
        }
    }

    fn wrap(stream: Box<dyn Stream>, certs: Vec<Vec<u8>>) -> Client {
        Client {
            stream,
            buf: LineBuffer::new(Limits {
                max_line: 64 << 20,
                max_total: 512 << 20,
            }),
            next_id: 1,
            certs,
        }
    }

    /// Sends raw bytes plus a newline.
    pub async fn send_raw(&mut self, line: &[u8]) {
        let mut v = line.to_vec();
        v.push(b'\n');
        self.stream.write_all(&v).await.expect("write");
    }

    /// Sends a request with the next id and returns that id.
    pub async fn send(&mut self, method: &str, params: Value) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.stream
            .write_all(&encode_request(id, method, &params))
            .await
            .expect("write");
        id
    }

    /// The next line (without terminator, trailing spaces stripped) with the count of
    /// stripped spaces; None at EOF; panics on timeout.
    pub async fn line_with_padding(&mut self) -> Option<(Vec<u8>, usize)> {
        self.try_line(READ_TIMEOUT).await.expect("read timed out")
    }

    /// The next line; Err(()) when nothing complete arrives within `wait`.
    pub async fn try_line(&mut self, wait: Duration) -> Result<Option<(Vec<u8>, usize)>, ()> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(l) = self.buf.next_line().expect("framing") {
                return Ok(Some((l.bytes, l.padding)));
            }
            let mut chunk = vec![0u8; 64 * 1024];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Err(_) => return Err(()),
                Ok(Ok(n)) => n,
                Ok(Err(_)) => 0,
            };
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend(&chunk[..n]).expect("framing limits");
        }
    }

    /// The next line as text.
    pub async fn line(&mut self) -> Option<String> {
        self.line_with_padding()
            .await
            .map(|(b, _)| String::from_utf8_lossy(&b).into_owned())
    }

    /// Sends a request and returns the next line as JSON.
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.send(method, params).await;
        let line = self.line().await.expect("connection closed");
        serde_json::from_str(&line).expect("reply is JSON")
    }

    /// Reads raw bytes for up to `wait` (or until EOF / `max` bytes).
    pub async fn read_raw(&mut self, wait: Duration, max: usize) -> Vec<u8> {
        let deadline = tokio::time::Instant::now() + wait;
        let mut out = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        while out.len() < max {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await {
                Ok(Ok(n)) if n > 0 => out.extend_from_slice(&chunk[..n]),
                _ => break,
            }
        }
        out
    }
}

/// Socket address of an endpoint.
pub fn addr_of(e: &EndpointTruth) -> SocketAddr {
    format!("{}:{}", e.address, e.port)
        .parse()
        .expect("address")
}

/// The first endpoint matching a predicate.
pub fn find(truth: &GroundTruth, pred: impl Fn(&EndpointTruth) -> bool) -> &EndpointTruth {
    truth
        .endpoints
        .iter()
        .find(|e| pred(e))
        .expect("no endpoint matches")
}
