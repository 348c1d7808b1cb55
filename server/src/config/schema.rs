//! The settings schema as JSON Schema (`swiss config --schema`): keys, types, limits and
//! descriptions from the `Options` types, defaults from `Settings::default()`, so that neither is
//! written down a second time. Editors, the VS Code extension's contributed settings and a
//! `swiss.toml` language server can all check against it.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::options::Options;

/// What a secret shows as wherever settings are printed.
pub const REDACTED: &str = "<redacted>";

pub fn json_schema() -> Value {
    // Inline sections read as the nested tables they are, for people and for the drift test.
    let generator = SchemaSettings::draft2020_12()
        .with(|s| s.inline_subschemas = true)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Options>().to_value();
    set_defaults(&mut schema, &defaults_value());
    schema
}

/// A setting's default by its key (`repair.samples`): `None` for a key the schema does not have,
/// `Some(Null)` for one left unset by default.
pub fn default_of(key: &str) -> Option<Value> {
    let (section, field) = key.split_once('.')?;
    defaults_value().get(section)?.get(field).cloned()
}

/// Replaces the value of every setting the schema marks `writeOnly` (the credentials).
pub fn redact_secrets(values: &mut Value, schema: &Value) {
    let (Some(properties), Value::Object(values)) = (schema.get("properties"), values) else {
        return;
    };
    for (name, value) in values.iter_mut() {
        let Some(property) = properties.get(name) else {
            continue;
        };
        if property.get("writeOnly") == Some(&Value::Bool(true)) {
            if !value.is_null() {
                *value = Value::String(REDACTED.to_owned());
            }
        } else if let (Value::Array(items), Some(schema)) = (&mut *value, property.get("items")) {
            // A list of tables (`backend.endpoints`) holds credentials of its own.
            for item in items {
                redact_secrets(item, schema);
            }
        } else {
            redact_secrets(value, property);
        }
    }
}

fn defaults_value() -> Value {
    serde_json::to_value(Options::defaults()).unwrap_or_default()
}

/// Each property takes its value from `defaults`, tables included (their default is the table of
/// their fields' defaults).
fn set_defaults(schema: &mut Value, defaults: &Value) {
    let (Some(Value::Object(properties)), Value::Object(defaults)) =
        (schema.get_mut("properties"), defaults)
    else {
        return;
    };
    for (name, default) in defaults {
        if let Some(property @ Value::Object(_)) = properties.get_mut(name) {
            set_defaults(property, default);
            if let Value::Object(property) = property {
                property.insert("default".to_owned(), default.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    #[test]
    fn every_enumerated_value_is_one_a_job_accepts_and_only_those() {
        let schema = json_schema();
        let mut checked = 0;
        for (section, table) in schema["properties"].as_object().unwrap() {
            for (field, property) in table["properties"].as_object().unwrap() {
                let Some(values) = property["enum"].as_array() else {
                    continue;
                };
                let accepts = |value: &Value| {
                    let source = serde_json::json!({ section: { field: value } });
                    let mut warnings = Vec::new();
                    let options = Options::from_value(source, "test", &mut warnings);
                    warnings.is_empty() && Settings::resolve(&options).is_ok()
                };
                for value in values {
                    assert!(accepts(value), "{section}.{field} = {value}");
                }
                assert!(!accepts(&Value::from("unheard-of")), "{section}.{field}");
                checked += 1;
            }
        }
        assert_eq!(checked, 3, "sandbox.kind, test.format, selection.compat");
    }

    #[test]
    fn secrets_are_redacted_wherever_they_are_set() {
        let mut values = serde_json::json!({
            "backend": {
                "api_key": "sk-1",
                "model": "m",
                "endpoints": [{ "url": "http://a/v1", "api_key": "sk-2" }, { "url": "http://b/v1" }],
            },
            "github": { "token": null },
            "gitlab": { "token": "glpat-1" },
        });
        redact_secrets(&mut values, &json_schema());
        assert_eq!(
            values,
            serde_json::json!({
                "backend": {
                    "api_key": REDACTED,
                    "model": "m",
                    "endpoints": [{ "url": "http://a/v1", "api_key": REDACTED }, { "url": "http://b/v1" }],
                },
                "github": { "token": null },
                "gitlab": { "token": REDACTED },
            })
        );
    }
}
