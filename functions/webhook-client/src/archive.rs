//! Where the converter fetches a build's source: the forge's archive of the
//! pushed commit (or of a release's tag), or a release's prebuilt zip.
//!
//! Archive URLs are public and need no API token, and naming the exact commit
//! means a later push can never change what this job converts.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tx_shared::ports::ForgeKind;

use crate::payload::Asset;

/// Characters left as they are in a ref placed in a URL path: unreserved ones
/// and `/` (tags like `release/v1` keep their slash, as the forges expect).
const REF_IN_PATH: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

fn encode(part: &str) -> String {
    utf8_percent_encode(part, REF_IN_PATH).to_string()
}

/// Zip archive of `git_object` (a commit SHA or a tag name) of the repository
/// browsed at `repo_url`. GitLab names the file `<project>-<object>.zip`
/// inside `/-/archive/<object>/`; the others serve `/archive/<object>.zip`.
pub fn archive_url(forge: ForgeKind, repo_url: &str, project: &str, git_object: &str) -> String {
    let base = repo_url.trim_end_matches('/');
    match forge {
        ForgeKind::Gitlab => {
            let file = format!("{project}-{}.zip", git_object.replace('/', "-"));
            format!("{base}/-/archive/{}/{}", encode(git_object), encode(&file))
        }
        ForgeKind::Gitea | ForgeKind::Gogs | ForgeKind::Github => {
            format!("{base}/archive/{}.zip", encode(git_object))
        }
    }
}

/// The first attached `.zip` file of a release (a prebuilt bundle), if any.
pub fn zip_asset(assets: &[Asset]) -> Option<String> {
    assets.iter().find_map(|a| {
        let name = a.name.as_deref().unwrap_or_default();
        let url = a
            .browser_download_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())?;
        let is_zip =
            name.to_ascii_lowercase().ends_with(".zip") || url.to_ascii_lowercase().ends_with(".zip");
        is_zip.then(|| url.to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_archives_per_forge() {
        let sha = "ed87f2c2fc87d289a848d0de8af4aab8317ea3b5";
        assert_eq!(
            archive_url(
                ForgeKind::Gogs,
                "https://git.door43.org/Door43-Catalog/ne-ulb",
                "ne-ulb",
                sha
            ),
            format!("https://git.door43.org/Door43-Catalog/ne-ulb/archive/{sha}.zip")
        );
        assert_eq!(
            archive_url(
                ForgeKind::Gitlab,
                "http://example.com/mike/diaspora/",
                "diaspora",
                sha
            ),
            format!("http://example.com/mike/diaspora/-/archive/{sha}/diaspora-{sha}.zip")
        );
    }

    #[test]
    fn tag_archives_keep_slashes_and_escape_the_rest() {
        assert_eq!(
            archive_url(
                ForgeKind::Github,
                "https://github.com/o/r",
                "r",
                "release/v1 beta"
            ),
            "https://github.com/o/r/archive/release/v1%20beta.zip"
        );
        assert_eq!(
            archive_url(ForgeKind::Gitlab, "https://gl/o/r", "r", "rel/v1"),
            "https://gl/o/r/-/archive/rel/v1/r-rel-v1.zip"
        );
    }

    #[test]
    fn zip_asset_picks_the_first_zip() {
        let assets = vec![
            Asset {
                name: Some("notes.pdf".into()),
                browser_download_url: Some("https://x/notes.pdf".into()),
            },
            Asset {
                name: Some("bundle.ZIP".into()),
                browser_download_url: Some("https://x/dl/1".into()),
            },
            Asset {
                name: Some("other.zip".into()),
                browser_download_url: Some("https://x/other.zip".into()),
            },
        ];
        assert_eq!(zip_asset(&assets).as_deref(), Some("https://x/dl/1"));
        assert_eq!(zip_asset(&assets[..1]), None);
        assert_eq!(zip_asset(&[]), None);
    }
}
