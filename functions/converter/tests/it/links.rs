//! Link check over the built corpus sites: every internal link (`page.html`,
//! `page.html#id`, `#id`) of every site built from a corpus repository with
//! Markdown or TSV must land on a page and an element id of that site, or be
//! a warning in the build log. The HTML parser is the oracle, not the
//! converter's own idea of its anchors.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;

use scraper::{Html, Selector};
use tx_converter::{Limits, convert_path_to_dir};

use super::kit::{corpus, repo_zips};

/// Every `.html` file under `dir`, by path relative to it.
fn pages(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().filter_map(|e| e.ok()) {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "html") {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
                out.insert(rel, std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    out
}

fn join(page: &str, rel: &str) -> String {
    let mut parts: Vec<&str> = page.split('/').collect();
    parts.pop();
    for seg in rel.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    parts.join("/")
}

/// (links checked, broken links not warned about, examples of those).
fn check_site(dir: &Path, warnings: &[String]) -> (usize, usize, Vec<String>) {
    let pages = pages(dir);
    let a = Selector::parse("a[href]").unwrap();
    let with_id = Selector::parse("[id]").unwrap();
    let mut ids: HashMap<&str, HashSet<String>> = HashMap::new();
    let mut links = Vec::new();
    for (name, html) in &pages {
        let doc = Html::parse_document(html);
        ids.insert(
            name,
            doc.select(&with_id)
                .filter_map(|e| e.value().attr("id"))
                .map(str::to_string)
                .collect(),
        );
        for e in doc.select(&a) {
            if let Some(h) = e.value().attr("href") {
                links.push((name.as_str(), h.to_string()));
            }
        }
    }
    let mut checked = 0;
    let mut broken = Vec::new();
    for (page, href) in links {
        let scheme = href
            .split_once(':')
            .is_some_and(|(s, _)| !s.contains('/') && !s.contains('#'));
        if scheme || href.starts_with("//") {
            continue;
        }
        checked += 1;
        let (path, frag) = match href.split_once('#') {
            Some((p, f)) => (p, Some(f)),
            None => (href.as_str(), None),
        };
        let target = if path.is_empty() {
            page.to_string()
        } else {
            join(page, path)
        };
        let ok = match ids.get(target.as_str()) {
            None => dir.join(&target).is_file() && frag.is_none(),
            Some(set) => frag.is_none_or(|f| f.is_empty() || set.contains(f)),
        };
        if !ok && !warnings.iter().any(|w| w.contains(href.as_str())) {
            broken.push(format!("{page}: {href}"));
        }
    }
    let n = broken.len();
    broken.truncate(10);
    (checked, n, broken)
}

#[test]
fn every_internal_link_of_the_corpus_sites_resolves_or_is_warned_about() {
    let Some(corpus) = corpus() else { return };
    let names = repo_zips(&corpus);
    let out = tempfile::tempdir().unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for name in names {
        let site = out.path().join(&name);
        let Ok(report) =
            convert_path_to_dir(&corpus.join("repos").join(&name), "", &site, &Limits::default())
        else {
            continue;
        };
        if !matches!(report.input_format.as_str(), "md" | "tsv") {
            continue;
        }
        let (checked, broken, examples) = check_site(&site, &report.warnings);
        total += checked;
        eprintln!("{name}: {checked} internal links checked, {broken} broken and not warned about");
        if broken > 0 {
            failures.push(format!(
                "{name}: {broken} links to nothing not warned about: {examples:#?}"
            ));
        }
        std::fs::remove_dir_all(&site).ok();
    }
    eprintln!("{total} internal links checked in all");
    assert!(total > 10_000, "too few links checked: {total}");
    assert!(failures.is_empty(), "{failures:#?}");
}
