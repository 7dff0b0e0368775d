//! The page's HTTP side: the app served on loopback, a GET as a browser
//! sends it, and the cookies the browser keeps.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::{Error, Result};

/// An HTTP response, as the test client received it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Response {
    /// The first header called `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// The cookies a browser holds for the app.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar(BTreeMap<String, String>);

impl Jar {
    pub(crate) fn header(&self) -> String {
        self.0
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_string(), value.to_string());
    }

    /// Takes a `set-cookie` header: stores the cookie, or removes it when
    /// it expires now.
    fn store(&mut self, header: &str) {
        let mut parts = header.split(';');
        let Some((name, value)) = parts.next().and_then(|pair| pair.split_once('=')) else {
            return;
        };
        let expired = parts.any(|part| {
            let part = part.trim().to_ascii_lowercase();
            part == "max-age=0" || part.starts_with("max-age=-")
        });
        if expired || value.is_empty() {
            self.0.remove(name.trim());
        } else {
            self.0
                .insert(name.trim().to_string(), value.trim().to_string());
        }
    }
}

/// Sends `GET path` with the jar's cookies and stores the ones set.
pub(crate) async fn get(address: SocketAddr, path: &str, jar: &mut Jar) -> Result<Response> {
    let failed = |error: std::io::Error| Error::Connection(format!("GET {path}: {error}"));
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(failed)?;
    let cookie = jar.header();
    let cookie = if cookie.is_empty() {
        String::new()
    } else {
        format!("cookie: {cookie}\r\n")
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nhost: {address}\r\naccept: text/html\r\n{cookie}connection: close\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.map_err(failed)?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.map_err(failed)?;
    let response = parse_response(&raw)
        .ok_or_else(|| Error::Connection(format!("GET {path}: the response is not HTTP/1.1")))?;
    for (name, value) in &response.headers {
        if name == "set-cookie" {
            jar.store(value);
        }
    }
    Ok(response)
}

fn parse_response(raw: &[u8]) -> Option<Response> {
    let split = raw.windows(4).position(|window| window == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..split]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split(' ').nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(name, value)| name == "transfer-encoding" && value.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Response {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut raw: &[u8]) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let end = raw.windows(2).position(|window| window == b"\r\n")?;
        let size = std::str::from_utf8(&raw[..end]).ok()?;
        let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
        raw = &raw[end + 2..];
        if size == 0 {
            return Some(body);
        }
        body.extend_from_slice(raw.get(..size)?);
        raw = raw.get(size + 2..)?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_chunked_bodies_and_cookies() {
        let raw = b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let response = parse_response(raw).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, "abcde");
        let mut jar = Jar::default();
        jar.store(response.header("set-cookie").unwrap());
        assert_eq!(jar.header(), "a=1");
        jar.store("a=; Path=/; Max-Age=0");
        assert_eq!(jar.header(), "");
    }
}
