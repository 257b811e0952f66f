//! Resource container links (`rc://LANG/RES/KIND/PATH…`): how translation
//! helps refer to each other (a note to its tA article, a tW article to the
//! verses it is used in).
//!
//! The converter resolves the links that stay inside the resource it
//! converts; a link to another resource can only be resolved where the site
//! is known, at publishing, so the converter writes it as the normalised
//! [`RcLink::to_url`] and the deployer turns it into the published page of
//! that resource on this site, or else [`RcLink::forge_url`]. Both read the
//! link through this one type.

/// Where the forge renders other resources' sources, the fallback of a link
/// to a resource this site does not publish.
pub const FORGE_BASE: &str = "https://git.door43.org/unfoldingWord";

/// A parsed `rc://` link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RcLink {
    /// Language id (`en`); `*` already replaced by the linking resource's.
    pub language: String,
    /// Resource id, lower case (`ta`, `tw`, `tn`, `tq`).
    pub resource: String,
    /// Container kind (`man`, `dict`, `help`, `book`), as written.
    pub kind: String,
    /// The path inside the resource, without empty segments.
    pub path: Vec<String>,
}

impl RcLink {
    /// Reads `rc://LANG/RES/KIND/PATH…`; `*` or an empty language is
    /// `language`. `None` when `url` is not an `rc://` link with at least a
    /// resource.
    pub fn parse(url: &str, language: &str) -> Option<RcLink> {
        let rest = url.strip_prefix("rc://")?;
        let mut segs = rest.split('/');
        let lang = match segs.next() {
            Some("*") | Some("") | None => language,
            Some(l) => l,
        };
        let resource = segs.next().filter(|r| !r.is_empty())?.to_ascii_lowercase();
        let kind = segs.next().unwrap_or("").to_string();
        let path = segs.filter(|s| !s.is_empty()).map(str::to_string).collect();
        Some(RcLink {
            language: lang.to_string(),
            resource,
            kind,
            path,
        })
    }

    /// The normalised link (`rc://en/ta/man/translate/figs-verbs`), the form
    /// the converter leaves for the deployer.
    pub fn to_url(&self) -> String {
        let mut url = format!("rc://{}/{}/{}", self.language, self.resource, self.kind);
        for seg in &self.path {
            url.push('/');
            url.push_str(seg);
        }
        url
    }

    /// The path inside a tW dictionary without its `bible/` folder
    /// (`kt/god`), as tW pages and the converter's own index know articles.
    pub fn article_path(&self) -> String {
        let path: &[String] = match self.path.split_first() {
            Some((first, rest)) if self.resource == "tw" && first == "bible" => rest,
            _ => &self.path,
        };
        path.join("/")
    }

    /// The rendered source of the target on the forge: the tA article's
    /// `01.md`, the tW article, the tN book's TSV, else the repository.
    pub fn forge_url(&self) -> String {
        let repo = format!("{FORGE_BASE}/{}_{}", self.language, self.resource);
        let path = self.path.join("/");
        match (self.resource.as_str(), self.book_code()) {
            ("ta", _) if !path.is_empty() => format!("{repo}/src/branch/master/{path}/01.md"),
            ("tw", _) if !path.is_empty() => format!("{repo}/src/branch/master/{path}.md"),
            ("tn", Some(book)) => format!("{repo}/src/branch/master/tn_{book}.tsv"),
            ("tn" | "tq", _) => format!("{repo}/src/branch/master"),
            _ => repo,
        }
    }

    /// The anchor a tN or tQ link names on its book's page
    /// (`rc://en/tn/help/act/04/32` → `ch-4-v-32`; `…/04` → `ch-4`;
    /// `…/front/intro` → `front-intro`); `None` for the book itself.
    pub fn place_anchor(&self) -> Option<String> {
        let chapter = self.path.get(1)?;
        Some(match self.path.get(2).map(String::as_str) {
            None => chapter_anchor(chapter),
            Some("intro") => verse_anchor(chapter, "intro"),
            Some(verse) => {
                let digits = verse.bytes().take_while(u8::is_ascii_digit).count();
                match verse.get(..digits).filter(|d| !d.is_empty()) {
                    Some(number) => verse_anchor(chapter, number),
                    None => chapter_anchor(chapter),
                }
            }
        })
    }

    /// The upper-case book code a tN or tQ link starts with (`act` → `ACT`).
    pub fn book_code(&self) -> Option<String> {
        self.path
            .first()
            .filter(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_alphanumeric()))
            .map(|c| c.to_ascii_uppercase())
    }
}

/// The anchor of a chapter's heading on a tN or tQ page: `front`, or
/// `ch-3` for `3` and `03`. The converter writes headings with it and links
/// are made with it, in the converter and at publishing: one rule.
pub fn chapter_anchor(chapter: &str) -> String {
    if chapter == "front" {
        return "front".to_string();
    }
    let number = chapter.trim_start_matches('0');
    let mut anchor = String::with_capacity(number.len() + 16);
    anchor.push_str("ch-");
    anchor.push_str(number);
    anchor
}

/// The anchor of a verse's heading below [`chapter_anchor`]: `ch-3-v-7` for
/// the verse number `7` or `07`, `ch-3-intro` (`front-intro`) for `intro`.
pub fn verse_anchor(chapter: &str, verse: &str) -> String {
    let mut anchor = chapter_anchor(chapter);
    if verse == "intro" {
        anchor.push_str("-intro");
    } else {
        anchor.push_str("-v-");
        anchor.push_str(verse.trim_start_matches('0'));
    }
    anchor
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_normalises() {
        let l = RcLink::parse("rc://*/ta/man/translate/figs-verbs", "en").unwrap();
        assert_eq!(l.language, "en");
        assert_eq!(l.resource, "ta");
        assert_eq!(l.path, ["translate", "figs-verbs"]);
        assert_eq!(l.to_url(), "rc://en/ta/man/translate/figs-verbs");
        assert_eq!(
            RcLink::parse("rc://fr/TW/dict/bible/kt/god/", "en")
                .unwrap()
                .to_url(),
            "rc://fr/tw/dict/bible/kt/god"
        );
        assert_eq!(RcLink::parse("https://x/rc://", "en"), None);
        assert_eq!(RcLink::parse("rc://en/", "en"), None);
    }

    #[test]
    fn falls_back_to_the_rendered_source_on_the_forge() {
        let forge = |u: &str| RcLink::parse(u, "en").unwrap().forge_url();
        assert_eq!(
            forge("rc://*/ta/man/translate/figs-verbs"),
            format!("{FORGE_BASE}/en_ta/src/branch/master/translate/figs-verbs/01.md")
        );
        assert_eq!(
            forge("rc://en/tw/dict/bible/kt/god"),
            format!("{FORGE_BASE}/en_tw/src/branch/master/bible/kt/god.md")
        );
        assert_eq!(
            forge("rc://en/tn/help/act/04/32"),
            format!("{FORGE_BASE}/en_tn/src/branch/master/tn_ACT.tsv")
        );
        assert_eq!(
            forge("rc://en/tq/help"),
            format!("{FORGE_BASE}/en_tq/src/branch/master")
        );
        assert_eq!(forge("rc://en/ult/book/gen"), format!("{FORGE_BASE}/en_ult"));
        let tw = RcLink::parse("rc://en/tw/dict/bible/kt/god", "en").unwrap();
        assert_eq!(tw.article_path(), "kt/god");
    }

    #[test]
    fn notes_links_name_the_anchors_the_converter_writes() {
        let anchor = |u: &str| RcLink::parse(u, "en").unwrap().place_anchor();
        assert_eq!(anchor("rc://en/tn/help/1jn/01/05").as_deref(), Some("ch-1-v-5"));
        assert_eq!(anchor("rc://en/tn/help/rut/02").as_deref(), Some("ch-2"));
        assert_eq!(
            anchor("rc://en/tn/help/rut/front/intro").as_deref(),
            Some("front-intro")
        );
        assert_eq!(
            anchor("rc://en/tn/help/rut/03/intro").as_deref(),
            Some("ch-3-intro")
        );
        assert_eq!(anchor("rc://en/tn/help/rut").as_deref(), None);
        assert_eq!(verse_anchor("03", "07"), "ch-3-v-7");
    }
}
