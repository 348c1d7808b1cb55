//! `swiss config`: the settings schema, or the settings a job in a repository would run with.

use std::io::Write;

use super::args::ConfigArgs;
use super::exit::Exit;
use crate::config::{json_schema, redact_secrets, Options, Settings};

pub fn run(args: ConfigArgs) -> Exit {
    let text = if args.schema {
        pretty_json(&json_schema())
    } else {
        match resolved(&args) {
            Ok(text) => text,
            Err(exit) => return exit,
        }
    };
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = stdout
        .write_all(text.as_bytes())
        .and_then(|_| stdout.flush())
    {
        return Exit::BadInput.with_message(format!("failed to write the settings: {e}"));
    }
    Exit::Winner
}

/// The same sources in the same order as `swiss fix` (less its flags), credentials redacted.
fn resolved(args: &ConfigArgs) -> Result<String, Exit> {
    let repo = git2::Repository::discover(&args.repo).map_err(|e| {
        Exit::BadInput.with_message(format!(
            "failed to open the git repository at {}: {}; pass --repo with a folder inside one",
            args.repo.display(),
            e.message()
        ))
    })?;
    let root = repo.workdir().ok_or_else(|| {
        Exit::BadInput.with_message(format!(
            "failed to find a work tree for {}: it is a bare repository",
            args.repo.display()
        ))
    })?;
    let mut warnings = Vec::new();
    let options = Options::from_repo_file(root, &mut warnings)
        .merged(Options::from_env(|name| std::env::var(name).ok()));
    for warning in &warnings {
        let _ = writeln!(std::io::stderr(), "swiss: warning: {warning}");
    }
    let settings = Settings::resolve(&options).map_err(|e| Exit::BadInput.with_message(e))?;
    let mut shown = serde_json::to_value(Options::from(&settings)).unwrap_or_default();
    redact_secrets(&mut shown, &json_schema());
    if args.json {
        return Ok(pretty_json(&shown));
    }
    drop_nulls(&mut shown);
    toml::to_string(&shown).map_err(|e| {
        Exit::BadInput.with_message(format!("failed to write the settings as TOML: {e}"))
    })
}

fn pretty_json(value: &serde_json::Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// TOML has no null: a setting left unset is left out.
fn drop_nulls(value: &mut serde_json::Value) {
    if let serde_json::Value::Object(map) = value {
        map.retain(|_, v| !v.is_null());
        map.values_mut().for_each(drop_nulls);
    }
}
