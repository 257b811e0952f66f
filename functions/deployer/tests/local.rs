//! `tx build`'s offline preview: a converted zip or folder becomes a folder
//! of pages that work from disk.

mod common;

use std::io::Write;

use common::bible;
use tx_deployer::render_local;

#[test]
fn a_converted_folder_becomes_a_browsable_site() {
    let src = tempfile::tempdir().unwrap();
    for (name, body) in bible("en", "English", "ltr").files {
        std::fs::write(src.path().join(name), body).unwrap();
    }
    let out = tempfile::tempdir().unwrap();
    let site = render_local(src.path(), out.path()).unwrap();
    assert_eq!(site.pages, 2);
    assert_eq!(site.index, out.path().join("index.html"));
    let index = std::fs::read_to_string(&site.index).unwrap();
    assert!(
        index.contains(r#"href="static/tx.css""#),
        "static files beside the pages"
    );
    assert!(index.contains("Local preview"));
    assert!(!index.contains("canonical"));
    assert!(out.path().join("static/tx.css").is_file());
    let genesis = std::fs::read_to_string(out.path().join("01-GEN.html")).unwrap();
    assert!(genesis.contains("In the beginning") && genesis.contains(r#"href="02-EXO.html""#));
}

#[test]
fn a_converted_zip_in_one_folder_is_read_from_inside_it() {
    let dir = tempfile::tempdir().unwrap();
    let zip_path = dir.path().join("en_ulb.zip");
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for (name, body) in bible("he", "עברית", "rtl").files {
        zip.start_file(format!("en_ulb/{name}"), zip::write::SimpleFileOptions::default())
            .unwrap();
        zip.write_all(&body).unwrap();
    }
    zip.finish().unwrap();
    let out = dir.path().join("site");
    let site = render_local(&zip_path, &out).unwrap();
    assert_eq!(site.pages, 2, "{:?}", site.notes);
    let exo = std::fs::read_to_string(out.join("02-EXO.html")).unwrap();
    assert!(exo.contains(r#"dir="rtl""#));
}

#[test]
fn a_missing_input_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let err = render_local(&out.path().join("nope.zip"), out.path()).unwrap_err();
    assert!(err.to_string().contains("nope.zip"), "{err}");
}
