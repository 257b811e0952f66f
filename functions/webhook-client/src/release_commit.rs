//! Settling which commit a release builds, before its job is requested: the
//! commit the payload named, or the one the forge's API says the tag names.
//!
//! This is the one forge call made while the forge waits for the webhook's
//! answer (statuses are posted later, from the job stream): the job is filed
//! under the commit (`owner/repo/commit10`), so it cannot be requested
//! without one. The lookup is bounded ([`tx_shared::forge_client::TAG_TIMEOUT`]);
//! when it fails the delivery is answered 502 with the reason, nothing is
//! written, and the forge's "Redeliver" retries it cleanly.

use tx_shared::domain::job_request::ReleaseAsset;
use tx_shared::identity::CommitId;
use tx_shared::ports::{ForgeClient, TagQuery};

use crate::error::ClientError;
use crate::event::BuildTrigger;
use crate::event::release::{ReleaseTarget, ReleaseTrigger};

/// The build of `release`'s commit, and its assets.
pub async fn settle(
    forge: &dyn ForgeClient,
    release: ReleaseTrigger,
) -> Result<(Box<BuildTrigger>, Vec<ReleaseAsset>), ClientError> {
    if !release.refused_assets.is_empty() {
        tracing::warn!(
            repo = %release.build.status_repo,
            refused = ?release.refused_assets,
            "release assets with unsafe names are not published"
        );
    }
    let commit = match &release.target {
        ReleaseTarget::Commit(commit) => commit.clone(),
        ReleaseTarget::Tag(tag) => {
            let query = TagQuery {
                forge_id: release.build.forge_id.clone(),
                repo: release.build.status_repo.clone(),
                tag: tag.as_str().to_string(),
            };
            tag_commit(forge, &query).await?
        }
    };
    let (build, assets) = release.with_commit(&commit);
    Ok((Box::new(build), assets))
}

async fn tag_commit(forge: &dyn ForgeClient, query: &TagQuery) -> Result<CommitId, ClientError> {
    let failed = |why: String| {
        ClientError::ForgeApi(format!(
            "release {}: the forge's API did not say which commit tag {} names ({why}); redeliver when it answers",
            query.tag, query.tag
        ))
    };
    let sha = forge.tag_commit(query).await.map_err(|e| failed(e.to_string()))?;
    let commit = CommitId::parse_full(&sha).map_err(|e| failed(e.to_string()))?;
    tracing::info!(repo = %query.repo, tag = %query.tag, commit = %commit, "release tag resolved");
    Ok(commit)
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use std::sync::Mutex;
    use tx_shared::domain::job::CommitInfo;
    use tx_shared::identity::{GitRef, RefName, Segment};
    use tx_shared::ports::{CommitStatus, ForgeError, ForgeKind};

    const SHA: &str = "67b56589a45103f891bdee7c0546e5d40bc02001";

    /// Answers tag lookups with `answer` and records the queries.
    struct Tags {
        answer: Result<String, u16>,
        asked: Mutex<Vec<TagQuery>>,
    }

    #[async_trait]
    impl ForgeClient for Tags {
        async fn set_status(&self, _: &CommitStatus) -> Result<(), ForgeError> {
            Ok(())
        }
        async fn tag_commit(&self, query: &TagQuery) -> Result<String, ForgeError> {
            self.asked.lock().unwrap().push(query.clone());
            self.answer.clone().map_err(|status| ForgeError::Rejected {
                status,
                body: "no".into(),
            })
        }
    }

    fn release(target: ReleaseTarget) -> ReleaseTrigger {
        ReleaseTrigger {
            build: BuildTrigger {
                forge: ForgeKind::Github,
                forge_id: "hub".into(),
                owner: Segment::parse("o", "o").unwrap(),
                repo: Segment::parse("r", "r").unwrap(),
                repo_url: "https://github.com/o/r".into(),
                status_repo: "o/r".into(),
                git_ref: GitRef::tag("v1").unwrap(),
                commit: CommitInfo {
                    commit_id: String::new(),
                    committed_by: None,
                    commit_url: None,
                    compare_url: None,
                    commit_message: None,
                },
                source: "https://github.com/o/r/archive/v1.zip".into(),
                delivery_id: None,
            },
            target,
            assets: Vec::new(),
            refused_assets: Vec::new(),
        }
    }

    fn tags(answer: Result<String, u16>) -> Tags {
        Tags {
            answer,
            asked: Mutex::new(Vec::new()),
        }
    }

    #[tokio::test]
    async fn a_branch_target_is_resolved_through_the_forge() {
        let forge = tags(Ok(SHA.to_uppercase()));
        let target = ReleaseTarget::Tag(RefName::parse("v1").unwrap());
        let (build, _) = settle(&forge, release(target)).await.unwrap();
        assert_eq!(build.commit.commit_id, SHA);
        let asked = forge.asked.lock().unwrap().clone();
        assert_eq!(
            asked,
            vec![TagQuery {
                forge_id: "hub".into(),
                repo: "o/r".into(),
                tag: "v1".into()
            }]
        );
    }

    #[tokio::test]
    async fn a_named_commit_asks_nothing() {
        let forge = tags(Err(500));
        let target = ReleaseTarget::Commit(CommitId::parse_full(SHA).unwrap());
        let (build, _) = settle(&forge, release(target)).await.unwrap();
        assert_eq!(build.commit.commit_id, SHA);
        assert!(forge.asked.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_failed_or_odd_lookup_is_a_502_that_says_why() {
        for answer in [Err(404), Ok("not-a-sha".to_string())] {
            let forge = tags(answer);
            let target = ReleaseTarget::Tag(RefName::parse("v1").unwrap());
            let e = settle(&forge, release(target)).await.unwrap_err();
            assert_eq!((e.status(), e.code()), (502, "forge_api_failed"));
            assert!(e.to_string().contains("tag v1"), "{e}");
        }
    }
}
