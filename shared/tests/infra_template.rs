//! `infra/template.yaml` and the embedded runtime must route the same events:
//! the stream filter and the CDN notification filter are written in both
//! places, so this keeps them equal.

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

#[test]
fn the_stream_filter_is_the_one_the_embedded_runtime_applies() {
    let quoted = format!("Pattern: '{}'", tx_shared::filter::JOB_STREAM_PATTERN);
    assert!(TEMPLATE.contains(&quoted), "template lacks {quoted}");
    assert_eq!(TEMPLATE.matches("- Pattern:").count(), 1, "one stream filter");
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
    // The template sets them all from one place (Globals), so no function can
    // start without one.
    let mut env: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for line in TEMPLATE.lines() {
        if let Some((k, _)) = line.trim().split_once(": ")
            && k.starts_with("TX_")
        {
            env.insert(k.to_string(), "x".to_string());
        }
    }
    // The names come from the config itself, as it asks for them, so a new
    // variable cannot be forgotten here.
    let asked = std::cell::RefCell::new(Vec::new());
    let config = tx_shared::config::Config::from_lookup(|k| {
        asked.borrow_mut().push(k.to_string());
        env.get(k).cloned()
    });
    assert!(config.is_ok(), "{config:?}");
    assert!(
        TEMPLATE.contains("          TX_OPERATOR_TOKEN: !Ref OperatorToken"),
        "the job manager gets the operator token"
    );
    // Tunables whose defaults fit the template's function timeouts, and the
    // operator token, which only the job manager gets (not every function).
    let defaulted = ["TX_JOB_TIMEOUT_SECS", "TX_MAX_ATTEMPTS", "TX_OPERATOR_TOKEN"];
    let asked = asked.into_inner();
    assert!(asked.len() > defaulted.len(), "{asked:?}");
    for name in asked.iter().filter(|n| !defaulted.contains(&n.as_str())) {
        assert!(
            TEMPLATE.contains(&format!("        {name}: ")),
            "template does not set {name} in Globals"
        );
    }
}

#[test]
fn the_queue_table_is_named_as_the_config_names_it_by_default() {
    // A deployment that sets only TX_JOB_TABLE still finds its queue slots.
    let job = "${AWS::StackName}-job";
    let queue = tx_shared::config::default_queue_table(job);
    for name in [job, queue.as_str()] {
        let line = format!("TableName: !Sub \"{name}\"");
        assert!(TEMPLATE.contains(&line), "template lacks {line}");
    }
    assert!(TEMPLATE.contains("        TX_QUEUE_TABLE: !Ref QueueTable"));
}
