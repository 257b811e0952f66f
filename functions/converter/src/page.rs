//! A converted page: the unit every preprocessor produces and the bundle writes.

use tx_shared::domain::navigation::NavItem;

/// One HTML fragment of the output and its place in the navigation.
#[derive(Debug, Clone)]
pub struct Page {
    /// File name at the zip root (`01-GEN.html`).
    pub name: String,
    /// Body content.
    pub html: String,
    /// Navigation entry (title, href = `name`, children = anchors in it).
    pub nav: NavItem,
    /// Source files it was made from, for the log.
    pub sources: Vec<String>,
    /// Problems found, each `FILE:LINE: message`.
    pub warnings: Vec<String>,
}

/// Receives pages one at a time, so a preprocessor never holds a whole
/// resource's HTML in memory.
pub type Emit<'a> = dyn FnMut(Page) -> Result<(), crate::error::ConvertError> + 'a;

/// The file name of a page named after repository folders or files
/// (`docs/intro` → `docs-intro.html`): `/` and `:` become `-`, so the name,
/// used as a link in the site's navigation, always reads as a relative URL
/// (`javascript:alert(1).html` would not).
pub fn page_file_name(stem: &str) -> String {
    let flat: String = stem
        .chars()
        .map(|c| if matches!(c, '/' | ':') { '-' } else { c })
        .collect();
    format!("{flat}.html")
}

/// A nav entry pointing at `href`.
pub fn nav(title: impl Into<String>, href: impl Into<String>, children: Vec<NavItem>) -> NavItem {
    NavItem {
        title: title.into(),
        href: Some(href.into()),
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_names_read_as_relative_links() {
        assert_eq!(page_file_name("docs/intro"), "docs-intro.html");
        assert_eq!(page_file_name("javascript:alert(1)"), "javascript-alert(1).html");
        assert!(crate::sanitize::url_is_safe(&page_file_name("JavaScript:x")));
    }
}
