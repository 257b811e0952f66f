//! Is this webhook really from our forge? Each forge proves it differently,
//! and the check runs on the raw body before a byte of it is parsed.

use base64::Engine;
use http::HeaderMap;
use tx_shared::forges::Secret;
use tx_shared::ports::ForgeKind;
use tx_shared::signature::{constant_time_eq, verify_hex};

/// How far a signed GitLab delivery's `webhook-timestamp` may be from our
/// clock (the Standard Webhooks recommendation): an older one is a replay.
pub const SIGNED_WEBHOOK_TOLERANCE_SECS: i64 = 5 * 60;

/// Standard Webhooks headers, sent by GitLab when the hook has a signing token.
const WEBHOOK_ID: &str = "webhook-id";
const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// Why a webhook's proof of origin was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The header that carries the proof is absent or empty.
    #[error("missing {0} header: set the webhook secret on the forge")]
    Missing(&'static str),
    /// The proof does not match the body under our secret.
    #[error("{0} does not match the body: wrong webhook secret or altered payload")]
    Mismatch(&'static str),
    /// A signed delivery whose timestamp is too far from now (a replay).
    #[error(
        "webhook-timestamp is more than {SIGNED_WEBHOOK_TOLERANCE_SECS} s from now: replayed or delayed delivery"
    )]
    Stale,
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

fn header<'a>(headers: &'a HeaderMap, name: &'static str) -> Result<&'a str, SignatureError> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .ok_or(SignatureError::Missing(name))
}

/// Checks the forge's proof of origin:
/// Gitea `X-Gitea-Signature` and Gogs `X-Gogs-Signature` are hex
/// HMAC-SHA256 of the body; GitHub `X-Hub-Signature-256` is the same prefixed
/// `sha256=`. GitLab: when the configured secret is a signing token
/// (`whsec_<base64>`), the delivery must carry a Standard Webhooks
/// `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`)
/// with a fresh `webhook-timestamp`; otherwise `X-Gitlab-Token` is the secret
/// itself (compared in constant time), which proves the sender knows the
/// token but not that the body is unaltered. `now` is Unix seconds.
pub fn verify(
    forge: ForgeKind,
    headers: &HeaderMap,
    body: &[u8],
    secret: &Secret,
    now: i64,
) -> Result<(), SignatureError> {
    if forge == ForgeKind::Gitlab
        && let Some(key) = secret.signing_key()
    {
        return verify_standard_webhook(headers, body, &key, now);
    }
    let secret = secret.expose();
    let name = signature_header(forge);
    let value = header(headers, name)?;
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

/// The Standard Webhooks check GitLab's signed webhooks use: any of the
/// space-separated `v1,<base64>` signatures matching is enough.
fn verify_standard_webhook(
    headers: &HeaderMap,
    body: &[u8],
    key: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let id = header(headers, WEBHOOK_ID)?;
    let timestamp = header(headers, WEBHOOK_TIMESTAMP)?;
    let signatures = header(headers, WEBHOOK_SIGNATURE)?;
    let mut signed = Vec::with_capacity(id.len() + timestamp.len() + body.len() + 2);
    signed.extend_from_slice(id.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(timestamp.as_bytes());
    signed.push(b'.');
    signed.extend_from_slice(body);
    let expected = hex::decode(tx_shared::signature::sign_hex(key, &signed)).unwrap_or_default();
    let matches = signatures.split(' ').any(|candidate| {
        candidate
            .strip_prefix("v1,")
            .and_then(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .is_some_and(|sig| constant_time_eq(&sig, &expected))
    });
    if !matches {
        return Err(SignatureError::Mismatch(WEBHOOK_SIGNATURE));
    }
    let sent: i64 = timestamp.parse().map_err(|_| SignatureError::Stale)?;
    if (now - sent).abs() > SIGNED_WEBHOOK_TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    Ok(())
}

/// Signs like GitLab's signed webhooks (for tests, the demo and tools):
/// the `webhook-signature` value for this id, timestamp and body.
pub fn standard_webhook_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut signed = format!("{id}.{timestamp}.").into_bytes();
    signed.extend_from_slice(body);
    let mac = hex::decode(tx_shared::signature::sign_hex(key, &signed)).unwrap_or_default();
    format!("v1,{}", base64::engine::general_purpose::STANDARD.encode(mac))
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;
    use tx_shared::forges::ForgeRegistry;
    use tx_shared::signature::sign_hex;

    /// A secret as the registry holds it.
    fn secret(s: &str) -> Secret {
        let json = serde_json::json!([{"id": "f", "kind": "gitlab", "url": "https://h", "secret": s}]);
        ForgeRegistry::parse(&json.to_string(), "test").unwrap().forges()[0]
            .secret_for("o/r")
            .clone()
    }

    fn with(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in pairs {
            h.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        h
    }

    #[test]
    fn github_docs_test_vector() {
        // From GitHub's "Validating webhook deliveries".
        let h = with(&[(
            "x-hub-signature-256",
            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17",
        )]);
        let s = secret("It's a Secret to Everybody");
        assert_eq!(verify(ForgeKind::Github, &h, b"Hello, World!", &s, 0), Ok(()));
        assert!(verify(ForgeKind::Github, &h, b"Hello, World?", &s, 0).is_err());
    }

    #[test]
    fn github_requires_the_prefix_and_gitea_refuses_it() {
        let sig = sign_hex(b"s", b"{}");
        let bare = with(&[("x-hub-signature-256", &sig)]);
        assert_eq!(
            verify(ForgeKind::Github, &bare, b"{}", &secret("s"), 0),
            Err(SignatureError::Mismatch("x-hub-signature-256"))
        );
        let prefixed = with(&[("x-gitea-signature", &format!("sha256={sig}"))]);
        assert!(verify(ForgeKind::Gitea, &prefixed, b"{}", &secret("s"), 0).is_err());
        let plain = with(&[("x-gitea-signature", &sig)]);
        assert_eq!(verify(ForgeKind::Gitea, &plain, b"{}", &secret("s"), 0), Ok(()));
    }

    #[test]
    fn missing_or_empty_header_is_missing() {
        assert_eq!(
            verify(ForgeKind::Gogs, &HeaderMap::new(), b"{}", &secret("s"), 0),
            Err(SignatureError::Missing("x-gogs-signature"))
        );
        // Gitea sends an empty signature when the hook has no secret.
        assert_eq!(
            verify(
                ForgeKind::Gitea,
                &with(&[("x-gitea-signature", "")]),
                b"{}",
                &secret("s"),
                0
            ),
            Err(SignatureError::Missing("x-gitea-signature"))
        );
    }

    #[test]
    fn gitlab_token_is_the_secret_without_line_breaks() {
        let token = |v: &str| with(&[("x-gitlab-token", v)]);
        assert_eq!(
            verify(ForgeKind::Gitlab, &token("abc"), b"{}", &secret("a\nbc"), 0),
            Ok(())
        );
        assert!(verify(ForgeKind::Gitlab, &token("abd"), b"{}", &secret("abc"), 0).is_err());
        assert!(verify(ForgeKind::Gitlab, &token("ab"), b"{}", &secret("abc"), 0).is_err());
    }

    #[test]
    fn gitlab_signed_webhooks_cover_id_timestamp_and_body() {
        // A Standard Webhooks signing secret, in the form GitLab issues them.
        let s = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let key = s.signing_key().unwrap();
        let body = br#"{"object_kind":"push"}"#;
        let now = 1_700_000_000;
        let sig = standard_webhook_signature(&key, "msg_1", now, body);
        let ts = now.to_string();
        let h = with(&[
            ("webhook-id", "msg_1"),
            ("webhook-timestamp", &ts),
            ("webhook-signature", &format!("v1,bm90IGl0 {sig}")),
        ]);
        assert_eq!(verify(ForgeKind::Gitlab, &h, body, &s, now + 10), Ok(()));
        // One byte of the body changed, or the id, or the timestamp: refused.
        assert_eq!(
            verify(ForgeKind::Gitlab, &h, br#"{"object_kind":"pushx"}"#, &s, now),
            Err(SignatureError::Mismatch("webhook-signature"))
        );
        let other_id = with(&[
            ("webhook-id", "msg_2"),
            ("webhook-timestamp", &ts),
            ("webhook-signature", &sig),
        ]);
        assert!(verify(ForgeKind::Gitlab, &other_id, body, &s, now).is_err());
        // A replay outside the tolerance.
        assert_eq!(
            verify(
                ForgeKind::Gitlab,
                &h,
                body,
                &s,
                now + SIGNED_WEBHOOK_TOLERANCE_SECS + 1
            ),
            Err(SignatureError::Stale)
        );
        // With a signing token configured, the plain token is not enough.
        let token_only = with(&[("x-gitlab-token", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")]);
        assert_eq!(
            verify(ForgeKind::Gitlab, &token_only, body, &s, now),
            Err(SignatureError::Missing("webhook-id"))
        );
    }

    #[test]
    fn standard_webhooks_reference_vector() {
        // The Standard Webhooks specification's example: secret, id, timestamp,
        // payload and the signature its reference libraries compute.
        let s = secret("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        let key = s.signing_key().unwrap();
        let sig = standard_webhook_signature(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
