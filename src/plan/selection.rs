//! The run's selection: `--project`, `--type` and `--name` limit the desired state, the
//! current state and prune alike.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Which projects, types and connection names a run looks at. Empty lists select all.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    projects: Option<GlobSet>,
    types: Vec<String>,
    names: Option<GlobSet>,
}

/// A selection flag whose value cannot be used: a glob that does not parse, an unknown
/// type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {flag} `{value}`: {reason}")]
pub struct BadSelection {
    /// The flag the glob came from.
    pub flag: &'static str,
    /// The value as given.
    pub value: String,
    /// Why it does not parse.
    pub reason: String,
}

impl Selection {
    /// Builds a selection. Project globs are case-sensitive (like project names); name
    /// globs ignore case (like connection names).
    pub fn new(
        projects: &[String],
        types: &[String],
        names: &[String],
    ) -> Result<Self, BadSelection> {
        for kind in types {
            check_type(kind)?;
        }
        Ok(Selection {
            projects: glob_set("--project", projects, false)?,
            types: types.to_vec(),
            names: glob_set("--name", names, true)?,
        })
    }

    /// Whether a project is selected.
    pub fn project(&self, project: &str) -> bool {
        self.projects
            .as_ref()
            .is_none_or(|set| set.is_match(project))
    }

    /// Whether a connection type is selected.
    pub fn kind(&self, kind: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t == kind)
    }

    /// Whether a connection name is selected.
    pub fn name(&self, name: &str) -> bool {
        self.names.as_ref().is_none_or(|set| set.is_match(name))
    }

    /// Whether a connection (type and name) is selected.
    pub fn connection(&self, kind: &str, name: &str) -> bool {
        self.kind(kind) && self.name(name)
    }
}

/// Refuses a `--type` that is none of the 14 discriminators, suggesting the closest.
fn check_type(kind: &str) -> Result<(), BadSelection> {
    if crate::catalog::type_names().any(|t| t == kind) {
        return Ok(());
    }
    let reason = match crate::diag::did_you_mean(kind, crate::catalog::type_names()) {
        Some(close) => format!("not a connection type; did you mean `{close}`?"),
        None => format!(
            "not a connection type; one of: {}",
            crate::catalog::type_names().collect::<Vec<_>>().join(", ")
        ),
    };
    Err(BadSelection {
        flag: "--type",
        value: kind.to_string(),
        reason,
    })
}

/// Builds a glob set; `None` when no glob is given (everything matches).
pub(crate) fn glob_set(
    flag: &'static str,
    globs: &[String],
    ignore_case: bool,
) -> Result<Option<GlobSet>, BadSelection> {
    if globs.is_empty() {
        return Ok(None);
    }
    let mut builder = GlobSetBuilder::new();
    for glob in globs {
        let parsed = GlobBuilder::new(glob)
            .case_insensitive(ignore_case)
            .literal_separator(false)
            .build()
            .map_err(|e| BadSelection {
                flag,
                value: glob.clone(),
                reason: e.kind().to_string(),
            })?;
        builder.add(parsed);
    }
    let set = builder.build().map_err(|e| BadSelection {
        flag,
        value: globs.join(", "),
        reason: e.to_string(),
    })?;
    Ok(Some(set))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_selection_selects_everything() {
        let s = Selection::default();
        assert!(s.project("P") && s.kind("email") && s.name("x"));
    }

    #[test]
    fn globs_limit_projects_case_sensitively_and_names_ignoring_case() {
        let s = Selection::new(
            &strings(&["Pay*"]),
            &strings(&["kafka"]),
            &strings(&["alert-*"]),
        )
        .unwrap();
        assert!(s.project("Payments"));
        assert!(!s.project("payments"));
        assert!(s.connection("kafka", "ALERT-1"));
        assert!(!s.connection("email", "alert-1"));
        assert!(!s.connection("kafka", "other"));
    }

    #[test]
    fn a_bad_glob_is_an_error_naming_the_flag() {
        let err = Selection::new(&[], &[], &strings(&["a[b"])).unwrap_err();
        assert_eq!(err.flag, "--name");
        assert!(err.to_string().contains("a[b"));
    }

    #[test]
    fn an_unknown_type_is_an_error_with_a_suggestion() {
        let err = Selection::new(&[], &strings(&["kafak"]), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid --type `kafak`: not a connection type; did you mean `kafka`?"
        );
        let err = Selection::new(&[], &strings(&["zzz"]), &[]).unwrap_err();
        assert!(err.to_string().contains("one of: email, kafka"));
    }
}
