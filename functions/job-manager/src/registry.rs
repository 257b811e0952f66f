//! The converter module registry: which function converts which
//! (resource type, input format, output format).
//!
//! tX kept a table of converters that registered themselves; here the table is
//! data in the deployment, so adding a converter is adding a row.

use serde::{Deserialize, Serialize};

/// One converter function and what it accepts (`*` accepts anything).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConverterModule {
    /// Module name recorded on the job (`convert_module`).
    pub name: String,
    /// Function to invoke.
    pub function: String,
    /// Accepted resource types.
    pub resource_types: Vec<String>,
    /// Accepted input formats.
    pub input_formats: Vec<String>,
    /// Produced output formats.
    pub output_formats: Vec<String>,
}

/// The modules, tried in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModuleRegistry {
    modules: Vec<ConverterModule>,
}

fn accepts(list: &[String], value: &str) -> bool {
    list.iter().any(|v| v == "*" || v.eq_ignore_ascii_case(value))
}

impl ModuleRegistry {
    /// The standard registry: the bundled converter detects the resource type
    /// itself, so it takes every type and input, and produces HTML.
    pub fn standard(converter_function: &str) -> ModuleRegistry {
        ModuleRegistry {
            modules: vec![ConverterModule {
                name: "tx-converter".into(),
                function: converter_function.into(),
                resource_types: vec!["*".into()],
                input_formats: vec!["*".into()],
                output_formats: vec!["html".into()],
            }],
        }
    }

    /// A registry with these modules.
    pub fn new(modules: Vec<ConverterModule>) -> ModuleRegistry {
        ModuleRegistry { modules }
    }

    /// The first module that accepts the combination.
    pub fn pick(
        &self,
        resource_type: &str,
        input_format: &str,
        output_format: &str,
    ) -> Option<&ConverterModule> {
        self.modules.iter().find(|m| {
            accepts(&m.resource_types, resource_type)
                && accepts(&m.input_formats, input_format)
                && accepts(&m.output_formats, output_format)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_registry_takes_html_only() {
        let r = ModuleRegistry::standard("conv");
        assert_eq!(
            r.pick("bible", "usfm", "html").map(|m| m.function.as_str()),
            Some("conv")
        );
        assert_eq!(
            r.pick("unknown", "unknown", "HTML").map(|m| m.name.as_str()),
            Some("tx-converter")
        );
        assert!(r.pick("bible", "usfm", "pdf").is_none());
    }

    #[test]
    fn first_matching_module_wins() {
        let m = |name: &str, rt: &str| ConverterModule {
            name: name.into(),
            function: name.into(),
            resource_types: vec![rt.into()],
            input_formats: vec!["*".into()],
            output_formats: vec!["html".into()],
        };
        let r = ModuleRegistry::new(vec![m("obs", "obs"), m("any", "*")]);
        assert_eq!(r.pick("obs", "md", "html").map(|m| m.name.as_str()), Some("obs"));
        assert_eq!(r.pick("tw", "md", "html").map(|m| m.name.as_str()), Some("any"));
    }
}
