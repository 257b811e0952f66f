//! The converter Lambda's handler body: fetch, convert on a blocking thread,
//! upload the zip, answer with a [`ConvertResult`]. Every failure, including
//! a panic in the conversion, becomes `success: false` with a clear message.

use std::sync::Arc;

use tx_shared::domain::convert::{ConvertRequest, ConvertResult};
use tx_shared::ports::ObjectStore;
use tx_shared::ports::object_store::validate_key;

use crate::convert::{Report, convert_path_to_zip};
use crate::error::ConvertError;
use crate::fetch;
use crate::limits::Limits;

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
    let started = std::time::Instant::now();
    let outcome = run(&req, deps).await;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    match &outcome {
        Ok(report) => tracing::info!(
            identifier = %req.identifier,
            resource_type = report.manifest.resource_type.as_str(),
            input_format = %report.input_format,
            warnings = report.warnings.len(),
            errors = report.errors.len(),
            elapsed_ms,
            "converted"
        ),
        Err(e) => tracing::warn!(identifier = %req.identifier, elapsed_ms, "conversion failed: {e}"),
    }
    match outcome {
        Ok(report) => ConvertResult {
            success: true,
            log: report.log,
            warnings: report.warnings,
            errors: report.errors,
            output: Some(req.output_key.clone()),
            resource_type: Some(report.manifest.resource_type.as_str().to_string()),
            input_format: Some(report.input_format),
        },
        Err(e) => ConvertResult {
            success: false,
            log: vec![format!("Conversion of {} failed", req.identifier)],
            warnings: Vec::new(),
            errors: vec![e.to_string()],
            output: None,
            resource_type: None,
            input_format: None,
        },
    }
}

async fn run(req: &ConvertRequest, deps: &ConverterDeps) -> Result<Report, ConvertError> {
    validate_key(&req.output_key)?;
    let work = tempfile::tempdir().map_err(|e| ConvertError::io("temporary folder", e))?;
    let archive = work.path().join("source.zip");
    fetch::fetch(
        &req.source,
        &archive,
        &deps.http,
        deps.preconvert.as_ref(),
        &deps.limits,
    )
    .await?;
    let out_zip = work.path().join("output.zip");
    let (archive2, out2, limits, repo) = (
        archive.clone(),
        out_zip.clone(),
        deps.limits.clone(),
        req.repo_name.clone(),
    );
    let report = tokio::task::spawn_blocking(move || convert_path_to_zip(&archive2, &repo, &out2, &limits))
        .await
        .map_err(|e| ConvertError::Output(format!("conversion crashed: {e}")))??;
    // The publisher unpacks with the output limits: refuse here, before the
    // upload, what it would refuse after it.
    tx_shared::archive::SafeZip::open(&out_zip, tx_shared::archive::ArchiveLimits::OUTPUT)?;
    deps.cdn
        .put_file(&req.output_key, &out_zip, "application/zip")
        .await?;
    Ok(report)
}
