//! Which forge sent a webhook, which event it is and which delivery, read
//! from the headers alone (the body is not trusted before its signature is).

use http::HeaderMap;
use tx_shared::ports::ForgeKind;

/// The forge's description of one webhook delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The forge dialect (decides the signature scheme and payload shape).
    pub forge: ForgeKind,
    /// The event name as the forge spells it (`push`, `Tag Push Hook`, …).
    pub event: String,
    /// The forge's id of this delivery; redeliveries carry the same one, so
    /// the job manager can recognise them.
    pub delivery_id: Option<String>,
}

fn text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// Detects the forge. Gitea also sends Gogs and GitHub headers, and Gogs also
/// sends GitHub headers, so the most specific header wins: Gitea, then Gogs,
/// then GitLab, then GitHub. `None` when no forge header is present.
pub fn detect(headers: &HeaderMap) -> Option<Delivery> {
    [
        ForgeKind::Gitea,
        ForgeKind::Gogs,
        ForgeKind::Gitlab,
        ForgeKind::Github,
    ]
    .into_iter()
    .find_map(|kind| detect_as(headers, kind))
}

/// Reads the delivery as `kind` sends it (the registry entry's kind decides,
/// not the headers): `None` when the headers lack that kind's event header.
/// Gitea's Gogs and GitHub headers let a Gitea delivery be read as either.
pub fn detect_as(headers: &HeaderMap, kind: ForgeKind) -> Option<Delivery> {
    let (event, delivery_id) = match kind {
        ForgeKind::Gitea => (text(headers, "x-gitea-event")?, text(headers, "x-gitea-delivery")),
        ForgeKind::Gogs => (text(headers, "x-gogs-event")?, text(headers, "x-gogs-delivery")),
        // `Idempotency-Key` stays the same when GitLab retries a delivery;
        // `X-Gitlab-Event-UUID` is the fallback for versions without it.
        ForgeKind::Gitlab => (
            text(headers, "x-gitlab-event")?,
            text(headers, "idempotency-key").or_else(|| text(headers, "x-gitlab-event-uuid")),
        ),
        ForgeKind::Github => (
            text(headers, "x-github-event")?,
            text(headers, "x-github-delivery"),
        ),
    };
    Some(Delivery {
        forge: kind,
        event: event.to_string(),
        delivery_id: delivery_id.map(str::to_string),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn gitea_wins_over_its_gogs_and_github_compat_headers() {
        let h = headers(&[
            ("X-GitHub-Event", "push"),
            ("X-Gogs-Event", "push"),
            ("X-Gitea-Event", "push"),
            ("X-Gitea-Delivery", "d-gitea"),
            ("X-Gogs-Delivery", "d-gogs"),
        ]);
        let d = detect(&h).unwrap();
        assert_eq!(d.forge, ForgeKind::Gitea);
        assert_eq!(d.delivery_id.as_deref(), Some("d-gitea"));
    }

    #[test]
    fn gogs_wins_over_its_github_compat_headers() {
        let h = headers(&[
            ("X-Github-Event", "push"),
            ("X-Gogs-Event", "push"),
            ("X-Gogs-Delivery", "g1"),
        ]);
        let d = detect(&h).unwrap();
        assert_eq!(d.forge, ForgeKind::Gogs);
        assert_eq!(d.delivery_id.as_deref(), Some("g1"));
    }

    #[test]
    fn gitlab_prefers_the_idempotency_key() {
        let h = headers(&[
            ("X-Gitlab-Event", "Push Hook"),
            ("X-Gitlab-Event-UUID", "recursion"),
            ("Idempotency-Key", "same-on-retry"),
        ]);
        let d = detect(&h).unwrap();
        assert_eq!((d.forge, d.event.as_str()), (ForgeKind::Gitlab, "Push Hook"));
        assert_eq!(d.delivery_id.as_deref(), Some("same-on-retry"));
        let h = headers(&[
            ("X-Gitlab-Event", "Push Hook"),
            ("X-Gitlab-Event-UUID", "recursion"),
        ]);
        assert_eq!(detect(&h).unwrap().delivery_id.as_deref(), Some("recursion"));
    }

    #[test]
    fn github_alone_and_nothing() {
        let h = headers(&[("X-GitHub-Event", "ping"), ("X-GitHub-Delivery", "72d3162e")]);
        let d = detect(&h).unwrap();
        assert_eq!((d.forge, d.event.as_str()), (ForgeKind::Github, "ping"));
        assert!(detect(&headers(&[("content-type", "application/json")])).is_none());
        assert!(detect(&headers(&[("X-GitHub-Event", "")])).is_none());
    }
}
