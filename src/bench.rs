//! `tx bench convert [--repeat N] PATH…`: converts each input without
//! writing anything and prints one line of figures per input, so throughput
//! and memory are measured on real data in one run. `tx bench e2e` (see
//! [`e2e`]) measures webhook → published page on the embedded runtime.
//!
//! Each input is converted N times and the best and median runs are shown:
//! on a shared, noisy machine the best of several runs is the figure that
//! says what the code costs, the median what a user may see; compare ratios
//! between inputs of one run, not absolute seconds between machines.

use std::path::Path;

use tx_converter::{BenchFigures, Limits, bench_convert};

mod e2e;

pub use e2e::{E2eOptions, e2e};

/// Benchmarks each input `repeat` times; one line each on stdout. Fails if
/// any input does.
pub fn convert(paths: &[impl AsRef<Path>], repeat: usize) -> anyhow::Result<()> {
    let limits = Limits::default();
    let mut failures = 0;
    for path in paths {
        let path = path.as_ref();
        let runs: Result<Vec<BenchFigures>, _> =
            (0..repeat.max(1)).map(|_| bench_convert(path, &limits)).collect();
        match runs {
            Ok(mut runs) => {
                runs.sort_by(|a, b| a.convert_seconds.total_cmp(&b.convert_seconds));
                println!("{}: {}", path.display(), line(&runs));
            }
            Err(e) => {
                failures += 1;
                println!("{}: error: {e}", path.display());
            }
        }
    }
    anyhow::ensure!(failures == 0, "{failures} input(s) failed to convert");
    Ok(())
}

/// The figures of runs sorted fastest first.
fn line(runs: &[BenchFigures]) -> String {
    let (Some(best), Some(median)) = (runs.first(), runs.get(runs.len() / 2)) else {
        return "no runs".into();
    };
    let peak = runs.iter().filter_map(|r| r.peak_rss_kb).max();
    format!(
        "files={} bytes={} runs={} best: convert_s={:.3} MB/s={:.1} MB/cpu_s={} | median: convert_s={:.3} MB/s={:.1} | end_to_end_s={:.3} peak_rss_MB={} warnings={}",
        best.files,
        best.bytes,
        runs.len(),
        best.convert_seconds,
        best.mb_per_s,
        best.mb_per_cpu_s
            .map(|m| format!("{m:.1}"))
            .unwrap_or_else(|| "?".into()),
        median.convert_seconds,
        median.mb_per_s,
        best.seconds,
        peak.map(|k| format!("{:.1}", k as f64 / 1024.0))
            .unwrap_or_else(|| "?".into()),
        best.warnings
    )
}
