//! `tx-convert-bench [--out DIR] [--verbose] PATH…`: converts each input (zip
//! or folder) and prints one line per input: files, bytes, seconds, MB/s and
//! the peak RSS so far. Without `--out` nothing is written (pure conversion
//! cost); with it each input's bundle goes to `DIR/<input name>/`.
//! `--verbose` also prints the log and warnings.

use std::path::{Path, PathBuf};

fn main() {
    let mut out: Option<PathBuf> = None;
    let mut verbose = false;
    let mut paths = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--out" => out = args.next().map(PathBuf::from),
            "--verbose" | "-v" => verbose = true,
            _ => paths.push(a),
        }
    }
    if paths.is_empty() {
        eprintln!("usage: tx-convert-bench [--out DIR] [--verbose] PATH… (zip archives or folders)");
        std::process::exit(2);
    }
    let limits = tx_converter::Limits::default();
    let mut failed = false;
    for p in paths {
        let path = Path::new(&p);
        let result = match &out {
            Some(dir) => {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().trim_end_matches(".zip").to_string())
                    .unwrap_or_default();
                tx_converter::convert_path_to_dir(path, "", &dir.join(name), &limits)
            }
            None => tx_converter::convert_path_dry(path, "", &limits),
        };
        match result {
            Ok(r) => {
                println!(
                    "{p}: files={} bytes={} convert_s={:.3} cpu_s={} total_s={:.3} MB/s={:.1} MB/cpu_s={} pages={} warnings={} peak_rss_kb={}",
                    r.files_in,
                    r.bytes_in,
                    r.convert_seconds,
                    r.convert_cpu_seconds
                        .map(|c| format!("{c:.3}"))
                        .unwrap_or_else(|| "?".into()),
                    r.seconds,
                    r.bytes_in as f64 / 1e6 / r.convert_seconds.max(1e-9),
                    r.convert_cpu_seconds
                        .map(|c| format!("{:.1}", r.bytes_in as f64 / 1e6 / c.max(1e-9)))
                        .unwrap_or_else(|| "?".into()),
                    r.pages,
                    r.warnings.len(),
                    tx_converter::peak_rss_kb()
                        .map(|k| k.to_string())
                        .unwrap_or_else(|| "?".into())
                );
                if verbose {
                    for l in r.log.iter().chain(r.warnings.iter().map(|w| w as &String)) {
                        println!("  {l}");
                    }
                }
            }
            Err(e) => {
                failed = true;
                println!("{p}: error: {e}");
            }
        }
    }
    if failed {
        std::process::exit(1);
    }
}
