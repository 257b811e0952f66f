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
