//! Outbound HTTP rules shared by every client that fetches on a webhook's
//! behalf: a redirect is followed only to the host (and port) the request was
//! built for, so a forge, or anything answering for it, cannot send tX (and
//! a token or a download) to another host, such as an internal service.

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
