//! Outbound HTTP rules shared by every client that fetches on a webhook's
//! behalf: a redirect is followed only to the host (and port) the request was
//! built for, so a forge, or anything answering for it, cannot send tX (and
//! a token or a download) to another host, such as an internal service.

use std::time::Duration;

use reqwest::redirect::{Attempt, Policy};

use crate::forges::host_key;

/// Most redirects followed for one request.
pub const MAX_REDIRECTS: usize = 5;

/// The redirect policy of every outbound client: same host and port as the
/// first request (an `http` → `https` upgrade on the same host is allowed),
/// at most [`MAX_REDIRECTS`] hops. Anything else is an error that names
/// neither host, because it may end up in a public build log.
pub fn same_host_redirects() -> Policy {
    Policy::custom(|attempt: Attempt| {
        if attempt.previous().len() > MAX_REDIRECTS {
            return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
        }
        let Some(first) = attempt.previous().first() else {
            return attempt.follow();
        };
        let next = attempt.url();
        let same_host = first
            .host_str()
            .zip(next.host_str())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b));
        let same_port = host_key(first) == host_key(next);
        let upgrade = first.scheme() == "http" && next.scheme() == "https" && next.port().is_none();
        if (same_host && (same_port || upgrade)) || github_download(first, next) {
            attempt.follow()
        } else {
            attempt.error("a redirect to another host was refused")
        }
    })
}

/// github.com serves every archive and release asset from its download hosts
/// (`codeload.github.com`, `objects.githubusercontent.com`) by redirect; those
/// are GitHub's own, so a redirect there from github.com over https is
/// followed. No other cross-host redirect is.
fn github_download(first: &reqwest::Url, next: &reqwest::Url) -> bool {
    let from = first.host_str().unwrap_or_default().to_ascii_lowercase();
    let to = next.host_str().unwrap_or_default().to_ascii_lowercase();
    matches!(from.as_str(), "github.com" | "api.github.com")
        && matches!(
            to.as_str(),
            "codeload.github.com" | "objects.githubusercontent.com"
        )
        && next.scheme() == "https"
        && next.port().is_none()
}

/// A client builder with [`same_host_redirects`]; callers add their timeouts.
pub fn builder() -> reqwest::ClientBuilder {
    reqwest::Client::builder().redirect(same_host_redirects())
}

/// What an outbound client is for, which fixes its timeouts: one home for
/// them, so no function waits on a forge longer than its role allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Source archives and release assets: large bodies, so a generous
    /// total, but a forge that stops sending (a trickle, a hung proxy) is
    /// given up after [`Role::idle`] without a byte, in seconds rather than
    /// minutes, so it cannot hold a runner for the whole total.
    Download,
    /// Forge APIs, callbacks and the job API: small bodies, answered fast
    /// or not at all.
    Api,
}

impl Role {
    /// Longest wait for a TCP (and TLS) connection.
    pub fn connect(self) -> Duration {
        match self {
            Role::Download => Duration::from_secs(5),
            Role::Api => Duration::from_secs(3),
        }
    }

    /// Longest wait between two reads of the response.
    pub fn idle(self) -> Duration {
        match self {
            Role::Download => Duration::from_secs(15),
            Role::Api => Duration::from_secs(5),
        }
    }

    /// Longest a whole request may take.
    pub fn total(self) -> Duration {
        match self {
            Role::Download => Duration::from_secs(600),
            Role::Api => Duration::from_secs(10),
        }
    }
}

/// A client for `role`: [`same_host_redirects`] and the role's timeouts.
pub fn client(role: Role) -> reqwest::Result<reqwest::Client> {
    builder()
        .connect_timeout(role.connect())
        .read_timeout(role.idle())
        .timeout(role.total())
        .build()
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::time::Instant;

    use super::*;

    /// A forge that sends its headers and one byte, then nothing: the
    /// client gives up after the idle timeout, long before the total.
    #[tokio::test]
    async fn a_trickling_forge_fails_after_the_idle_timeout() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let stall = Role::Api.idle() + Duration::from_secs(3);
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut buf = [0u8; 1024];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nx");
            std::thread::sleep(stall);
        });
        let started = Instant::now();
        let client = client(Role::Api).unwrap();
        let outcome = match client.get(format!("http://{addr}/archive.zip")).send().await {
            Ok(response) => response.bytes().await.map(|_| ()),
            Err(e) => Err(e),
        };
        let waited = started.elapsed();
        let err = outcome.expect_err("a stalled body is an error");
        assert!(err.is_timeout() || err.is_body(), "{err}");
        assert!(
            waited >= Role::Api.idle() - Duration::from_millis(200),
            "{waited:?}"
        );
        assert!(
            waited < stall,
            "gave up after {waited:?}, not at the idle timeout"
        );
        // The server thread ends by itself when its stall is over.
        drop(server);
    }
}
