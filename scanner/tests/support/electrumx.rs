//! A real ElectrumX on loopback, backed by `fake_bitcoind.py` (a regtest chain stand-in).
//!
//! [`ElectrumX::start`] makes a self-signed X.509 v1 certificate with openssl exactly as
//! ElectrumX's HOWTO does, starts the fake bitcoind and `electrumx_server` (2.0.0 or 1.16.0,
//! from the venvs `scripts/setup/10-electrumx.sh` creates under `$OBSERVATORY_TOOLS`) on free
//! 127.0.0.1 ports with a TCP and an SSL service, and waits until both ports accept. Dropping
//! the handle stops both processes; both are also bounded in time by themselves
//! ([`PROCESS_LIFETIME_SECS`]) so that a killed test run leaves nothing behind.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a harness process may live (a test run that dies cannot leave servers running).
pub const PROCESS_LIFETIME_SECS: u64 = 900;

/// How long to wait for ElectrumX to sync the fake chain and open its ports.
const STARTUP_DEADLINE: Duration = Duration::from_secs(60);

/// ElectrumX releases the harness can run (one venv each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExVersion {
    /// spesmilo ElectrumX 2.0.0 (`e-x==2.0.0`): pads replies, protocol up to 1.7.
    V2_0_0,
    /// ElectrumX 1.16.0 (`e-x==1.16.0`).
    V1_16_0,
}

impl ExVersion {
    /// The version string as in the venv directory name and `server.version`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExVersion::V2_0_0 => "2.0.0",
            ExVersion::V1_16_0 => "1.16.0",
        }
    }
}

/// What to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// Which ElectrumX.
    pub version: ExVersion,
    /// `BANNER_FILE` contents (None = ElectrumX's default banner).
    pub banner: Option<String>,
    /// `DONATION_ADDRESS`.
    pub donation_address: Option<String>,
    /// Certificate subject for `openssl req -subj`.
    pub subject: String,
    /// Blocks on top of the regtest genesis.
    pub blocks: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            version: ExVersion::V2_0_0,
            banner: Some("Observatory test banner".to_string()),
            donation_address: Some("bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080".to_string()),
            subject: "/CN=electrumx.test/O=Observatory Test".to_string(),
            blocks: 5,
        }
    }
}

/// The chain the fake bitcoind serves (printed by it on start).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct ChainInfo {
    /// Port of the fake bitcoind's JSON-RPC.
    pub port: u16,
    /// Tip height.
    pub height: u64,
    /// Regtest genesis hash.
    pub genesis_hash: String,
    /// Tip block hash.
    pub tip_hash: String,
    /// Tip header, hex.
    pub tip_header: String,
}

/// A running ElectrumX (and its fake bitcoind); stopped on drop.
#[derive(Debug)]
pub struct ElectrumX {
    /// TCP service port on 127.0.0.1.
    pub tcp_port: u16,
    /// SSL service port on 127.0.0.1.
    pub ssl_port: u16,
    /// The PEM certificate ElectrumX presents.
    pub cert_path: PathBuf,
    /// The chain it serves.
    pub chain: ChainInfo,
    /// The configuration it was started with.
    pub config: Config,
    electrumx: Child,
    bitcoind: Child,
    dir: tempfile::TempDir,
}

/// `$OBSERVATORY_TOOLS`, default `~/.cache/electrum-observatory`.
pub fn tools_dir() -> PathBuf {
    if let Some(d) = std::env::var_os("OBSERVATORY_TOOLS") {
        return PathBuf::from(d);
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/root"));
    home.join(".cache/electrum-observatory")
}

use super::tools::missing_tool;

/// The script that installs what this harness needs.
const SETUP: &str = "scripts/setup/10-electrumx.sh";

/// A port that was free a moment ago on 127.0.0.1.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Runs openssl with arguments; panics with its stderr on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Makes `server.key`, `server.csr`, `server.crt` in `dir` the way ElectrumX's HOWTO does
/// (no extensions, so the certificate is X.509 v1).
pub fn make_v1_certificate(dir: &Path, subject: &str) -> PathBuf {
    openssl(dir, &["genrsa", "-out", "server.key", "2048"]);
    openssl(
        dir,
        &[
            "req",
            "-new",
            "-key",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            subject,
        ],
    );
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-days",
            "1825",
            "-in",
            "server.csr",
            "-signkey",
            "server.key",
            "-out",
            "server.crt",
        ],
    );
    dir.join("server.crt")
}

/// `openssl ARGS` with `input` on its stdin; its stdout. Panics with its stderr on failure.
pub fn openssl_pipe(args: &[&str], input: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input)
        .expect("write to openssl");
    let out = child.wait_with_output().expect("openssl output");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `openssl x509 -noout ARGS` of a PEM file, trimmed.
pub fn openssl_x509(cert: &Path, args: &[&str]) -> String {
    let pem = std::fs::read(cert).expect("read certificate");
    let mut all = vec!["x509", "-noout"];
    all.extend_from_slice(args);
    String::from_utf8_lossy(&openssl_pipe(&all, &pem))
        .trim()
        .to_string()
}

/// `openssl x509 -noout -fingerprint -<digest>` of a PEM file, as lower-case hex without colons.
pub fn openssl_fingerprint(cert: &Path, digest: &str) -> String {
    let text = openssl_x509(cert, &["-fingerprint", digest]);
    // "sha256 Fingerprint=AB:CD:..." (the prefix's case differs between openssl versions)
    let (_, fp) = text.split_once('=').expect("fingerprint line");
    fp.replace(':', "").to_ascii_lowercase()
}

/// `openssl x509 -noout -fingerprint -sha256` of a PEM file, as lower-case hex without colons.
pub fn openssl_sha256_fingerprint(cert: &Path) -> String {
    openssl_fingerprint(cert, "-sha256")
}

/// `openssl x509 -noout -<field>` of a PEM file, trimmed.
pub fn openssl_field(cert: &Path, field: &str) -> String {
    openssl_x509(cert, &[field])
}

/// SHA-256 of the certificate's SubjectPublicKeyInfo DER, lower-case hex, computed by openssl:
/// `openssl x509 -pubkey -noout | openssl pkey -pubin -outform DER | openssl dgst -sha256`.
pub fn openssl_spki_sha256(cert: &Path) -> String {
    let pem = std::fs::read(cert).expect("read certificate");
    let public_key = openssl_pipe(&["x509", "-pubkey", "-noout"], &pem);
    let spki_der = openssl_pipe(&["pkey", "-pubin", "-outform", "DER"], &public_key);
    // `-r`: "<hex> *stdin"
    let digest = openssl_pipe(&["dgst", "-sha256", "-r"], &spki_der);
    String::from_utf8_lossy(&digest)
        .split_whitespace()
        .next()
        .expect("digest")
        .to_ascii_lowercase()
}

impl ElectrumX {
    /// The venv's `electrumx_server` for a version.
    pub fn server_binary(version: ExVersion) -> PathBuf {
        tools_dir()
            .join(format!("electrumx-{}", version.as_str()))
            .join("bin/electrumx_server")
    }

    /// Starts fake bitcoind + ElectrumX. Returns None (after [`missing_tool`]) when the venv or
    /// openssl is missing and tools are not required.
    pub fn start(config: Config) -> Option<ElectrumX> {
        let server = Self::server_binary(config.version);
        if !server.exists() {
            missing_tool(
                &format!(
                    "ElectrumX {} ({})",
                    config.version.as_str(),
                    server.display()
                ),
                SETUP,
            );
            return None;
        }
        if Command::new("openssl").arg("version").output().is_err() {
            missing_tool("openssl", SETUP);
            return None;
        }
        // A port taken between probing and binding is the only expected failure: retry.
        let mut last_err = String::new();
        for _ in 0..3 {
            match Self::try_start(&config, &server) {
                Ok(ex) => return Some(ex),
                Err(e) => last_err = e,
            }
        }
        panic!(
            "ElectrumX {} did not start: {last_err}",
            config.version.as_str()
        );
    }

    fn try_start(config: &Config, server: &Path) -> Result<ElectrumX, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let cert_path = make_v1_certificate(dir.path(), &config.subject);
        let mut bitcoind = Command::new("python3")
            // Via `../scanner` so the path also holds when `cli/tests` include this file.
            .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/../scanner/tests/support/fake_bitcoind.py"))
            .args(["--blocks", &config.blocks.to_string(), "--lifetime", &PROCESS_LIFETIME_SECS.to_string()])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("spawn fake_bitcoind.py: {e}"))?;
        let mut first = String::new();
        let stdout = bitcoind.stdout.take().ok_or("no stdout")?;
        BufReader::new(stdout)
            .read_line(&mut first)
            .map_err(|e| e.to_string())?;
        let chain: ChainInfo = match serde_json::from_str(&first) {
            Ok(c) => c,
            Err(e) => {
                let _ = bitcoind.kill();
                let _ = bitcoind.wait();
                return Err(format!("fake bitcoind said {first:?}: {e}"));
            }
        };
        let (tcp_port, ssl_port) = (free_port(), free_port());
        let db = dir.path().join("db");
        std::fs::create_dir_all(&db).map_err(|e| e.to_string())?;
        let mut cmd = Command::new("timeout");
        // Through the venv's python: 1.16.0 installs the script without its executable bit.
        let python = server.with_file_name("python");
        cmd.arg(PROCESS_LIFETIME_SECS.to_string())
            .arg(python)
            .arg(server)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("COIN", "Bitcoin")
            .env("NET", "regtest")
            .env("DB_ENGINE", "leveldb")
            .env("DB_DIRECTORY", &db)
            .env(
                "DAEMON_URL",
                format!("http://user:pass@127.0.0.1:{}/", chain.port),
            )
            .env(
                "SERVICES",
                format!("tcp://127.0.0.1:{tcp_port},ssl://127.0.0.1:{ssl_port}"),
            )
            .env("SSL_CERTFILE", &cert_path)
            .env("SSL_KEYFILE", dir.path().join("server.key"))
            .env("PEER_DISCOVERY", "off")
            .env("PEER_ANNOUNCE", "")
            .env("ALLOW_ROOT", "1")
            .env("LOG_LEVEL", "warning");
        if let Some(banner) = &config.banner {
            let banner_path = dir.path().join("banner.txt");
            std::fs::write(&banner_path, banner).map_err(|e| e.to_string())?;
            cmd.env("BANNER_FILE", banner_path);
        }
        if let Some(addr) = &config.donation_address {
            cmd.env("DONATION_ADDRESS", addr);
        }
        let log =
            std::fs::File::create(dir.path().join("electrumx.log")).map_err(|e| e.to_string())?;
        let electrumx = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("spawn electrumx_server: {e}"))?;
        let mut ex = ElectrumX {
            tcp_port,
            ssl_port,
            cert_path,
            chain,
            config: config.clone(),
            electrumx,
            bitcoind,
            dir,
        };
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = ex.electrumx.try_wait() {
                return Err(format!("electrumx exited with {status}: {}", ex.log_tail()));
            }
            let up = |p: u16| {
                TcpStream::connect_timeout(&([127, 0, 0, 1], p).into(), Duration::from_millis(200))
                    .is_ok()
            };
            if up(tcp_port) && up(ssl_port) {
                return Ok(ex);
            }
            if started.elapsed() > STARTUP_DEADLINE {
                return Err(format!(
                    "ports not open after {STARTUP_DEADLINE:?}: {}",
                    ex.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The last lines of ElectrumX's log (for failure messages).
    pub fn log_tail(&self) -> String {
        let text =
            std::fs::read_to_string(self.dir.path().join("electrumx.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// `host:port:t` key of the TCP service.
    pub fn tcp_target(&self) -> String {
        format!("127.0.0.1:{}:t", self.tcp_port)
    }

    /// `host:port:s` key of the SSL service.
    pub fn ssl_target(&self) -> String {
        format!("127.0.0.1:{}:s", self.ssl_port)
    }
}

impl Drop for ElectrumX {
    fn drop(&mut self) {
        // SIGTERM (not SIGKILL) so that `timeout` forwards it to electrumx_server.
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.electrumx.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.electrumx.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.electrumx.kill();
        let _ = self.electrumx.wait();
        let _ = self.bitcoind.kill();
        let _ = self.bitcoind.wait();
    }
}
