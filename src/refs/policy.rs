//! Which variables a desired-state file may reference: never the tool's own credentials
//! or a CI system's own tokens (a connection would hand them to the server, or to
//! whoever a webhook calls), and, with `--allow-env GLOB` / `APINIZER_GITOPS_ALLOW_ENV`,
//! only names that match (decK's prefix rule).

use std::sync::OnceLock;

use globset::{GlobBuilder, GlobMatcher, GlobSet, GlobSetBuilder};

/// Variables no file may reference, as globs (matched ignoring case: Windows names
/// ignore case, and a near-miss spelling is no legitimate connection value either), with
/// what each one is.
const FORBIDDEN: &[(&str, &str)] = &[
    ("APINIZER_TOKEN", "apinizer-gitops's own API token"),
    ("APINIZER_TOKEN_FILE", "apinizer-gitops's own token file"),
    ("APINIZER_USERNAME", "apinizer-gitops's own login"),
    ("APINIZER_PASSWORD", "apinizer-gitops's own password"),
    ("GITHUB_TOKEN", "the GitHub Actions job token"),
    ("ACTIONS_*_TOKEN", "a GitHub Actions runtime token"),
    ("GITEA_TOKEN", "the Gitea Actions job token"),
    ("FORGEJO_TOKEN", "the Forgejo Actions job token"),
    ("CI_JOB_TOKEN", "the GitLab CI job token"),
    ("CI_JOB_JWT*", "a GitLab CI job ID token"),
    ("CI_REGISTRY_PASSWORD", "the GitLab CI registry password"),
    ("CI_DEPLOY_PASSWORD", "the GitLab CI deploy token"),
    (
        "CI_DEPENDENCY_PROXY_PASSWORD",
        "the GitLab CI dependency proxy password",
    ),
    ("SYSTEM_ACCESSTOKEN", "the Azure Pipelines job token"),
    (
        "BITBUCKET_STEP_OIDC_TOKEN",
        "the Bitbucket Pipelines OIDC token",
    ),
    ("CIRCLE_OIDC_TOKEN*", "a CircleCI OIDC token"),
    ("BUILDKITE_AGENT_ACCESS_TOKEN", "the Buildkite agent token"),
];

/// The globs of [`FORBIDDEN`], compiled once.
fn forbidden() -> &'static [(GlobMatcher, &'static str)] {
    static MATCHERS: OnceLock<Vec<(GlobMatcher, &'static str)>> = OnceLock::new();
    MATCHERS.get_or_init(|| {
        FORBIDDEN
            .iter()
            .map(|(glob, what)| {
                let matcher = GlobBuilder::new(glob)
                    .case_insensitive(true)
                    .build()
                    .expect("the built-in globs parse")
                    .compile_matcher();
                (matcher, *what)
            })
            .collect()
    })
}

/// Why a reference is refused, for a diagnostic (names, never values).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: String,
}

/// The rules every `${env:NAME}` reference must follow.
#[derive(Debug, Clone, Default)]
pub struct ReferencePolicy {
    /// `--allow-env` globs as given (for messages); empty allows every name.
    allow: Vec<String>,
    allowed: Option<GlobSet>,
}

impl ReferencePolicy {
    /// A policy allowing only names that match one of `allow` (case-sensitive, like
    /// variable names); no glob allows every name. Blank entries (a trailing comma in
    /// `APINIZER_GITOPS_ALLOW_ENV`) are skipped.
    pub fn new(allow: &[String]) -> Result<Self, String> {
        let allow: Vec<String> = allow
            .iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        if allow.is_empty() {
            return Ok(Self::default());
        }
        let mut builder = GlobSetBuilder::new();
        for glob in &allow {
            let parsed = GlobBuilder::new(glob)
                .build()
                .map_err(|e| format!("invalid --allow-env `{glob}`: {}", e.kind()))?;
            builder.add(parsed);
        }
        let set = builder
            .build()
            .map_err(|e| format!("invalid --allow-env: {e}"))?;
        Ok(ReferencePolicy {
            allow,
            allowed: Some(set),
        })
    }

    /// Refuses a reference to the tool's or a CI system's own credentials, or to a name
    /// outside `--allow-env`.
    pub fn check(&self, variable: &str) -> Result<(), Refusal> {
        if let Some((_, what)) = forbidden().iter().find(|(m, _)| m.is_match(variable)) {
            return Err(Refusal {
                message: format!(
                    "`${{env:{variable}}}` is {what}: a connection may not reference the credentials of apinizer-gitops or of the CI system (the server, or whoever the connection calls, would receive them)"
                ),
                hint: "give the connection a variable of its own (e.g. BILLING_DB_PASSWORD)"
                    .to_string(),
            });
        }
        match &self.allowed {
            Some(set) if !set.is_match(variable) => Err(Refusal {
                message: format!(
                    "`${{env:{variable}}}` is not allowed: --allow-env / APINIZER_GITOPS_ALLOW_ENV allows only {}",
                    self.allow.join(", ")
                ),
                hint: "rename the variable to match, or widen --allow-env".to_string(),
            }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_tools_and_ci_credentials_are_refused_whatever_the_allow_list() {
        let open = ReferencePolicy::default();
        let wide = ReferencePolicy::new(&["*".to_string()]).unwrap();
        for name in [
            "APINIZER_TOKEN",
            "APINIZER_TOKEN_FILE",
            "APINIZER_USERNAME",
            "APINIZER_PASSWORD",
            "GITHUB_TOKEN",
            "github_token",
            "ACTIONS_RUNTIME_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "CI_JOB_TOKEN",
            "CI_JOB_JWT",
            "CI_JOB_JWT_V2",
            "CI_REGISTRY_PASSWORD",
            "SYSTEM_ACCESSTOKEN",
        ] {
            for policy in [&open, &wide] {
                let refusal = policy.check(name).unwrap_err();
                assert!(refusal.message.contains(name), "{refusal:?}");
            }
        }
        for name in ["BILLING_DB_PASSWORD", "GITHUB_TOKENS_URL", "CI_JOB_NAME"] {
            assert!(open.check(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn an_allow_list_admits_only_matching_names() {
        let policy = ReferencePolicy::new(&["PAYMENTS_*".to_string(), " ".to_string()]).unwrap();
        assert!(policy.check("PAYMENTS_DB_PASSWORD").is_ok());
        let refusal = policy.check("BILLING_DB_PASSWORD").unwrap_err();
        assert!(
            refusal.message.contains("allows only PAYMENTS_*"),
            "{refusal:?}"
        );
        assert!(policy.check("payments_db_password").is_err());
        assert!(ReferencePolicy::new(&["a[".to_string()]).is_err());
        assert!(
            ReferencePolicy::new(&[String::new()])
                .unwrap()
                .check("X")
                .is_ok()
        );
    }
}
