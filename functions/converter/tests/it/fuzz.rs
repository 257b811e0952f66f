//! Property-style robustness: arbitrary and adversarial input never panics
//! any parser or renderer. A seeded generator keeps failures reproducible.

use tx_converter::markdown::{self, MdOptions};
use tx_converter::usfm::{self, books};

/// xorshift64*: small, seeded, dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const TOKENS: &[&str] = &[
    "\\id GEN ",
    "\\c ",
    "\\c 1",
    "\\v ",
    "\\v 1 ",
    "\\v 2-3 ",
    "\\v 3a ",
    "\\p\n",
    "\\q1 ",
    "\\s5\n",
    "\\f + ",
    "\\f*",
    "\\x - ",
    "\\x*",
    "\\ft ",
    "\\fr 1:1 ",
    "\\w ",
    "\\w*",
    "|",
    "x-occurrence=\"1\"",
    "\\zaln-s |x-strong=\"G1\"",
    "\\*",
    "\\zaln-e\\*",
    "\\ts\\*",
    "\\add ",
    "\\add*",
    "\\+nd ",
    "\\+nd*",
    "\\tr ",
    "\\th1 ",
    "\\tc2 ",
    "\\mt ",
    "\\h ",
    "\\toc1 ",
    "\\",
    "\\\\",
    "*",
    "\n",
    "\r\n",
    " ",
    "\t",
    "0",
    "9",
    "999999999999",
    "-",
    "é",
    "ἀ",
    "\u{202e}",
    "<",
    "&",
    "\"",
    "\\esb",
    "\\esbe",
    "\\periph x|id=\"y\"",
    "\\fig a|src=\"b\"\\fig*",
    "\\qt-s |who=\"x\"\\*",
    "\\v",
    "\\c",
    "\\xyz ",
];

fn random_usfm(rng: &mut Rng) -> String {
    let n = rng.below(200);
    let mut s = String::new();
    for _ in 0..n {
        if rng.below(10) == 0 {
            let len = rng.below(8);
            let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
            s.push_str(&String::from_utf8_lossy(&bytes));
        } else {
            s.push_str(TOKENS[rng.below(TOKENS.len())]);
        }
    }
    s
}

#[test]
fn usfm_renderer_never_panics() {
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    for i in 0..3000 {
        let src = random_usfm(&mut rng);
        let hint = books::BOOKS.get(rng.below(80));
        let r = usfm::render_book(&src, "fuzz.usfm", hint);
        // Whatever the input, the output is balanced enough to be a fragment.
        assert!(!r.html.contains("<html"), "case {i}");
        assert!(
            r.warnings.len() <= tx_converter::warnings::MAX_PER_FILE + 1,
            "case {i}"
        );
    }
}

#[test]
fn random_bytes_never_panic_any_parser() {
    let mut rng = Rng(42);
    for _ in 0..2000 {
        let len = rng.below(400);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let (text, _) = tx_converter::tree::decode_text(bytes);
        let _ = usfm::render_book(&text, "x.usfm", None);
        let _ = markdown::render(&text, &MdOptions::default());
        let none = |_: &str| None;
        let _ = tx_converter::tsv::render_notes(
            &text,
            "tn_GEN.tsv",
            books::by_code("GEN").unwrap(),
            "01-GEN.html",
            &none,
        );
        let _ = tx_converter::usfm::check::parse_verse_label(&text);
        let _ = tx_shared::archive::safe_entry_name(&text);
        let _ = tx_converter::links::resolve("a/b.md", &text);
        let mut html = String::new();
        if tx_converter::simple_markdown::render_simple(&mut html, &text, None) {
            assert_eq!(html, markdown::render(&text, &MdOptions::default()), "{text:?}");
        }
    }
}

#[test]
fn generated_books_keep_every_verse() {
    // Property: for well-formed generated books, every verse number has its anchor.
    let mut rng = Rng(7);
    for _ in 0..200 {
        let chapters = 1 + rng.below(5);
        let mut src = String::from("\\id MAT\n\\h Matthew\n");
        let mut want = Vec::new();
        for c in 1..=chapters {
            src.push_str(&format!("\\c {c}\n\\p\n"));
            let verses = 1 + rng.below(30);
            for v in 1..=verses {
                let word = [" ", "é ", ", ", "&lt; "][rng.below(4)];
                src.push_str(&format!(
                    "\\v {v} \\zaln-s |x-a=\"1\"\\*\\w word|x-b=\"2\"\\w*\\zaln-e\\*{word}text\n"
                ));
                if rng.below(5) == 0 {
                    src.push_str("\\q1 poetry \\f + \\ft note\\f*\n");
                }
                want.push(format!("id=\"ch-{c}-v-{v}\""));
            }
        }
        let r = usfm::render_book(&src, "MAT.usfm", None);
        for w in &want {
            assert!(r.html.contains(w.as_str()), "{w} missing");
        }
        assert_eq!(r.verse_count, want.len());
        assert!(!r.html.contains("x-a") && !r.html.contains("zaln"));
    }
}
