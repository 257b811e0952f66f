//! `tx bench convert PATH…`: converts each input without writing anything and
//! prints one line of figures per input, so throughput and memory are
//! measured on real data in one run (compare ratios, not absolute seconds, on
//! a shared machine).

use std::path::Path;

use tx_converter::{Limits, bench_convert};

/// Benchmarks each input; one line each on stdout. Fails if any input does.
pub fn convert(paths: &[impl AsRef<Path>]) -> anyhow::Result<()> {
    let limits = Limits::default();
    let mut failures = 0;
    for path in paths {
        let path = path.as_ref();
        match bench_convert(path, &limits) {
            Ok(f) => println!(
                "{}: files={} bytes={} seconds={:.3} convert_seconds={:.3} MB/s={:.1} MB/cpu_s={} peak_rss_MB={} warnings={}",
                path.display(),
                f.files,
                f.bytes,
                f.seconds,
                f.convert_seconds,
                f.mb_per_s,
                f.mb_per_cpu_s
                    .map(|m| format!("{m:.1}"))
                    .unwrap_or_else(|| "?".into()),
                f.peak_rss_kb
                    .map(|k| format!("{:.1}", k as f64 / 1024.0))
                    .unwrap_or_else(|| "?".into()),
                f.warnings
            ),
            Err(e) => {
                failures += 1;
                println!("{}: error: {e}", path.display());
            }
        }
    }
    anyhow::ensure!(failures == 0, "{failures} input(s) failed to convert");
    Ok(())
}
