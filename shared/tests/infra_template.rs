//! `infra/template.yaml` and the embedded runtime must route the same events:
//! the stream filter and the CDN notification filter are written in both
//! places, so this keeps them equal.

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

#[test]
fn the_stream_filter_is_the_one_the_embedded_runtime_applies() {
    let quoted = format!("Pattern: '{}'", tx_shared::filter::JOB_STREAM_PATTERN);
    assert!(TEMPLATE.contains(&quoted), "template lacks {quoted}");
    assert_eq!(TEMPLATE.matches("Pattern:").count(), 1, "one stream filter");
}

#[test]
fn the_cdn_notification_filter_is_the_one_the_embedded_runtime_applies() {
    let prefix = format!(
        "{{ Name: prefix, Value: {} }}",
        tx_shared::filter::CDN_NOTIFICATION_PREFIX
    );
    let suffix = format!(
        "{{ Name: suffix, Value: {} }}",
        tx_shared::filter::CDN_NOTIFICATION_SUFFIX
    );
    assert!(TEMPLATE.contains(&prefix), "template lacks {prefix}");
    assert!(TEMPLATE.contains(&suffix), "template lacks {suffix}");
}

#[test]
fn every_variable_the_config_reads_is_set_by_the_template() {
    for name in [
        "TX_JOB_TABLE",
        "TX_MANIFEST_TABLE",
        "TX_PRECONVERT_BUCKET",
        "TX_CDN_BUCKET",
        "TX_WEBSITE_BUCKET",
        "TX_CONVERTER_FUNCTION",
        "TX_WEBHOOK_SECRET",
        "TX_CALLBACK_SECRET",
        "TX_API_URL",
        "TX_SITE_URL",
        "TX_CDN_URL",
        "TX_FORGE_TOKEN",
        "TX_ALLOWED_HOSTS",
        "TX_BRANCHES",
    ] {
        assert!(
            TEMPLATE.contains(&format!("        {name}: ")),
            "template does not set {name}"
        );
    }
    // And the template sets them all from one place (Globals), so no function
    // can start without one: Config::from_env checks the same list.
    let mut env: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for line in TEMPLATE.lines() {
        let t = line.trim();
        if let Some((k, _)) = t.split_once(": ")
            && k.starts_with("TX_")
        {
            env.insert(k.to_string(), "x".to_string());
        }
    }
    let config = tx_shared::config::Config::from_lookup(|k| env.get(k).cloned());
    assert!(config.is_ok(), "{config:?}");
}
