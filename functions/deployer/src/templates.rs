//! The site templates: embedded in the binary at build time, each one
//! replaceable by a file of the same name in an override folder.
//!
//! Embedding means a Lambda needs no template files beside it; the override
//! folder lets a site change its look without a rebuild.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::error::DeployError;
use crate::keys::is_safe_relative;

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/", $name)))),*]
    };
}

/// Every template, by name.
const TEMPLATES: &[(&str, &str)] = embedded!(
    "base.html",
    "macros.html",
    "bible.html",
    "obs.html",
    "ta.html",
    "tn.html",
    "tq.html",
    "tw.html",
    "generic.html",
    "toc.html",
    "failed.html",
    "build_log.html",
    "placeholder.html",
    "landing.html",
    "site_index.html",
);

/// Static assets copied to `static/` in the website (and a local preview).
const ASSETS: &[(&str, &str)] = embedded!("static/tx.css", "static/tx.js");

/// The Content-Security-Policy the site's pages are written to satisfy, for
/// whatever serves them (`tx serve` sends it; on AWS a CDN response-headers
/// policy will). Scripts, styles and requests only from the site itself (the
/// templates have no inline script, style element or style attribute, and
/// `tx.js` fetches build logs from the same site); images also from any
/// https host (OBS pictures); no plugins, frames, forms or `<base>`. It is the
/// second wall behind the converter's sanitiser: a script that got into a
/// page would still not run.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
img-src 'self' https:; connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

/// The template environment of one deployment.
pub struct Templates {
    env: Environment<'static>,
    override_dir: Option<PathBuf>,
}

impl Templates {
    /// The embedded templates, each overridden by `override_dir/<name>` when
    /// that file exists.
    pub fn new(override_dir: Option<&Path>) -> Templates {
        let mut env = Environment::new();
        // A misspelt variable in a template is a bug to see at once, not an empty string.
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_trim_blocks(true);
        env.set_lstrip_blocks(true);
        env.set_formatter(html_formatter);
        let dir = override_dir.map(Path::to_path_buf);
        let loader_dir = dir.clone();
        env.set_loader(move |name| {
            if let Some(text) = read_override(loader_dir.as_deref(), name)? {
                return Ok(Some(text));
            }
            Ok(TEMPLATES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| (*text).to_string()))
        });
        Templates {
            env,
            override_dir: dir,
        }
    }

    /// Renders template `name` with `ctx`.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, DeployError> {
        let err = |source| DeployError::Template {
            name: name.to_string(),
            source,
        };
        self.env.get_template(name).map_err(err)?.render(ctx).map_err(err)
    }

    /// The static assets (name below `static/`, contents), overrides applied.
    pub fn assets(&self) -> Result<Vec<(String, Bytes)>, DeployError> {
        ASSETS
            .iter()
            .map(|(path, text)| {
                let body = match read_override(self.override_dir.as_deref(), path) {
                    Ok(Some(own)) => own,
                    Ok(None) => (*text).to_string(),
                    Err(source) => {
                        return Err(DeployError::Template {
                            name: (*path).to_string(),
                            source,
                        });
                    }
                };
                let name = path.trim_start_matches("static/").to_string();
                Ok((name, Bytes::from(body)))
            })
            .collect()
    }
}

/// minijinja's HTML escaping also turns `/` into `&#x2f;`, which makes every
/// URL in the page unreadable in the source; escape only what HTML needs.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    let plain = matches!(state.auto_escape(), minijinja::AutoEscape::Html)
        && !value.is_safe()
        && !value.is_undefined()
        && !value.is_none();
    if !plain {
        return minijinja::escape_formatter(out, state, value);
    }
    std::fmt::Write::write_str(out, &escape_html(&value.to_string()))
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, e.to_string()))
}

/// Escapes text for HTML content and double- or single-quoted attributes.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Reads `dir/name` if there is such a file; a name that would leave the folder is never looked up.
fn read_override(dir: Option<&Path>, name: &str) -> Result<Option<String>, minijinja::Error> {
    let Some(dir) = dir else { return Ok(None) };
    if !is_safe_relative(name) {
        return Ok(None);
    }
    let path = dir.join(name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(minijinja::Error::new(
            minijinja::ErrorKind::TemplateNotFound,
            format!("cannot read override {}: {e}", path.display()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_embedded_template_compiles() {
        let t = Templates::new(None);
        for (name, _) in TEMPLATES {
            t.env
                .get_template(name)
                .unwrap_or_else(|e| panic!("{name}: {e:#}"));
        }
    }

    /// What [`CONTENT_SECURITY_POLICY`] would block: inline scripts, style
    /// elements and attributes, event handler attributes.
    #[test]
    fn the_templates_satisfy_the_content_security_policy() {
        for (name, text) in TEMPLATES {
            let lower = text.to_ascii_lowercase();
            for (at, _) in lower.match_indices("<script") {
                let tag = &lower[at..lower[at..].find('>').map_or(lower.len(), |e| at + e)];
                assert!(tag.contains(" src="), "{name}: inline script {tag}");
            }
            assert!(!lower.contains("<style"), "{name}: style element");
            assert!(!lower.contains(" style="), "{name}: style attribute");
            let handler = lower
                .split(|c: char| c.is_whitespace())
                .find(|w| w.starts_with("on") && w.contains('=') && w[2..].starts_with(char::is_alphabetic));
            assert_eq!(handler, None, "{name}: event handler attribute");
        }
        for directive in [
            "script-src 'self'",
            "style-src 'self'",
            "base-uri 'none'",
            "default-src 'none'",
        ] {
            assert!(CONTENT_SECURITY_POLICY.contains(directive), "{directive}");
        }
        assert!(!CONTENT_SECURITY_POLICY.contains("unsafe"));
    }

    #[test]
    fn a_file_in_the_override_dir_wins() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site_index.html"), "mine: {{ title }}").unwrap();
        std::fs::create_dir(dir.path().join("static")).unwrap();
        std::fs::write(dir.path().join("static/tx.css"), "body{}").unwrap();
        let t = Templates::new(Some(dir.path()));
        let out = t
            .render("site_index.html", minijinja::context! { title => "<x>" })
            .unwrap();
        assert_eq!(out, "mine: &lt;x&gt;");
        let out = t
            .render(
                "site_index.html",
                minijinja::context! { title => "a/b \"c\" 'd' & e" },
            )
            .unwrap();
        assert_eq!(out, "mine: a/b &quot;c&quot; &#39;d&#39; &amp; e");
        let assets = t.assets().unwrap();
        assert!(
            assets
                .iter()
                .any(|(n, b)| n == "tx.css" && b.as_ref() == b"body{}")
        );
        assert!(assets.iter().any(|(n, b)| n == "tx.js" && !b.is_empty()));
    }

    #[test]
    fn a_broken_override_is_a_template_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("site_index.html"), "{% if %}").unwrap();
        let t = Templates::new(Some(dir.path()));
        let err = t.render("site_index.html", ()).unwrap_err();
        assert!(matches!(err, DeployError::Template { .. }));
        assert!(!err.is_retryable());
    }
}
