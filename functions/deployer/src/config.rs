//! Where the published site lives and how it looks: the deployer's settings.

use std::path::PathBuf;

/// Public addresses and template choice of the website the deployer writes.
///
/// Pages link to each other relatively (so any static host serves them), but a
/// few things need absolute addresses: the canonical URL of a page and the
/// link to the raw converter output on the CDN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SiteConfig {
    /// Public base URL of the website bucket's root, without a trailing `/`.
    pub site_url: String,
    /// Public base URL of the CDN bucket, without a trailing `/`.
    pub cdn_url: String,
    /// A folder whose files replace the embedded templates and static assets
    /// of the same name (`bible.html`, `static/tx.css`, …); `None` for the
    /// embedded ones only.
    pub templates_dir: Option<PathBuf>,
}

impl SiteConfig {
    /// Settings with the embedded templates; trailing `/` are dropped from the URLs.
    pub fn new(site_url: impl Into<String>, cdn_url: impl Into<String>) -> SiteConfig {
        SiteConfig {
            site_url: site_url.into().trim_end_matches('/').to_string(),
            cdn_url: cdn_url.into().trim_end_matches('/').to_string(),
            templates_dir: None,
        }
    }

    /// The settings of a deployment: its URLs from `config`, and templates
    /// overridden from `TX_TEMPLATES_DIR` when that is set (the same rule on
    /// Lambda and in `tx serve`).
    pub fn from_config(config: &tx_shared::config::Config) -> SiteConfig {
        let site = SiteConfig::new(&config.site_url, &config.cdn_url);
        match std::env::var("TX_TEMPLATES_DIR") {
            Ok(dir) if !dir.is_empty() => site.with_templates_dir(dir),
            _ => site,
        }
    }

    /// The same settings with templates overridden from `dir`.
    pub fn with_templates_dir(mut self, dir: impl Into<PathBuf>) -> SiteConfig {
        self.templates_dir = Some(dir.into());
        self
    }

    /// Absolute URL of a website key.
    pub fn site_link(&self, key: &str) -> String {
        format!("{}/{}", self.site_url, key)
    }

    /// Absolute URL of a CDN key.
    pub fn cdn_link(&self, key: &str) -> String {
        format!("{}/{}", self.cdn_url, key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_trailing_slashes() {
        let c = SiteConfig::new("https://site.example/", "https://cdn.example//");
        assert_eq!(
            c.site_link("u/o/r/index.html"),
            "https://site.example/u/o/r/index.html"
        );
        assert_eq!(
            c.cdn_link("u/o/r/c/build_log.json"),
            "https://cdn.example/u/o/r/c/build_log.json"
        );
    }
}
