//! Why an issue could not be read. Every message says what to do about it; none holds a token
//! (requests carry it in a header, and messages are built from URLs and statuses only).

use crate::engine::issue::IssueError;

/// The two issue trackers Swiss speaks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Forge {
    GitHub,
    GitLab,
}

impl Forge {
    pub fn name(self) -> &'static str {
        match self {
            Forge::GitHub => "GitHub",
            Forge::GitLab => "GitLab",
        }
    }

    /// The settings section, as `swiss.toml` and the editor spell it.
    pub fn section(self) -> &'static str {
        match self {
            Forge::GitHub => "github",
            Forge::GitLab => "gitlab",
        }
    }

    pub fn token_env(self) -> &'static str {
        match self {
            Forge::GitHub => crate::config::ENV_GITHUB_TOKEN,
            Forge::GitLab => crate::config::ENV_GITLAB_TOKEN,
        }
    }
}

impl std::fmt::Display for Forge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum IssueSourceError {
    /// A local file or standard input.
    #[error(transparent)]
    Local(#[from] IssueError),

    #[error(
        "failed to read the issue: `{input}` is neither a file, `-` (standard input), an issue URL \
         nor a reference such as #123 or owner/repo#123; give one of those"
    )]
    NotAReference { input: String },

    #[error("failed to read the issue: standard input is the editor's channel; give a file, an issue URL, a reference or the issue text")]
    NoStdin,

    #[error("failed to resolve `{input}`: {reason}")]
    BadReference { input: String, reason: String },

    #[error(
        "failed to resolve {input}: the repository has no `origin` remote to take the issue from; \
         write owner/repo{input} or give the issue URL"
    )]
    NoOrigin { input: String },

    #[error("failed to resolve {input}: {reason}")]
    Origin { input: String, reason: String },

    #[error(
        "failed to resolve {input}: `{host}` is neither GitHub nor a known GitLab host; add it to \
         gitlab.hosts in swiss.toml, or set github.api_url to its API for GitHub Enterprise"
    )]
    UnknownHost { input: String, host: String },

    #[error(
        "failed to fetch {reference}: it is a {what}, not an issue; give the issue it addresses \
         instead"
    )]
    NotAnIssue {
        reference: String,
        what: &'static str,
    },

    #[error(
        "failed to fetch {reference} from {forge}: not found or private; check the reference, or \
         set {} (or {}.token) to a token that can read it",
        .forge.token_env(), .forge.section()
    )]
    NotFound { forge: Forge, reference: String },

    #[error(
        "failed to fetch {reference} from {forge}: it was deleted, or the project has its issues \
         turned off"
    )]
    Gone { forge: Forge, reference: String },

    #[error(
        "failed to fetch {reference} from {forge}: the token was rejected (HTTP 401); check {} or \
         {}.token, or unset it to read public issues",
        .forge.token_env(), .forge.section()
    )]
    BadToken { forge: Forge, reference: String },

    #[error(
        "failed to fetch {reference} from {forge}: access denied (HTTP 403: {detail}); set {} to a \
         token that can read it",
        .forge.token_env()
    )]
    Forbidden {
        forge: Forge,
        reference: String,
        detail: String,
    },

    #[error("failed to fetch {reference} from {forge}: the API rate limit is used up; it resets {resets}; {advice}")]
    RateLimited {
        forge: Forge,
        reference: String,
        /// "at 14:05 UTC (in 12 min)", or "soon" when the server did not say.
        resets: String,
        advice: String,
    },

    #[error(
        "failed to reach {forge} at {api}: {detail}; check the network connection and {}.api_url, \
         then try again",
        .forge.section()
    )]
    Unreachable {
        forge: Forge,
        api: String,
        detail: String,
    },

    #[error("failed to fetch {reference} from {forge}: HTTP {status}: {detail}; try again later")]
    Status {
        forge: Forge,
        reference: String,
        status: u16,
        detail: String,
    },

    #[error(
        "failed to read {forge}'s answer for {reference}: {detail}; check that {}.api_url points \
         at the REST API",
        .forge.section()
    )]
    BadResponse {
        forge: Forge,
        reference: String,
        detail: String,
    },

    #[error("failed to set up the issue tracker client: {0}")]
    Client(String),
}

impl IssueSourceError {
    /// The tracker did not answer, or failed on its side: worth trying again as it is, unlike a
    /// reference or a token that is wrong. The CLI gives these the "backend unreachable" exit code.
    pub fn is_service_failure(&self) -> bool {
        match self {
            IssueSourceError::Unreachable { .. } => true,
            IssueSourceError::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }
}
