//! Where the converter fetches a build's source: the forge's archive of the
//! pushed commit (or of a release's tag), or a release's prebuilt zip.
//!
//! Every URL is built from the registry entry's base URL and validated ids
//! (owner, repository, commit SHA, tag, asset file name); no URL a payload
//! carries is ever fetched (DESIGN.md § "Forges and trust"). Archive URLs
//! are public and need no API token, and naming the exact commit means a
//! later push can never change what this job converts.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tx_shared::forges::Forge;
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

/// Characters left as they are in one path segment (a file name).
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(part: &str) -> String {
    utf8_percent_encode(part, REF_IN_PATH).to_string()
}

/// Zip archive of `git_object` (a commit SHA or a validated tag name) of the
/// repository at `repo_path` (`owner/repo`, or a GitLab project path) on
/// `forge`. GitLab names the file `<project>-<object>.zip` inside
/// `/-/archive/<object>/`; the others serve `/archive/<object>.zip`.
pub fn archive_url(forge: &Forge, repo_path: &str, git_object: &str) -> String {
    let base = format!("{}/{repo_path}", forge.web_base());
    match forge.kind {
        ForgeKind::Gitlab => {
            let project = repo_path.rsplit('/').next().unwrap_or(repo_path);
            let file = format!("{project}-{}.zip", git_object.replace('/', "-"));
            format!("{base}/-/archive/{}/{}", encode(git_object), encode(&file))
        }
        ForgeKind::Gitea | ForgeKind::Gogs | ForgeKind::Github => {
            format!("{base}/archive/{}.zip", encode(git_object))
        }
    }
}

/// Whether `name` can be an asset's file name in a URL: one segment, no
/// control characters, not `.`/`..`.
fn is_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.chars().any(|c| c == '/' || c == '\\' || c.is_control())
}

/// The first attached `.zip` of a release (a prebuilt bundle), as the
/// forge's own download URL built from the registry, the repository, the
/// validated tag and the asset's file name:
/// `{url}/{owner}/{repo}/releases/download/{tag}/{name}` (Gitea, Gogs and
/// GitHub all serve it). The asset's `browser_download_url` is never used:
/// it is a payload field and may name any host. `None` when no asset is a
/// zip with a usable name.
pub fn release_asset_url(forge: &Forge, repo_path: &str, tag: &str, assets: &[Asset]) -> Option<String> {
    let name = assets.iter().find_map(|a| {
        let name = a.name.as_deref().map(str::trim)?;
        (name.to_ascii_lowercase().ends_with(".zip") && is_file_name(name)).then_some(name)
    })?;
    Some(format!(
        "{}/{repo_path}/releases/download/{}/{}",
        forge.web_base(),
        encode(tag),
        utf8_percent_encode(name, SEGMENT)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tx_shared::forges::ForgeRegistry;

    fn forge(kind: &str, url: &str) -> Forge {
        let json = serde_json::json!([{"id": "f", "kind": kind, "url": url, "secret": "s"}]);
        ForgeRegistry::parse(&json.to_string(), "test").unwrap().forges()[0].clone()
    }

    #[test]
    fn commit_archives_per_forge() {
        let sha = "ed87f2c2fc87d289a848d0de8af4aab8317ea3b5";
        assert_eq!(
            archive_url(
                &forge("gogs", "https://git.door43.org"),
                "Door43-Catalog/ne-ulb",
                sha
            ),
            format!("https://git.door43.org/Door43-Catalog/ne-ulb/archive/{sha}.zip")
        );
        assert_eq!(
            archive_url(&forge("gitlab", "http://example.com/"), "mike/diaspora", sha),
            format!("http://example.com/mike/diaspora/-/archive/{sha}/diaspora-{sha}.zip")
        );
        assert_eq!(
            archive_url(&forge("gitea", "https://h.org/git"), "o/r", sha),
            format!("https://h.org/git/o/r/archive/{sha}.zip")
        );
    }

    #[test]
    fn tag_archives_keep_slashes_and_escape_the_rest() {
        assert_eq!(
            archive_url(&forge("github", "https://github.com"), "o/r", "release/v1 beta"),
            "https://github.com/o/r/archive/release/v1%20beta.zip"
        );
        assert_eq!(
            archive_url(&forge("gitlab", "https://gl"), "o/r", "rel/v1"),
            "https://gl/o/r/-/archive/rel/v1/r-rel-v1.zip"
        );
    }

    #[test]
    fn release_assets_are_built_from_the_registry_never_taken() {
        let f = forge("gitea", "http://127.0.0.1:3000");
        let assets = vec![
            Asset {
                name: Some("notes.pdf".into()),
                browser_download_url: Some("https://x/notes.pdf".into()),
            },
            Asset {
                name: Some("en ulb.ZIP".into()),
                browser_download_url: Some("http://169.254.169.254/latest/meta-data".into()),
            },
        ];
        assert_eq!(
            release_asset_url(&f, "o/r", "v1", &assets).as_deref(),
            Some("http://127.0.0.1:3000/o/r/releases/download/v1/en%20ulb.ZIP")
        );
        assert_eq!(release_asset_url(&f, "o/r", "v1", &assets[..1]), None);
        let sneaky = vec![Asset {
            name: Some("../../x.zip".into()),
            browser_download_url: None,
        }];
        assert_eq!(release_asset_url(&f, "o/r", "v1", &sneaky), None);
    }
}
