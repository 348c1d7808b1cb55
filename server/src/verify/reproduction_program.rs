//! Which language a repository's reproduction test is written in, where the program goes and
//! how it runs. SWE-Swiss writes Python scripts only; Swiss asks for the repository's own
//! language where a standalone program is natural (Python, JavaScript, TypeScript) and, for the
//! rest, where `reproduction.command` says how to run one (`go run ./{file}`).

use crate::config::Settings;

/// The languages a reproduction program can be asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScriptLanguage {
    Python,
    JavaScript,
    TypeScript,
    Go,
    Rust,
    Java,
}

/// A file name no project uses, at the repository's root so that the project's modules resolve
/// from it as from its own files.
const STEM: &str = "swiss_reproduce_issue";

impl ScriptLanguage {
    pub fn name(self) -> &'static str {
        match self {
            ScriptLanguage::Python => "Python",
            ScriptLanguage::JavaScript => "JavaScript",
            ScriptLanguage::TypeScript => "TypeScript",
            ScriptLanguage::Go => "Go",
            ScriptLanguage::Rust => "Rust",
            ScriptLanguage::Java => "Java",
        }
    }

    /// The tag of the fence the model is asked to wrap the program in.
    pub fn fence(self) -> &'static str {
        match self {
            ScriptLanguage::Python => "python",
            ScriptLanguage::JavaScript => "javascript",
            ScriptLanguage::TypeScript => "typescript",
            ScriptLanguage::Go => "go",
            ScriptLanguage::Rust => "rust",
            ScriptLanguage::Java => "java",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            ScriptLanguage::Python => "py",
            ScriptLanguage::JavaScript => "js",
            ScriptLanguage::TypeScript => "ts",
            ScriptLanguage::Go => "go",
            ScriptLanguage::Rust => "rs",
            ScriptLanguage::Java => "java",
        }
    }

    fn of_path(path: &str) -> Option<ScriptLanguage> {
        let extension = path.rsplit_once('.')?.1;
        Some(match extension {
            "py" => ScriptLanguage::Python,
            "js" | "mjs" | "cjs" | "jsx" => ScriptLanguage::JavaScript,
            "ts" | "mts" | "cts" | "tsx" => ScriptLanguage::TypeScript,
            "go" => ScriptLanguage::Go,
            "rs" => ScriptLanguage::Rust,
            "java" => ScriptLanguage::Java,
            _ => return None,
        })
    }

    /// The language most of the localized files are in (the first file's on a tie); without
    /// one, the language whose project file sits at the repository's root.
    pub fn detect<'a>(
        localized: &[String],
        repository: impl IntoIterator<Item = &'a str>,
    ) -> Option<ScriptLanguage> {
        let languages: Vec<ScriptLanguage> = localized
            .iter()
            .filter_map(|p| ScriptLanguage::of_path(p))
            .collect();
        let count = |l: &ScriptLanguage| languages.iter().filter(|m| *m == l).count();
        let most = languages.iter().map(count).max();
        if let Some(first) = languages.iter().find(|l| Some(count(l)) == most) {
            return Some(*first);
        }
        let roots: Vec<&str> = repository
            .into_iter()
            .filter(|p| !p.contains('/'))
            .collect();
        PROJECT_FILES
            .iter()
            .find(|(file, _)| roots.contains(file))
            .map(|(_, language)| *language)
    }
}

/// Root files that name a project's language, the more specific first (a TypeScript project
/// also has a package.json).
const PROJECT_FILES: &[(&str, ScriptLanguage)] = &[
    ("pyproject.toml", ScriptLanguage::Python),
    ("setup.py", ScriptLanguage::Python),
    ("setup.cfg", ScriptLanguage::Python),
    ("tsconfig.json", ScriptLanguage::TypeScript),
    ("package.json", ScriptLanguage::JavaScript),
    ("go.mod", ScriptLanguage::Go),
    ("Cargo.toml", ScriptLanguage::Rust),
    ("pom.xml", ScriptLanguage::Java),
    ("build.gradle", ScriptLanguage::Java),
    ("build.gradle.kts", ScriptLanguage::Java),
];

/// How the job's reproduction programs are written and run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReproductionProgram {
    pub language: ScriptLanguage,
    /// Where the program goes, relative to the copy's root.
    pub file: String,
    /// The command with `{file}` in place; `None` runs a Python script with `test.python`,
    /// which the sandbox decides (a project venv is found differently in Docker and locally).
    pub command: Option<String>,
    /// For JavaScript: the package is an ES module (`"type": "module"`), so is the program.
    pub es_module: bool,
}

impl ReproductionProgram {
    /// The program for a repository in `language`, or why none can run (one line saying what
    /// to set).
    pub fn new(
        language: Option<ScriptLanguage>,
        settings: &Settings,
        es_module: bool,
    ) -> Result<ReproductionProgram, String> {
        // The file's extension names the language of a repository Swiss cannot place.
        let from_file = || {
            settings
                .reproduction_file
                .as_deref()
                .and_then(ScriptLanguage::of_path)
        };
        let Some(language) = language.or_else(from_file) else {
            return Err("no reproduction test: the repository's language is not one Swiss writes reproduction programs in (set reproduction.command, and reproduction.file with the language's extension); candidates are not checked by a reproduction test".to_owned());
        };
        let file = settings
            .reproduction_file
            .clone()
            .unwrap_or_else(|| format!("{STEM}.{}", language.extension()));
        let template = match (&settings.reproduction_command, language) {
            (Some(command), _) => Some(command.as_str()),
            (None, ScriptLanguage::Python) => None,
            (None, ScriptLanguage::JavaScript) => Some("node {file}"),
            // --offline: without the network a missing tsx fails at once instead of after npm's
            // retries; --no: never installs.
            (None, ScriptLanguage::TypeScript) => Some("npx --no --offline tsx {file}"),
            (None, other) => {
                return Err(format!(
                    "no reproduction test: Swiss does not know how to run a {} program here — set reproduction.command (e.g. {}) and reproduction.file (e.g. {}); candidates are not checked by a reproduction test",
                    other.name(),
                    example_command(other),
                    example_file(other),
                ))
            }
        };
        Ok(ReproductionProgram {
            language,
            command: template.map(|t| t.replace("{file}", &shell_word(&file))),
            file,
            es_module,
        })
    }

    /// The sentence of the prompt that says how the program runs.
    pub fn how_it_runs(&self, python: &str) -> String {
        let command = self
            .command
            .clone()
            .unwrap_or_else(|| format!("{python} {}", shell_word(&self.file)));
        let module = match (self.language, self.es_module) {
            (ScriptLanguage::JavaScript, true) => " It runs as an ES module: use `import`.",
            (ScriptLanguage::JavaScript, false) => " It runs as CommonJS: use `require`.",
            _ => "",
        };
        format!(
            "The program is saved as `{}` in the repository and run from the repository's root with `{command}`.{module}",
            self.file
        )
    }
}

fn example_command(language: ScriptLanguage) -> &'static str {
    match language {
        ScriptLanguage::Go => "`go run ./{file}`",
        ScriptLanguage::Rust => "`cargo run -q --example swiss_reproduce_issue`",
        ScriptLanguage::Java => "`java {file}`",
        _ => "`interpreter {file}`",
    }
}

fn example_file(language: ScriptLanguage) -> &'static str {
    match language {
        ScriptLanguage::Go => "`swiss_reproduce/main.go`",
        ScriptLanguage::Rust => "`examples/swiss_reproduce_issue.rs`",
        ScriptLanguage::Java => "`SwissReproduceIssue.java`",
        _ => "`swiss_reproduce_issue.ext`",
    }
}

/// Whether a `package.json` says `"type": "module"`.
pub fn is_es_module(package_json: Option<&str>) -> bool {
    package_json
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .is_some_and(|json| json["type"] == "module")
}

pub fn shell_word(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn paths(list: &[&str]) -> Vec<String> {
        list.iter().map(|p| (*p).to_owned()).collect()
    }

    #[test]
    fn the_localized_files_name_the_language_then_the_project_files() {
        let detect = |localized: &[&str], repo: &[&str]| {
            ScriptLanguage::detect(&paths(localized), repo.iter().copied())
        };
        assert_eq!(
            detect(&["src/a.ts", "src/b.js", "src/c.ts"], &[]),
            Some(ScriptLanguage::TypeScript)
        );
        assert_eq!(
            detect(&["b.js", "a.ts"], &[]),
            Some(ScriptLanguage::JavaScript),
            "a tie goes to the first file's language"
        );
        assert_eq!(
            detect(
                &["README.md"],
                &["package.json", "tsconfig.json", "docs/go.mod"]
            ),
            Some(ScriptLanguage::TypeScript)
        );
        assert_eq!(
            detect(&[], &["go.mod", "main.go"]),
            Some(ScriptLanguage::Go)
        );
        assert_eq!(detect(&["notes.txt"], &["docs/go.mod"]), None);
    }

    #[test]
    fn javascript_and_typescript_run_by_default_the_rest_when_told_how() {
        let settings = Settings::default();
        let js =
            ReproductionProgram::new(Some(ScriptLanguage::JavaScript), &settings, true).unwrap();
        assert_eq!(js.file, "swiss_reproduce_issue.js");
        assert_eq!(js.command.as_deref(), Some("node swiss_reproduce_issue.js"));
        assert!(js.how_it_runs("python3").ends_with("use `import`."));
        let ts =
            ReproductionProgram::new(Some(ScriptLanguage::TypeScript), &settings, false).unwrap();
        assert_eq!(
            ts.command.as_deref(),
            Some("npx --no --offline tsx swiss_reproduce_issue.ts")
        );
        let python =
            ReproductionProgram::new(Some(ScriptLanguage::Python), &settings, false).unwrap();
        assert_eq!(python.command, None);
        assert_eq!(python.file, "swiss_reproduce_issue.py");

        let go = ReproductionProgram::new(Some(ScriptLanguage::Go), &settings, false).unwrap_err();
        assert!(
            go.contains("reproduction.command (e.g. `go run ./{file}`)"),
            "{go}"
        );
        let unknown = ReproductionProgram::new(None, &settings, false).unwrap_err();
        assert!(unknown.starts_with("no reproduction test: "), "{unknown}");
        let named = Settings {
            reproduction_command: Some("cargo run -q --example swiss".to_owned()),
            reproduction_file: Some("examples/swiss.rs".to_owned()),
            ..Settings::default()
        };
        let rust = ReproductionProgram::new(None, &named, false).unwrap();
        assert_eq!(rust.language, ScriptLanguage::Rust);

        let settings = Settings {
            reproduction_command: Some("go run ./{file}".to_owned()),
            reproduction_file: Some("swiss repro/main.go".to_owned()),
            ..Settings::default()
        };
        let go = ReproductionProgram::new(Some(ScriptLanguage::Go), &settings, false).unwrap();
        assert_eq!(
            go.command.as_deref(),
            Some("go run ./'swiss repro/main.go'")
        );
    }
}
