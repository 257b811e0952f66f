//! Refs and entry points end to end (issue 9, part 2): `tx serve`'s three
//! threads against the loopback forge, the published pages read from the
//! website bucket and parsed as HTML, every relative link followed.

use std::time::Duration;

use scraper::{Html, Selector};
use serde_json::{Value, json};
use tx::demo::DEMO_OWNER;
use tx::demo::examples::ExampleRepo;
use tx::demo::forge::DemoForge;
use tx::runtime::Runtime;
use tx_shared::domain::build_log::{BuildLog, DisplayStatus};
use tx_shared::domain::job::commit10;
use tx_shared::domain::project::ProjectIndex;
use tx_shared::identity::RefKind;
use tx_shared::ports::ObjectStore;

const SECRET: &str = "refs-test-secret";
/// A second commit of the example repository (same content, another id).
const OTHER: &str = "abcdefabcdefabcdefabcdefabcdefabcdef0123";

struct Env {
    _dir: tempfile::TempDir,
    forge: DemoForge,
    runtime: Runtime,
    http: reqwest::Client,
    repo: ExampleRepo,
}

impl Env {
    async fn start() -> Env {
        let dir = tempfile::tempdir().unwrap();
        let forge = DemoForge::start(DEMO_OWNER).await.unwrap();
        let repo = forge.publish_example("en_ulb").unwrap();
        forge.publish(&repo.name, OTHER, repo.archive.clone());
        let runtime = Runtime::start(forge.runtime_options(dir.path(), SECRET))
            .await
            .unwrap();
        Env {
            _dir: dir,
            forge,
            runtime,
            http: reqwest::Client::new(),
            repo,
        }
    }

    fn website(&self) -> &dyn ObjectStore {
        self.runtime.local().expect("local backend").website.as_ref()
    }

    fn repo_prefix(&self) -> String {
        format!("u/{DEMO_OWNER}/{}/", self.repo.name)
    }

    async fn send(&self, event: &str, payload: &Value) -> (u16, Value) {
        let hook = format!("{}/client/webhook", self.runtime.url());
        self.forge
            .send_event(&self.http, &hook, SECRET, event, payload)
            .await
            .unwrap()
    }

    /// Pushes `commit` to `git_ref`; answers the job id.
    async fn push(&self, git_ref: &str, commit: &str) -> String {
        let mut payload = self.forge.push_payload(&self.repo.name, commit, "translate");
        payload["ref"] = git_ref.into();
        let (status, body) = self.send("push", &payload).await;
        assert_eq!(status, 202, "{body}");
        body["job_id"].as_str().unwrap().to_string()
    }

    fn pull_request(&self, action: &str, number: u64, commit: &str) -> Value {
        let push = self.forge.push_payload(&self.repo.name, commit, "translate");
        json!({
            "action": action,
            "number": number,
            "pull_request": {"number": number, "title": "Fix Genesis 1", "head": {"sha": commit, "ref": "fix"}},
            "repository": push["repository"],
            "sender": push["sender"],
        })
    }

    /// Waits for the build of `job_id` at `commit` to be deployed as final
    /// (every finished build's own log is under `builds/<job_id>/`).
    async fn finished(&self, commit: &str, job_id: &str) -> BuildLog {
        let key = format!(
            "{}{}/builds/{job_id}/build_log.json",
            self.repo_prefix(),
            commit10(commit)
        );
        for _ in 0..900 {
            if let Some(bytes) = self.website().get(&key).await.unwrap() {
                let log: BuildLog = serde_json::from_slice(&bytes).unwrap();
                if log.status.is_final() {
                    return log;
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{key} not final within 90 s");
    }

    async fn text(&self, key: &str) -> String {
        let bytes = self
            .website()
            .get(key)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{key} is not on the website"));
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    async fn has(&self, key: &str) -> bool {
        self.website().get(key).await.unwrap().is_some()
    }

    /// Waits until `key` is gone from the website.
    async fn gone(&self, key: &str) {
        for _ in 0..300 {
            if !self.has(key).await {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{key} is still on the website");
    }

    /// Where the entry point page at `key` sends readers (its "latest"
    /// link, resolved to a website key), after checking every relative link
    /// on it leads to a file that exists.
    async fn entry_target(&self, key: &str) -> Option<String> {
        let html = Html::parse_document(&self.text(key).await);
        let links = Selector::parse("a[href], link[href], script[src]").unwrap();
        for element in html.select(&links) {
            let value = element.value();
            let target = value.attr("href").or(value.attr("src")).unwrap();
            let path = target.split('#').next().unwrap();
            if path.is_empty() || path.contains("://") || path.starts_with("mailto:") {
                continue;
            }
            let resolved = resolve(key, path);
            assert!(
                self.has(&resolved).await,
                "{key} links to {target} ({resolved}), which is missing"
            );
        }
        let latest = Selector::parse("article.landing").unwrap();
        let article = html.select(&latest).next()?;
        article.value().attr("data-latest").map(|href| resolve(key, href))
    }
}

/// `href` relative to the page at `key`, as a website key.
fn resolve(key: &str, href: &str) -> String {
    let mut parts: Vec<&str> = key.split('/').collect();
    parts.pop();
    for part in href.split('/') {
        match part {
            ".." => {
                parts.pop();
            }
            "." | "" => {}
            p => parts.push(p),
        }
    }
    parts.join("/")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_tag_build_of_a_published_commit_leaves_its_site() {
    let env = Env::start().await;
    let commit = env.repo.commit_id.clone();
    let c10 = commit10(&commit).to_string();
    let repo = env.repo_prefix();

    let master = env.push("refs/heads/master", &commit).await;
    assert_eq!(
        env.finished(&commit, &master).await.status,
        DisplayStatus::Success
    );
    let site = format!("{repo}{c10}/index.html");
    let page = env.text(&site).await;

    env.forge.fail_archives(true);
    let tag = env.push("refs/tags/v1.0", &commit).await;
    assert_eq!(env.finished(&commit, &tag).await.status, DisplayStatus::Failed);

    assert_eq!(env.text(&site).await, page, "the commit's site stays");
    let shown: BuildLog =
        serde_json::from_str(&env.text(&format!("{repo}{c10}/build_log.json")).await).unwrap();
    assert_eq!(shown.job_id, master);
    assert_eq!(
        env.entry_target(&format!("{repo}index.html")).await,
        Some(site.clone())
    );
    assert_eq!(
        env.entry_target(&format!("{repo}branch/master/index.html")).await,
        Some(site)
    );
    assert_eq!(
        env.entry_target(&format!("{repo}tag/v1.0/index.html")).await,
        None
    );
    env.entry_target(&format!("{repo}{c10}/builds/{tag}/build-log.html"))
        .await;

    let project: ProjectIndex =
        serde_json::from_str(&env.text(&format!("{repo}project.json")).await).unwrap();
    assert_eq!(project.default_branch, "master");
    let refs: Vec<(&str, RefKind, &str)> = project
        .commits
        .iter()
        .map(|c| (c.ref_name.as_str(), c.ref_kind, c.job_id.as_str()))
        .collect();
    assert_eq!(
        refs,
        [
            ("v1.0", RefKind::Tag, tag.as_str()),
            ("master", RefKind::Branch, master.as_str())
        ]
    );
    env.runtime.stop().await;
    env.forge.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn branches_and_pull_requests_have_their_own_entry_points() {
    let env = Env::start().await;
    let commit = env.repo.commit_id.clone();
    let repo = env.repo_prefix();
    let master_site = format!("{repo}{}/index.html", commit10(&commit));
    let other_site = format!("{repo}{}/index.html", commit10(OTHER));

    let master = env.push("refs/heads/master", &commit).await;
    env.finished(&commit, &master).await;
    let draft = env.push("refs/heads/team/experimental-draft", OTHER).await;
    env.finished(OTHER, &draft).await;

    // A push to another branch never moves the landing page; its site is at branch/<name>/.
    let landing = format!("{repo}index.html");
    let branch = format!("{repo}branch/team/experimental-draft/index.html");
    assert_eq!(env.entry_target(&landing).await, Some(master_site.clone()));
    assert_eq!(env.entry_target(&branch).await, Some(other_site.clone()));
    assert!(
        env.text(&landing).await.contains("experimental-draft"),
        "the landing page shows refs"
    );

    // A pull request's preview appears on open and goes on close.
    let (status, body) = env
        .send("pull_request", &env.pull_request("opened", 3, OTHER))
        .await;
    assert_eq!(status, 202, "{body}");
    let pr_job = body["job_id"].as_str().unwrap().to_string();
    env.finished(OTHER, &pr_job).await;
    let preview = format!("{repo}pr/3/index.html");
    assert_eq!(env.entry_target(&preview).await, Some(other_site.clone()));
    let (status, body) = env
        .send("pull_request", &env.pull_request("closed", 3, OTHER))
        .await;
    assert_eq!(
        (status, body["status"].as_str()),
        (200, Some("removed")),
        "{body}"
    );
    env.gone(&preview).await;
    assert!(env.has(&other_site).await, "commit folders stay");

    // A deleted branch removes only its entry point.
    let push = env.forge.push_payload(&env.repo.name, OTHER, "x");
    let delete = json!({"ref": "team/experimental-draft", "ref_type": "branch", "repository": push["repository"], "sender": push["sender"]});
    let (status, body) = env.send("delete", &delete).await;
    assert_eq!(status, 200, "{body}");
    env.gone(&branch).await;
    assert!(env.has(&other_site).await);
    assert_eq!(env.entry_target(&landing).await, Some(master_site.clone()));
    assert_eq!(
        env.entry_target(&format!("{repo}branch/master/index.html")).await,
        Some(master_site)
    );
    env.runtime.stop().await;
    env.forge.stop().await;
}
