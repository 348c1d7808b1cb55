//! `swiss config`: the settings schema the built binary prints, the schema file the VS Code
//! extension's drift test reads, and the resolved settings with their credentials redacted.

use std::path::Path;

use serde_json::{json, Value};
use swiss::config::{Options, Settings, REDACTED};
use swiss_testkit::{calc, FixtureRepo, ScriptedBackend};

use crate::cli_support::{stderr, swiss, swiss_fix, write_issue};

/// Written by `swiss config --schema`; the VS Code drift test checks package.json against it.
const SCHEMA_FILE: &str = "docs/settings.schema.json";

fn printed_schema() -> Value {
    let output = swiss(&["config", "--schema"]).output().unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    serde_json::from_slice(&output.stdout).expect("the schema is one JSON document")
}

fn property<'a>(schema: &'a Value, section: &str, field: &str) -> &'a Value {
    &schema["properties"][section]["properties"][field]
}

#[test]
fn the_schema_is_json_schema_with_every_setting_its_description_and_default() {
    let schema = printed_schema();
    jsonschema::meta::validate(&schema).expect("valid against its draft's meta-schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");

    // Every key a source may set: the fields of `Options`, all of them serialized.
    let keys = serde_json::to_value(Options::default()).unwrap();
    let defaults = serde_json::to_value(Options::defaults()).unwrap();
    let mut count = 0;
    for (section, fields) in keys.as_object().unwrap() {
        for field in fields.as_object().unwrap().keys() {
            let key = format!("{section}.{field}");
            let property = property(&schema, section, field);
            assert!(property.is_object(), "{key} is not in the schema");
            assert_eq!(property["default"], defaults[section][field], "{key}");
            let described = property["description"].as_str().unwrap_or_default();
            assert!(described.len() > 10, "{key} has no doc comment");
            count += 1;
        }
    }
    assert!(count >= 30, "only {count} settings");
    assert!(
        validator.is_valid(&defaults),
        "the defaults fit their own schema"
    );

    let d = Settings::default();
    assert_eq!(property(&schema, "repair", "samples")["default"], 40);
    assert_eq!(property(&schema, "sampling", "temperature")["default"], 0.6);
    assert_eq!(
        property(&schema, "backend", "model")["default"],
        d.model.as_str()
    );
    assert_eq!(
        property(&schema, "sandbox", "image")["default"],
        Value::Null
    );
    for secret in [
        ("backend", "api_key"),
        ("github", "token"),
        ("gitlab", "token"),
    ] {
        assert_eq!(
            property(&schema, secret.0, secret.1)["writeOnly"],
            true,
            "{secret:?}"
        );
    }
    for wrong in [
        json!({"repair": {"samples": 0}}),
        json!({"sampling": {"top_p": 0}}),
        json!({"backend": {"colour": "red"}}),
        json!({"sandbox": {"kind": "podman"}}),
        json!({"test": {"format": "junit"}}),
    ] {
        assert!(!validator.is_valid(&wrong), "accepted {wrong}");
    }
    assert!(validator
        .is_valid(&json!({"sandbox": {"kind": "docker"}, "test": {"format": "cargo-test"}})));
}

#[test]
fn the_schema_file_is_what_the_binary_prints() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let committed = std::fs::read_to_string(root.join(SCHEMA_FILE)).unwrap_or_default();
    let output = swiss(&["config", "--schema"]).output().unwrap();
    assert!(
        committed == String::from_utf8_lossy(&output.stdout),
        "{SCHEMA_FILE} is out of date: run `cargo run -q -- config --schema > {SCHEMA_FILE}`, \
         then make editors/vscode/package.json agree (`npm test` there says where)"
    );
}

#[test]
fn config_prints_the_resolved_settings_with_credentials_redacted() {
    let repo = FixtureRepo::with_files(&[(
        "swiss.toml",
        "[backend]\napi_key = \"sk-from-file\"\n[repair]\nsamples = 8\n",
    )]);
    let output = swiss(&["config", "--json", "--repo"])
        .arg(repo.path())
        .env("GITHUB_TOKEN", "ghp_from_env")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        !text.contains("sk-from-file") && !text.contains("ghp_from_env"),
        "{text}"
    );
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(shown["backend"]["api_key"], REDACTED);
    assert_eq!(shown["github"]["token"], REDACTED);
    assert_eq!(shown["gitlab"]["token"], Value::Null);
    assert_eq!(shown["repair"]["samples"], 8);
    assert_eq!(shown["localize"]["samples"], 4);

    // Without --json: TOML that reads back as the same settings, secrets aside.
    let output = swiss(&["config", "--repo"])
        .arg(repo.path())
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(!text.contains("sk-from-file"), "{text}");
    let mut warnings = Vec::new();
    let mut options = Options::from_toml(&text, "swiss config", &mut warnings);
    assert!(warnings.is_empty(), "{warnings:?}\n{text}");
    options.backend.api_key = None;
    let expected = Settings {
        repair_samples: 8,
        ..Settings::default()
    };
    assert_eq!(Settings::resolve(&options).unwrap(), expected);
}

#[test]
fn config_outside_a_repository_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let output = swiss(&["config", "--repo"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert!(
        message.starts_with("swiss: failed to open the git repository")
            && message.contains("--repo"),
        "{message}"
    );
}

/// The README's `swiss.toml` example under "Configuration" shows every default it names.
#[test]
fn the_readme_example_shows_the_defaults() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md"))
            .unwrap();
    let section = &readme[readme
        .find("## Configuration")
        .expect("a Configuration section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let mut warnings = Vec::new();
    let options = Options::from_toml(example, "README", &mut warnings);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert!(options.repair.samples.is_some() && options.sandbox.kind.is_some());
    assert_eq!(Settings::resolve(&options).unwrap(), Settings::default());
}

/// The key goes to the backend as a bearer token and nowhere else: not into `--json`, `--record`
/// or the most detailed log.
#[test]
fn the_api_key_reaches_the_backend_only() {
    let repo = calc::repo();
    let dir = tempfile::tempdir().unwrap();
    let issue = write_issue(dir.path(), calc::ISSUE);
    let record = dir.path().join("record.json");
    let backend = ScriptedBackend::start_in_background(calc::script());
    let output = swiss_fix(
        repo.path(),
        &[
            "--issue",
            &issue,
            "--backend-url",
            &backend.base_url(),
            "--samples",
            "4",
        ],
    )
    .args(["--sandbox", "none", "--json", "--record"])
    .arg(&record)
    .env("SWISS_API_KEY", "sk-swiss-test-key")
    .env("SWISS_LOG", "trace")
    .output()
    .unwrap();
    assert!(output.status.success(), "{}", stderr(&output));
    let requests = backend.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some("Bearer sk-swiss-test-key")
        );
    }
    let recorded = std::fs::read_to_string(&record).unwrap();
    for (what, text) in [
        (
            "stdout",
            String::from_utf8_lossy(&output.stdout).into_owned(),
        ),
        ("stderr", stderr(&output)),
        ("the record", recorded),
    ] {
        assert!(
            !text.contains("sk-swiss-test-key"),
            "{what} shows the key:\n{text}"
        );
    }
}
