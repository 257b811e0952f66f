//! The JSON inside a webhook body, and the bytes its signature covers.
//!
//! Forges can post either `application/json` or a form
//! (`application/x-www-form-urlencoded`, the JSON in a `payload` field).
//! GitHub signs the form body as sent; Gitea and Gogs sign the JSON itself.

use std::borrow::Cow;

use percent_encoding::percent_decode;
use tx_shared::ports::ForgeKind;

/// A webhook body, split into what is verified and what is parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookBody<'a> {
    /// The bytes the forge's signature covers.
    pub signed: Cow<'a, [u8]>,
    /// The JSON event.
    pub json: Cow<'a, [u8]>,
}

/// Why a form body holds no event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("form-encoded webhook has no payload field")]
pub struct NoPayloadField;

/// Splits `raw` according to its content type.
pub fn decode<'a>(
    forge: ForgeKind,
    content_type: Option<&str>,
    raw: &'a [u8],
) -> Result<WebhookBody<'a>, NoPayloadField> {
    let is_form = content_type
        .map(|c| {
            c.trim()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
        .unwrap_or(false);
    if !is_form {
        return Ok(WebhookBody {
            signed: Cow::Borrowed(raw),
            json: Cow::Borrowed(raw),
        });
    }
    let json = raw
        .split(|b| *b == b'&')
        .find_map(|pair| pair.strip_prefix(b"payload="))
        .map(form_decode)
        .ok_or(NoPayloadField)?;
    Ok(match forge {
        ForgeKind::Github | ForgeKind::Gitlab => WebhookBody {
            signed: Cow::Borrowed(raw),
            json: Cow::Owned(json),
        },
        ForgeKind::Gitea | ForgeKind::Gogs => WebhookBody {
            signed: Cow::Owned(json.clone()),
            json: Cow::Owned(json),
        },
    })
}

/// Form decoding: `+` is a space, then percent escapes.
fn form_decode(value: &[u8]) -> Vec<u8> {
    let spaced: Vec<u8> = value.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_decode(&spaced).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_pass_through() {
        let b = decode(ForgeKind::Gitea, Some("application/json"), b"{}").unwrap();
        assert_eq!((&b.signed[..], &b.json[..]), (&b"{}"[..], &b"{}"[..]));
        let b = decode(ForgeKind::Github, None, b"{}").unwrap();
        assert_eq!(&b.json[..], b"{}");
    }

    #[test]
    fn form_bodies_carry_the_json_in_payload() {
        let raw = b"x=1&payload=%7B%22a%22%3A+%22b+c%22%7D";
        let gh = decode(ForgeKind::Github, Some("application/x-www-form-urlencoded"), raw).unwrap();
        assert_eq!(&gh.json[..], br#"{"a": "b c"}"#);
        assert_eq!(&gh.signed[..], &raw[..]);
        let gitea = decode(
            ForgeKind::Gitea,
            Some("Application/X-WWW-Form-Urlencoded; charset=utf-8"),
            raw,
        )
        .unwrap();
        assert_eq!(&gitea.signed[..], br#"{"a": "b c"}"#);
        assert_eq!(
            decode(ForgeKind::Gogs, Some("application/x-www-form-urlencoded"), b"a=b"),
            Err(NoPayloadField)
        );
    }
}
