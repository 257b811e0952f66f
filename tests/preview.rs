//! `tx build`: a local repository becomes a folder of static pages.

use std::path::Path;

#[test]
fn the_sample_bible_previews_as_a_site() {
    let out = tempfile::tempdir().unwrap();
    let input = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/en_ulb");
    let preview = tx::preview::build(&input, out.path()).expect("builds");
    assert_eq!(preview.resource_type, "bible");
    assert_eq!(preview.pages, 2, "two books");
    assert!(preview.errors.is_empty(), "{:?}", preview.errors);
    assert!(preview.index.is_file());
    let book = std::fs::read_to_string(out.path().join("65-3JN.html")).expect("3 John page");
    assert!(book.contains("wellbeloved Gaius"));
    assert!(book.contains("<html"), "a whole templated page, not a fragment");
}

#[test]
fn a_missing_input_is_a_clear_error() {
    let out = tempfile::tempdir().unwrap();
    let err = tx::preview::build(Path::new("/nonexistent/repo.zip"), out.path()).unwrap_err();
    assert!(format!("{err:#}").contains("/nonexistent/repo.zip"), "{err:#}");
}

/// A book with a marker the parser does not know and an HTML entity typed
/// into the text: a translator's pre-push check.
const BROKEN: &str =
    "\\id PHP\n\\h Philippians\n\\c 1\n\\p\n\\v 1 Paul \\fqb and Timothy.\n\\v 2 Grace &#1488; to you.\n";

/// `tx build --strict` of a one-book repository: its exit status, what it
/// printed on stderr, and the site folder.
fn build_strict(file: &str, book: &str) -> (Option<i32>, String, tempfile::TempDir) {
    let repo = tempfile::tempdir().unwrap();
    std::fs::write(repo.path().join(file), book).unwrap();
    let out = tempfile::tempdir().unwrap();
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_tx"))
        .args(["build", "--strict", "--out"])
        .arg(out.path())
        .arg(repo.path())
        .output()
        .unwrap();
    (
        run.status.code(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
        out,
    )
}

#[test]
fn warnings_are_printed_and_written_to_the_build_log_page() {
    let (status, stderr, out) = build_strict("50-PHP.usfm", BROKEN);
    assert_eq!(status, Some(1), "--strict fails on warnings: {stderr}");
    assert!(
        stderr.contains("warning: 50-PHP.usfm:5: \\fqb is not a known marker"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: 50-PHP.usfm:6: an HTML character reference"),
        "{stderr}"
    );
    let page = std::fs::read_to_string(out.path().join("build-log.html")).unwrap();
    assert!(page.contains("50-PHP.usfm:5"), "the build log page lists them");
    assert!(
        out.path().join("51-PHP.html").is_file(),
        "the site is still written"
    );
}

#[test]
fn a_clean_build_passes_strict() {
    let (status, stderr, _) =
        build_strict("57-PHM.usfm", "\\id PHM\n\\h Philemon\n\\c 1\n\\p\n\\v 1 Paul.\n");
    assert_eq!(status, Some(0), "{stderr}");
}
