//! Where the converter fetches a build's source: the forge's archive of the
//! pushed commit or of a release's tag, and where it fetches a release's
//! attached files.
//!
//! Every URL is built from the registry entry's base URL and validated ids
//! (owner, repository, commit SHA, tag, asset file name); no URL a payload
//! carries is ever fetched (DESIGN.md § "Forges and trust"). Archive URLs
//! are public and need no API token, and naming the exact commit means a
//! later push can never change what this job converts.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use tx_shared::forges::Forge;
use tx_shared::ports::ForgeKind;

use tx_shared::domain::job_request::ReleaseAsset;
use tx_shared::identity::Segment;

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

/// A release's attached files as the converter fetches them, each URL the
/// forge's own download URL built from the registry, the repository, the
/// validated tag and the asset's name:
/// `{url}/{owner}/{repo}/releases/download/{tag}/{name}` (Gitea, Gogs and
/// GitHub all serve it). The asset's `browser_download_url` is never used:
/// it is a payload field and may name any host. A name that is not one safe
/// path segment ([`Segment`]: it becomes `downloads/<name>` on the site) is
/// left out and returned in the second list, so the caller can say so.
pub fn release_assets(
    forge: &Forge,
    repo_path: &str,
    tag: &str,
    assets: &[Asset],
) -> (Vec<ReleaseAsset>, Vec<String>) {
    let mut kept: Vec<ReleaseAsset> = Vec::new();
    let mut refused = Vec::new();
    for asset in assets {
        let name = asset.name.as_deref().map(str::trim).unwrap_or_default();
        if !Segment::is_valid(name) || kept.iter().any(|k| k.name == name) {
            refused.push(name.to_string());
            continue;
        }
        kept.push(ReleaseAsset {
            name: name.to_string(),
            url: format!(
                "{}/{repo_path}/releases/download/{}/{name}",
                forge.web_base(),
                encode(tag),
            ),
            size: asset.size,
        });
    }
    (kept, refused)
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

    fn asset(name: &str, size: Option<u64>) -> Asset {
        Asset {
            name: Some(name.into()),
            browser_download_url: Some("http://169.254.169.254/latest/meta-data".into()),
            size,
        }
    }

    #[test]
    fn release_assets_are_built_from_the_registry_never_taken() {
        let f = forge("gitea", "http://127.0.0.1:3000");
        let (kept, refused) = release_assets(
            &f,
            "o/r",
            "v1",
            &[asset("notes.pdf", Some(12)), asset("en_ulb.ZIP", None)],
        );
        assert!(refused.is_empty());
        assert_eq!(
            kept,
            vec![
                ReleaseAsset {
                    name: "notes.pdf".into(),
                    url: "http://127.0.0.1:3000/o/r/releases/download/v1/notes.pdf".into(),
                    size: Some(12),
                },
                ReleaseAsset {
                    name: "en_ulb.ZIP".into(),
                    url: "http://127.0.0.1:3000/o/r/releases/download/v1/en_ulb.ZIP".into(),
                    size: None,
                },
            ]
        );
        let (kept, _) = release_assets(&f, "o/r", "release/v 1", &[asset("a.xo", None)]);
        assert_eq!(
            kept[0].url,
            "http://127.0.0.1:3000/o/r/releases/download/release/v%201/a.xo"
        );
    }

    #[test]
    fn hostile_asset_names_are_refused() {
        let f = forge("github", "https://github.com");
        let hostile = [
            "../../x.zip",
            "..",
            ".",
            "",
            "a/b.zip",
            "a\\b.zip",
            "index.html?x=1",
            "%2e%2e",
            "bundle\u{0}.zip",
            "caf\u{e9}.zip",
            "dup.zip",
        ];
        let mut assets: Vec<Asset> = hostile.iter().map(|n| asset(n, None)).collect();
        assets.insert(0, asset("dup.zip", None));
        let (kept, refused) = release_assets(&f, "o/r", "v1", &assets);
        assert_eq!(kept.len(), 1, "{kept:?}");
        assert_eq!(kept[0].name, "dup.zip");
        assert_eq!(refused.len(), hostile.len());
    }
}
