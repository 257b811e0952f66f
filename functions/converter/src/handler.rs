//! The converter Lambda's handler body: fetch, convert on a blocking thread,
//! upload the zip, answer with a [`ConvertResult`]. Every failure, including
//! a panic in the conversion, becomes `success: false` with a clear message.

use std::sync::Arc;

use std::time::Instant;

use tx_shared::domain::convert::{ConvertRequest, ConvertResult, ConvertStages};
use tx_shared::ports::ObjectStore;
use tx_shared::ports::object_store::validate_key;

use crate::bundle::ZipSink;
use crate::convert::{Report, convert_path_to_sink, process_cpu_seconds};
use crate::error::ConvertError;
use crate::fetch;
use crate::limits::Limits;
use crate::release;

/// What the handler needs, built once per Lambda container.
#[derive(Clone)]
pub struct ConverterDeps {
    /// Bucket receiving `tx/job/<id>.zip`.
    pub cdn: Arc<dyn ObjectStore>,
    /// Bucket holding sources uploaded by API clients (`s3://` sources).
    pub preconvert: Arc<dyn ObjectStore>,
    /// HTTP client for forge archives (timeouts set by the caller).
    pub http: reqwest::Client,
    /// Archive limits.
    pub limits: Limits,
}

/// Fetches the source, converts it, uploads the zip to `deps.cdn` at
/// `req.output_key`. Never panics. Logs one line per conversion, so an
/// operator reading CloudWatch (or `tx serve`'s output) sees what was
/// converted, how long it took and how it ended without opening the bucket.
pub async fn handle(req: ConvertRequest, deps: &ConverterDeps) -> ConvertResult {
    let started = Instant::now();
    let cpu_before = process_cpu_seconds();
    let mut stages = ConvertStages::default();
    let outcome = run(&req, deps, &mut stages).await;
    stages.cpu_s = process_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &outcome {
        Ok(done) => tracing::info!(
            identifier = %req.identifier,
            resource_type = done.resource_type.as_deref().unwrap_or("prebuilt"),
            input_format = done.input_format.as_deref().unwrap_or("-"),
            warnings = done.warnings.len(),
            errors = done.errors.len(),
            elapsed_ms,
            fetch_s = stages.fetch_s,
            unpack_s = stages.unpack_s,
            convert_s = stages.convert_s,
            bundle_s = stages.bundle_s,
            cpu_s = stages.cpu_s.unwrap_or(f64::NAN),
            "converted"
        ),
        Err(e) => tracing::warn!(identifier = %req.identifier, elapsed_ms, "conversion failed: {e}"),
    }
    match outcome {
        Ok(done) => ConvertResult {
            success: true,
            log: done.log,
            warnings: done.warnings,
            errors: done.errors,
            output: Some(req.output_key.clone()),
            resource_type: done.resource_type,
            input_format: done.input_format,
            stages: Some(stages),
        },
        Err(e) => ConvertResult {
            success: false,
            log: vec![format!("Conversion of {} failed", req.identifier)],
            warnings: Vec::new(),
            errors: vec![e.to_string()],
            output: None,
            resource_type: None,
            input_format: None,
            stages: Some(stages),
        },
    }
}

/// What was published, for the result: a conversion's report, or a
/// prebuilt site bundle's account (no resource was detected in it).
struct Done {
    log: Vec<String>,
    warnings: Vec<String>,
    errors: Vec<String>,
    resource_type: Option<String>,
    input_format: Option<String>,
    /// Seconds of the conversion, archive opening included.
    seconds: f64,
    /// Seconds of the conversion proper.
    convert_seconds: f64,
}

impl Done {
    /// A conversion's report, with the release's download lines after it.
    fn converted(report: Report, downloads: Vec<String>) -> Done {
        let mut log = report.log;
        log.extend(downloads);
        Done {
            log,
            warnings: report.warnings,
            errors: report.errors,
            resource_type: Some(report.manifest.resource_type.as_str().to_string()),
            input_format: Some(report.input_format),
            seconds: report.seconds,
            convert_seconds: report.convert_seconds,
        }
    }

    /// A published bundle.
    fn prebuilt(log: Vec<String>) -> Done {
        Done {
            log,
            warnings: Vec::new(),
            errors: Vec::new(),
            resource_type: None,
            input_format: None,
            seconds: 0.0,
            convert_seconds: 0.0,
        }
    }
}

/// Fetches the release's files, then publishes a prebuilt site bundle among
/// them as it is, or else fetches and converts the source; either way the
/// files are downloads in the same zip, which is checked and uploaded.
/// Each stage's time goes into `stages` as it ends.
async fn run(
    req: &ConvertRequest,
    deps: &ConverterDeps,
    stages: &mut ConvertStages,
) -> Result<Done, ConvertError> {
    let fetching = Instant::now();
    validate_key(&req.output_key)?;
    let work = tempfile::tempdir().map_err(|e| ConvertError::io("temporary folder", e))?;
    let assets_dir = work.path().join("assets");
    std::fs::create_dir_all(&assets_dir).map_err(|e| ConvertError::io("temporary folder", e))?;
    // Retries of the downloads, first in the build log.
    let mut fetch_log = Vec::new();
    let assets = release::fetch_assets(
        &req.assets,
        &assets_dir,
        &deps.http,
        deps.preconvert.as_ref(),
        &deps.limits,
        &mut fetch_log,
    )
    .await?;
    stages.fetch_s = fetching.elapsed().as_secs_f64();
    let out_zip = work.path().join("output.zip");
    let (out, limits) = (out_zip.clone(), deps.limits.clone());
    let assets2 = assets.clone();
    let prebuilt = blocking(move || release::publish_prebuilt(&assets2, &out, &limits)).await?;
    let mut done = match prebuilt {
        Some(log) => Done::prebuilt(log),
        None => {
            let archive = work.path().join("source.zip");
            let fetching = Instant::now();
            fetch::fetch(
                &req.source,
                &archive,
                &deps.http,
                deps.preconvert.as_ref(),
                &deps.limits,
                &mut fetch_log,
            )
            .await?;
            stages.fetch_s += fetching.elapsed().as_secs_f64();
            let (out, limits, repo) = (out_zip.clone(), deps.limits.clone(), req.repo_name.clone());
            let converting = Instant::now();
            let done = blocking(move || {
                let mut sink = ZipSink::create(&out)?;
                // A build that is not a release's has no downloads.json.
                let downloads = if assets.is_empty() {
                    Vec::new()
                } else {
                    release::publish_downloads(&assets, None, &mut sink)?
                };
                let report = convert_path_to_sink(&archive, &repo, &limits, &mut sink)?;
                Ok(Done::converted(report, downloads))
            })
            .await?;
            stages.unpack_s = done.seconds - done.convert_seconds;
            stages.convert_s = done.convert_seconds;
            stages.bundle_s = converting.elapsed().as_secs_f64() - done.seconds;
            done
        }
    };
    let bundling = Instant::now();
    done.log.splice(0..0, fetch_log);
    // The publisher unpacks with the output limits: refuse here, before the
    // upload, what it would refuse after it.
    tx_shared::archive::SafeZip::open(&out_zip, tx_shared::archive::ArchiveLimits::OUTPUT)?;
    deps.cdn
        .put_file(&req.output_key, &out_zip, "application/zip")
        .await?;
    stages.bundle_s += bundling.elapsed().as_secs_f64();
    Ok(done)
}

/// Runs file work off the async threads; a panic in it is a failed build.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ConvertError> + Send + 'static,
) -> Result<T, ConvertError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ConvertError::Output(format!("conversion crashed: {e}")))?
}
