//! The environment a confined run starts with: an allow-list, not the user's whole environment,
//! which holds `GITHUB_TOKEN`, `SWISS_API_KEY`, cloud keys and the like. Model-written code must
//! not see them, and a test suite rarely needs more than a locale and a PATH.

/// Passed through as they are: what interpreters and test runners read to start.
const ALLOWED: &[&str] = &["PATH", "HOME", "LANG", "TERM", "TZ", "VIRTUAL_ENV"];
/// Where toolchains outside the system folders find themselves and their read-only caches
/// (a Go or Node installed under /usr/local or HOME, a module cache under GOPATH). `GOCACHE`
/// is left out on purpose: the user's build cache is read-only here, so Go builds into
/// `$XDG_CACHE_HOME/go-build`, which is the run's own.
const TOOLCHAINS: &[&str] = &[
    "GOROOT",
    "GOPATH",
    "GOMODCACHE",
    "GOFLAGS",
    "GOPROXY",
    "GONOPROXY",
    "GOPRIVATE",
    "GONOSUMDB",
    "GOSUMDB",
    "GOTOOLCHAIN",
    "NODE_PATH",
    "NVM_DIR",
    "NVM_BIN",
    "JAVA_HOME",
    "MAVEN_HOME",
    "M2_HOME",
    "GRADLE_HOME",
    "CARGO_HOME",
    "RUSTUP_HOME",
    "RUSTUP_TOOLCHAIN",
];
/// Whole families passed through (`LC_ALL`, `PYTHONPATH`, …).
const ALLOWED_PREFIXES: &[&str] = &["LC_", "PYTHON"];
/// Name endings that mark a credential; such a variable is kept out even when allow-listed,
/// unless `sandbox.pass_env` names it.
const SECRET_SUFFIXES: &[&str] = &["_TOKEN", "_KEY", "_SECRET", "_PASSWORD"];

/// Whether a variable of the user's environment goes into a confined run. `pass_env` names
/// variables the user wants passed (exact names), credentials included.
pub fn passes(name: &str, pass_env: &[String]) -> bool {
    if pass_env.iter().any(|named| named == name) {
        return true;
    }
    let allowed = ALLOWED.contains(&name)
        || TOOLCHAINS.contains(&name)
        || ALLOWED_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix));
    allowed && !is_secret(name)
}

fn is_secret(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    SECRET_SUFFIXES.iter().any(|suffix| upper.ends_with(suffix))
}

/// The environment of a run: the allowed part of `inherited`, then `explicit` (the run's own
/// variables: `test.env`, which the user wrote for the tests, so they always pass).
pub fn build(
    inherited: impl IntoIterator<Item = (String, String)>,
    explicit: &[(String, String)],
    pass_env: &[String],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = inherited
        .into_iter()
        .filter(|(name, _)| passes(name, pass_env))
        .collect();
    for (name, value) in explicit {
        env.retain(|(existing, _)| existing != name);
        env.push((name.clone(), value.clone()));
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(env: &[(String, String)]) -> Vec<&str> {
        env.iter().map(|(name, _)| name.as_str()).collect()
    }

    fn vars(names: &[&str]) -> Vec<(String, String)> {
        names
            .iter()
            .map(|name| ((*name).to_owned(), "v".to_owned()))
            .collect()
    }

    #[test]
    fn only_the_allow_list_passes() {
        let env = build(
            vars(&[
                "PATH",
                "HOME",
                "LANG",
                "LC_ALL",
                "TERM",
                "TZ",
                "PYTHONPATH",
                "VIRTUAL_ENV",
                "GITHUB_TOKEN",
                "GITLAB_TOKEN",
                "SWISS_API_KEY",
                "AWS_SECRET_ACCESS_KEY",
                "GOPATH",
                "JAVA_HOME",
                "GOCACHE",
                "USER",
                "SSH_AUTH_SOCK",
                "DATABASE_URL",
            ]),
            &[],
            &[],
        );
        assert_eq!(
            names(&env),
            [
                "PATH",
                "HOME",
                "LANG",
                "LC_ALL",
                "TERM",
                "TZ",
                "PYTHONPATH",
                "VIRTUAL_ENV",
                "GOPATH",
                "JAVA_HOME"
            ]
        );
    }

    #[test]
    fn a_credential_is_kept_out_even_in_an_allowed_family() {
        let env = build(
            vars(&["PYTHON_API_KEY", "PYTHONHASHSEED", "LC_SECRET"]),
            &[],
            &[],
        );
        assert_eq!(names(&env), ["PYTHONHASHSEED"]);
    }

    #[test]
    fn named_variables_pass_credentials_included() {
        let pass = vec!["DATABASE_URL".to_owned(), "HF_TOKEN".to_owned()];
        let env = build(
            vars(&["DATABASE_URL", "HF_TOKEN", "GITHUB_TOKEN"]),
            &[],
            &pass,
        );
        assert_eq!(names(&env), ["DATABASE_URL", "HF_TOKEN"]);
    }

    #[test]
    fn the_runs_own_variables_win() {
        let env = build(
            vec![("PYTHONPATH".to_owned(), "user".to_owned())],
            &[
                ("PYTHONPATH".to_owned(), "src".to_owned()),
                ("API_KEY".to_owned(), "for the tests".to_owned()),
            ],
            &[],
        );
        assert_eq!(
            env,
            [
                ("PYTHONPATH".to_owned(), "src".to_owned()),
                ("API_KEY".to_owned(), "for the tests".to_owned())
            ]
        );
    }
}
