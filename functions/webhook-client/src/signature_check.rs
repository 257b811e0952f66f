//! Is this webhook really from our forge? Each forge proves it differently,
//! and the check runs on the raw body before a byte of it is parsed.

use http::HeaderMap;
use tx_shared::ports::ForgeKind;
use tx_shared::signature::{constant_time_eq, verify_hex};

/// Why a webhook's proof of origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header that carries the proof is absent or empty.
    #[error("missing {0} header: set the webhook secret on the forge")]
    Missing(&'static str),
    /// The proof does not match the body under our secret.
    #[error("{0} does not match the body: wrong webhook secret or altered payload")]
    Mismatch(&'static str),
}

/// The header each forge puts its proof in.
pub fn signature_header(forge: ForgeKind) -> &'static str {
    match forge {
        ForgeKind::Gitea => "x-gitea-signature",
        ForgeKind::Gogs => "x-gogs-signature",
        ForgeKind::Github => "x-hub-signature-256",
        ForgeKind::Gitlab => "x-gitlab-token",
    }
}

/// Checks the forge's proof of origin:
/// Gitea `X-Gitea-Signature` and Gogs `X-Gogs-Signature` are hex
/// HMAC-SHA256 of the body; GitHub `X-Hub-Signature-256` is the same prefixed
/// `sha256=`; GitLab `X-Gitlab-Token` is the secret itself (compared in
/// constant time).
pub fn verify(
    forge: ForgeKind,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<(), SignatureError> {
    let name = signature_header(forge);
    let value = headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(SignatureError::Missing(name))?;
    let ok = match forge {
        ForgeKind::Gitea | ForgeKind::Gogs => {
            !value.starts_with("sha256=") && verify_hex(secret.as_bytes(), body, value)
        }
        ForgeKind::Github => value
            .strip_prefix("sha256=")
            .is_some_and(|hex| verify_hex(secret.as_bytes(), body, hex)),
        ForgeKind::Gitlab => {
            // GitLab sends the secret with its line breaks removed.
            let expected: String = secret.chars().filter(|c| *c != '\n' && *c != '\r').collect();
            constant_time_eq(value.as_bytes(), expected.trim().as_bytes())
        }
    };
    if ok && !secret.is_empty() {
        Ok(())
    } else {
        Err(SignatureError::Mismatch(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use tx_shared::signature::sign_hex;

    fn with(name: &'static str, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn github_docs_test_vector() {
        // From GitHub's "Validating webhook deliveries".
        let h = with(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        );
        assert_eq!(
            verify(
                ForgeKind::Github,
                &h,
                b"Hello, World!",
                "It's a Secret to Everybody"
            ),
            Ok(())
        );
        assert!(
            verify(
                ForgeKind::Github,
                &h,
                b"Hello, World?",
                "It's a Secret to Everybody"
            )
            .is_err()
        );
    }

    #[test]
    fn github_requires_the_prefix_and_gitea_refuses_it() {
        let sig = sign_hex(b"s", b"{}");
        let bare = with("x-hub-signature-256", &sig);
        assert_eq!(
            verify(ForgeKind::Github, &bare, b"{}", "s"),
            Err(SignatureError::Mismatch("x-hub-signature-256"))
        );
        let prefixed = with("x-gitea-signature", &format!("sha256={sig}"));
        assert!(verify(ForgeKind::Gitea, &prefixed, b"{}", "s").is_err());
        assert_eq!(
            verify(ForgeKind::Gitea, &with("x-gitea-signature", &sig), b"{}", "s"),
            Ok(())
        );
    }

    #[test]
    fn missing_or_empty_header_is_missing() {
        assert_eq!(
            verify(ForgeKind::Gogs, &HeaderMap::new(), b"{}", "s"),
            Err(SignatureError::Missing("x-gogs-signature"))
        );
        // Gitea sends an empty signature when the hook has no secret.
        assert_eq!(
            verify(ForgeKind::Gitea, &with("x-gitea-signature", ""), b"{}", "s"),
            Err(SignatureError::Missing("x-gitea-signature"))
        );
    }

    #[test]
    fn gitlab_token_is_the_secret_without_line_breaks() {
        assert_eq!(
            verify(ForgeKind::Gitlab, &with("x-gitlab-token", "abc"), b"{}", "a\nbc"),
            Ok(())
        );
        assert!(verify(ForgeKind::Gitlab, &with("x-gitlab-token", "abd"), b"{}", "abc").is_err());
        assert!(verify(ForgeKind::Gitlab, &with("x-gitlab-token", "ab"), b"{}", "abc").is_err());
    }

    #[test]
    fn an_empty_secret_never_verifies() {
        let sig = sign_hex(b"", b"{}");
        assert!(verify(ForgeKind::Gitea, &with("x-gitea-signature", &sig), b"{}", "").is_err());
    }
}
