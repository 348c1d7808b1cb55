//! Which tracker serves a host, at which API, with which token.
//!
//! One GitHub and one GitLab API are configured (`github.api_url`, `gitlab.api_url`). Each serves
//! its public host (github.com, gitlab.com) and its own host (GitHub Enterprise, a self-hosted
//! GitLab). The hosts in `gitlab.hosts` are GitLab instances at `https://HOST/api/v4`. A URL of
//! the unmistakable `/-/issues/N` form on a host nobody named is fetched from that host's API
//! without a token: the token was given for another server.

use reqwest::Url;

use super::error::{Forge, IssueSourceError};
use crate::config::{GithubSettings, GitlabSettings, Secret};

/// One tracker API and the token for it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub forge: Forge,
    /// The API root, e.g. `https://api.github.com` or `https://gitlab.com/api/v4`.
    pub api: Url,
    pub token: Option<Secret>,
}

impl Endpoint {
    /// The API root with `segments` appended, each percent-encoded as one segment (so GitLab's
    /// `group/project` becomes `group%2Fproject`, as its API wants).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.api.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The API root for messages: user and password, if the setting had any, left out.
    pub fn display_api(&self) -> String {
        let mut url = self.api.clone();
        let _ = url.set_username("");
        let _ = url.set_password(None);
        url.as_str().trim_end_matches('/').to_owned()
    }

    /// Whether `url` is on this API's server, so that following it keeps the token at home.
    pub fn same_server(&self, url: &Url) -> bool {
        url.scheme() == self.api.scheme()
            && url.host_str() == self.api.host_str()
            && url.port_or_known_default() == self.api.port_or_known_default()
    }
}

#[derive(Debug, Clone)]
pub struct Forges {
    github: Endpoint,
    github_hosts: Vec<String>,
    gitlab: Endpoint,
    gitlab_api_host: String,
    gitlab_hosts: Vec<String>,
}

impl Forges {
    pub fn new(
        github: &GithubSettings,
        gitlab: &GitlabSettings,
    ) -> Result<Forges, IssueSourceError> {
        let parse = |name: &str, url: &str| {
            Url::parse(url)
                .ok()
                .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
                .ok_or_else(|| {
                    IssueSourceError::Client(format!("{name} `{url}` is not an http(s) URL"))
                })
        };
        let github_api = parse("github.api_url", &github.api_url)?;
        let gitlab_api = parse("gitlab.api_url", &gitlab.api_url)?;
        let github_api_host = host_of(&github_api);
        // GitHub's API lives on `api.HOST` for github.com (and GHE.com), on HOST itself for
        // Enterprise Server: both spellings name the web host.
        let mut github_hosts = vec!["github.com".to_owned(), github_api_host.clone()];
        if let Some(web) = github_api_host.strip_prefix("api.") {
            github_hosts.push(web.to_owned());
        }
        let gitlab_api_host = host_of(&gitlab_api);
        let mut gitlab_hosts = vec!["gitlab.com".to_owned(), gitlab_api_host.clone()];
        gitlab_hosts.extend(gitlab.hosts.iter().map(|h| h.to_ascii_lowercase()));
        Ok(Forges {
            github: Endpoint {
                forge: Forge::GitHub,
                api: github_api,
                token: github.token.clone(),
            },
            github_hosts,
            gitlab: Endpoint {
                forge: Forge::GitLab,
                api: gitlab_api,
                token: gitlab.token.clone(),
            },
            gitlab_api_host,
            gitlab_hosts,
        })
    }

    /// The tracker a host is known to be. GitHub first: when both APIs are on one host (a
    /// test server), a GitLab URL still says so with its `/-/`.
    pub fn forge_of(&self, host: &str) -> Option<Forge> {
        let host = host.to_ascii_lowercase();
        if self.github_hosts.contains(&host) {
            Some(Forge::GitHub)
        } else if self.gitlab_hosts.contains(&host) {
            Some(Forge::GitLab)
        } else {
            None
        }
    }

    /// The API serving `host` for `forge`. `origin` (`https://host[:port]`) is where an unnamed
    /// GitLab host's API is looked for.
    pub fn endpoint(&self, forge: Forge, host: &str, origin: Option<&str>) -> Endpoint {
        let host = host.to_ascii_lowercase();
        match forge {
            Forge::GitHub => self.github.clone(),
            Forge::GitLab if host == "gitlab.com" || host == self.gitlab_api_host => {
                self.gitlab.clone()
            }
            Forge::GitLab => {
                let named = self.gitlab_hosts.contains(&host);
                let root = match origin {
                    Some(origin) if !named => origin.to_owned(),
                    _ => format!("https://{host}"),
                };
                match Url::parse(&format!("{root}/api/v4")) {
                    Ok(api) => Endpoint {
                        forge,
                        api,
                        token: if named {
                            self.gitlab.token.clone()
                        } else {
                            None
                        },
                    },
                    Err(_) => self.gitlab.clone(),
                }
            }
        }
    }
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forges(github_api: &str, gitlab_api: &str, hosts: &[&str]) -> Forges {
        Forges::new(
            &GithubSettings {
                api_url: github_api.into(),
                token: Some(Secret::new("gh")),
            },
            &GitlabSettings {
                api_url: gitlab_api.into(),
                token: Some(Secret::new("gl")),
                hosts: hosts.iter().map(|h| h.to_string()).collect(),
            },
        )
        .unwrap()
    }

    fn token(e: &Endpoint) -> Option<&str> {
        e.token.as_ref().map(Secret::expose)
    }

    #[test]
    fn public_hosts_and_their_apis() {
        let f = forges("https://api.github.com", "https://gitlab.com/api/v4", &[]);
        assert_eq!(f.forge_of("GitHub.com"), Some(Forge::GitHub));
        assert_eq!(f.forge_of("gitlab.com"), Some(Forge::GitLab));
        assert_eq!(f.forge_of("git.example.org"), None);
        let e = f.endpoint(Forge::GitHub, "github.com", None);
        assert_eq!(
            e.url(&["repos", "o", "r", "issues", "7"]).as_str(),
            "https://api.github.com/repos/o/r/issues/7"
        );
        let e = f.endpoint(Forge::GitLab, "gitlab.com", None);
        assert_eq!(
            e.url(&["projects", "group/sub/repo", "issues", "3"])
                .as_str(),
            "https://gitlab.com/api/v4/projects/group%2Fsub%2Frepo/issues/3"
        );
        assert_eq!(token(&e), Some("gl"));
    }

    #[test]
    fn enterprise_and_self_hosted() {
        let f = forges(
            "https://ghe.example.com/api/v3",
            "https://gitlab.example.com/api/v4/",
            &["git.example.org"],
        );
        assert_eq!(f.forge_of("ghe.example.com"), Some(Forge::GitHub));
        assert_eq!(f.forge_of("gitlab.example.com"), Some(Forge::GitLab));
        assert_eq!(f.forge_of("git.example.org"), Some(Forge::GitLab));
        let e = f.endpoint(Forge::GitHub, "ghe.example.com", None);
        assert_eq!(
            e.url(&["repos", "o", "r"]).as_str(),
            "https://ghe.example.com/api/v3/repos/o/r"
        );
        let e = f.endpoint(Forge::GitLab, "gitlab.example.com", None);
        assert_eq!(
            e.url(&["projects"]).as_str(),
            "https://gitlab.example.com/api/v4/projects"
        );
        let e = f.endpoint(
            Forge::GitLab,
            "git.example.org",
            Some("http://git.example.org:8080"),
        );
        assert_eq!(e.api.as_str(), "https://git.example.org/api/v4");
        assert_eq!(
            token(&e),
            Some("gl"),
            "a host the settings name gets the token"
        );
        let e = f.endpoint(
            Forge::GitLab,
            "other.example.net",
            Some("https://other.example.net:8443"),
        );
        assert_eq!(e.api.as_str(), "https://other.example.net:8443/api/v4");
        assert_eq!(token(&e), None, "a host nobody named never sees the token");
        let ghe_com = forges("https://api.acme.ghe.com", "https://gitlab.com/api/v4", &[]);
        assert_eq!(ghe_com.forge_of("acme.ghe.com"), Some(Forge::GitHub));
    }

    #[test]
    fn only_the_api_server_is_followed() {
        let f = forges("http://127.0.0.1:9000", "https://gitlab.com/api/v4", &[]);
        let e = f.endpoint(Forge::GitHub, "github.com", None);
        assert!(e.same_server(&Url::parse("http://127.0.0.1:9000/x?page=2").unwrap()));
        assert!(!e.same_server(&Url::parse("http://127.0.0.1:9001/x").unwrap()));
        assert!(!e.same_server(&Url::parse("https://evil.example/x").unwrap()));
        let with_user = forges(
            "https://user:pw@ghe.example.com/api/v3",
            "https://gitlab.com/api/v4",
            &[],
        );
        assert_eq!(
            with_user
                .endpoint(Forge::GitHub, "github.com", None)
                .display_api(),
            "https://ghe.example.com/api/v3"
        );
    }
}
