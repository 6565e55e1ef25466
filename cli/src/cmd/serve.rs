//! `observatory serve`: a tiny static file server for the built site, on 127.0.0.1 only.
//!
//! GET and HEAD, one request per connection, correct content types (`application/wasm`
//! included, which browsers require for streaming compilation). Paths are decoded, then
//! refused if they contain `..`, backslashes or NUL, and the resolved file must stay inside
//! the served directory after symlinks are followed. `/` and directories serve
//! `index.html`; unknown paths serve `404.html` when the site has one (GitHub Pages does the
//! same), else a plain 404.

use std::path::{Component, Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Largest request head read, bytes.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// Deadline to receive a request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Deadline to send a response.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);

/// Arguments of `observatory serve`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Directory to serve (the built site).
    #[arg(long, default_value = "dist")]
    pub dir: PathBuf,
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Stop after this long (`90s`, `30m`, `2h`); default: until Ctrl-C.
    #[arg(long, value_parser = super::parse_duration)]
    pub duration: Option<Duration>,
}

/// Runs the subcommand.
pub fn run(args: Args) -> anyhow::Result<()> {
    let root = args
        .dir
        .canonicalize()
        .with_context(|| format!("cannot serve {}", args.dir.display()))?;
    anyhow::ensure!(root.is_dir(), "{} is not a directory", root.display());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", args.port))
            .await
            .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
        let addr = listener.local_addr()?;
        println!(
            "Serving {} at http://{addr}/  (Ctrl-C to stop)",
            root.display()
        );
        let serve = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let root = root.clone();
                tokio::spawn(async move {
                    let _ = tokio::time::timeout(SEND_TIMEOUT, handle(stream, &root)).await;
                });
            }
        };
        match args.duration {
            Some(d) => tokio::select! {
                _ = serve => {}
                _ = tokio::signal::ctrl_c() => {}
                _ = tokio::time::sleep(d) => {}
            },
            None => tokio::select! {
                _ = serve => {}
                _ = tokio::signal::ctrl_c() => {}
            },
        }
        anyhow::Ok(())
    })
}

async fn handle(mut stream: TcpStream, root: &Path) -> std::io::Result<()> {
    let Ok(head) = tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await else {
        return Ok(());
    };
    let head = head?;
    let request_line = head.lines().next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (method, target) = (
        parts.next().unwrap_or_default(),
        parts.next().unwrap_or_default(),
    );
    if method != "GET" && method != "HEAD" {
        return respond(
            &mut stream,
            405,
            "text/plain; charset=utf-8",
            b"method not allowed\n",
            method == "HEAD",
        )
        .await;
    }
    match resolve(root, target) {
        Resolved::File(path) => match tokio::fs::read(&path).await {
            Ok(body) => {
                respond(
                    &mut stream,
                    200,
                    content_type(&path),
                    &body,
                    method == "HEAD",
                )
                .await
            }
            Err(_) => not_found(&mut stream, root, method == "HEAD").await,
        },
        Resolved::NotFound => not_found(&mut stream, root, method == "HEAD").await,
        Resolved::Refused => {
            respond(
                &mut stream,
                400,
                "text/plain; charset=utf-8",
                b"bad path\n",
                method == "HEAD",
            )
            .await
        }
    }
}

async fn read_head(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 2048];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < MAX_REQUEST_HEAD {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

async fn not_found(stream: &mut TcpStream, root: &Path, head_only: bool) -> std::io::Result<()> {
    match tokio::fs::read(root.join("404.html")).await {
        Ok(body) => respond(stream, 404, "text/html; charset=utf-8", &body, head_only).await,
        Err(_) => {
            respond(
                stream,
                404,
                "text/plain; charset=utf-8",
                b"not found\n",
                head_only,
            )
            .await
        }
    }
}

async fn respond(
    stream: &mut TcpStream,
    status: u16,
    content_type: &str,
    body: &[u8],
    head_only: bool,
) -> std::io::Result<()> {
    let reason = match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    if !head_only {
        stream.write_all(body).await?;
    }
    stream.shutdown().await
}

/// Where a request target leads.
#[derive(Debug, PartialEq, Eq)]
enum Resolved {
    File(PathBuf),
    NotFound,
    Refused,
}

/// Maps a request target to a file under `root` (already canonical).
fn resolve(root: &Path, target: &str) -> Resolved {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let Some(decoded) = percent_decode(path) else {
        return Resolved::Refused;
    };
    if !decoded.starts_with('/') || decoded.contains('\\') || decoded.contains('\0') {
        return Resolved::Refused;
    }
    let relative = Path::new(decoded.trim_start_matches('/'));
    if relative
        .components()
        .any(|c| !matches!(c, Component::Normal(_)))
    {
        return Resolved::Refused;
    }
    let mut candidate = root.join(relative);
    if candidate.is_dir() {
        candidate = candidate.join("index.html");
    }
    match candidate.canonicalize() {
        Ok(real) if real.starts_with(root) && real.is_file() => Resolved::File(real),
        Ok(_) => Resolved::Refused,
        Err(_) => Resolved::NotFound,
    }
}

/// Decodes `%XX` escapes; None when an escape is malformed or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Content type by extension.
fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("json" | "map") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        Some("md" | "txt") => "text/plain; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("gz") => "application/gzip",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh empty directory under the system temp dir, unique per process and test name.
    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "observatory-serve-test-{}-{name}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn paths_resolve_inside_root_only() {
        let dir = temp_dir("root");
        std::fs::write(dir.join("index.html"), "<html>").unwrap();
        std::fs::create_dir(dir.join("data")).unwrap();
        std::fs::write(dir.join("data/a b.json"), "{}").unwrap();
        let root = dir.canonicalize().unwrap();
        assert_eq!(resolve(&root, "/"), Resolved::File(root.join("index.html")));
        assert_eq!(
            resolve(&root, "/index.html?x=1#y"),
            Resolved::File(root.join("index.html"))
        );
        assert_eq!(
            resolve(&root, "/data/a%20b.json"),
            Resolved::File(root.join("data/a b.json"))
        );
        assert_eq!(resolve(&root, "/missing.js"), Resolved::NotFound);
        for bad in [
            "/../etc/passwd",
            "/%2e%2e/etc/passwd",
            "/data/..%2f..%2fx",
            "/a\\b",
            "/%00",
            "/%zz",
            "relative",
            "/./index.html",
        ] {
            assert_eq!(resolve(&root, bad), Resolved::Refused, "{bad}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlinks_out_of_root_are_refused() {
        let dir = temp_dir("inside");
        let outside = temp_dir("outside");
        std::fs::write(outside.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(outside.join("secret"), dir.join("link")).unwrap();
        let root = dir.canonicalize().unwrap();
        assert_eq!(resolve(&root, "/link"), Resolved::Refused);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::remove_dir_all(&outside);
    }

    #[test]
    fn content_types() {
        assert_eq!(content_type(Path::new("site_bg.wasm")), "application/wasm");
        assert_eq!(
            content_type(Path::new("a.JS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type(Path::new("index.html")),
            "text/html; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("snapshot.json")), "application/json");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
