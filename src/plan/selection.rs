//! The run's selection: `--project`, `--type` and `--name` limit the desired state, the
//! current state and prune alike.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

/// Which projects, types and connection names a run looks at. Empty lists select all.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    projects: Option<GlobSet>,
    project_globs: Vec<String>,
    types: Vec<String>,
    names: Option<GlobSet>,
    name_globs: Vec<String>,
    rotate: Option<GlobSet>,
    rotate_globs: Vec<String>,
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

/// A selection flag that matches nothing, so the run would silently do nothing (a typo
/// in a nightly drift job would stay green forever).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{flag} `{value}` matches no {what}{hint}")]
pub struct EmptySelection {
    /// The flag.
    pub flag: &'static str,
    /// The value as given.
    pub value: String,
    /// What it was matched against (`project of the desired-state files`).
    pub what: String,
    /// `; did you mean ...?` and what there is.
    pub hint: String,
}

/// How many candidates an error lists at most.
const LISTED: usize = 10;

impl EmptySelection {
    fn new(flag: &'static str, value: &str, what: &str, candidates: &[&str]) -> Self {
        let mut hint = String::new();
        if let Some(close) = crate::diag::did_you_mean(value, candidates.iter().copied()) {
            hint.push_str(&format!("; did you mean `{close}`?"));
        }
        if candidates.is_empty() {
            hint.push_str(" (there are none)");
        } else if candidates.len() <= LISTED {
            hint.push_str(&format!(" (there are: {})", candidates.join(", ")));
        }
        EmptySelection {
            flag,
            value: value.to_string(),
            what: what.to_string(),
            hint,
        }
    }
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
            project_globs: projects.to_vec(),
            types: types.to_vec(),
            names: glob_set("--name", names, true)?,
            name_globs: names.to_vec(),
            rotate: None,
            rotate_globs: Vec::new(),
        })
    }

    /// Refuses a `--project` glob that matches none of `projects` (the projects of the
    /// files, or of the server for export), naming the closest.
    pub fn check_projects(&self, projects: &[&str], place: &str) -> Result<(), EmptySelection> {
        for glob in &self.project_globs {
            let one = single_glob("--project", glob, false);
            if !projects.iter().any(|p| one.is_match(p)) {
                return Err(EmptySelection::new(
                    "--project",
                    glob,
                    &format!("project {place}"),
                    projects,
                ));
            }
        }
        Ok(())
    }

    /// Refuses a `--type` or `--name` that, together with the other flags, selects none of
    /// `connections` (type, name), naming the closest name or the types there are.
    pub fn check_connections(
        &self,
        connections: &[(&str, &str)],
        place: &str,
    ) -> Result<(), EmptySelection> {
        let what = format!("connection {place}");
        for kind in &self.types {
            if !connections.iter().any(|(k, n)| k == kind && self.name(n)) {
                let mut present: Vec<&str> = connections.iter().map(|(k, _)| *k).collect();
                present.sort();
                present.dedup();
                return Err(EmptySelection::new("--type", kind, &what, &present));
            }
        }
        for glob in &self.name_globs {
            let one = single_glob("--name", glob, true);
            if !connections
                .iter()
                .any(|(k, n)| self.kind(k) && one.is_match(n))
            {
                let names: Vec<&str> = connections.iter().map(|(_, n)| *n).collect();
                return Err(EmptySelection::new("--name", glob, &what, &names));
            }
        }
        Ok(())
    }

    /// Adds `--rotate` globs (connection names, ignoring case like `--name`; `*` rotates
    /// every selected connection).
    pub fn with_rotation(self, globs: &[String]) -> Result<Self, BadSelection> {
        Ok(Selection {
            rotate: glob_set("--rotate", globs, true)?,
            rotate_globs: globs.to_vec(),
            ..self
        })
    }

    /// Whether `--rotate` names this connection: its write-only values are re-sent.
    pub fn rotates(&self, name: &str) -> bool {
        self.rotate.as_ref().is_some_and(|set| set.is_match(name))
    }

    /// Refuses a `--rotate` glob that matches none of `rotated`, the connections whose
    /// write-only values the plan re-sends.
    pub fn check_rotation(&self, rotated: &[&str]) -> Result<(), EmptySelection> {
        for glob in &self.rotate_globs {
            let one = single_glob("--rotate", glob, true);
            if !rotated.iter().any(|n| one.is_match(n)) {
                let what = "existing connection with write-only values in the selection (secrets the server returns readable are compared, not rotated)";
                return Err(EmptySelection::new("--rotate", glob, what, rotated));
            }
        }
        Ok(())
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

/// One glob already known to parse (the selection was built from it).
fn single_glob(flag: &'static str, glob: &str, ignore_case: bool) -> GlobSet {
    glob_set(flag, std::slice::from_ref(&glob.to_string()), ignore_case)
        .ok()
        .flatten()
        .unwrap_or_else(GlobSet::empty)
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
    fn a_project_glob_that_matches_nothing_is_an_error_naming_the_closest() {
        let s = Selection::new(&strings(&["Platfrom"]), &[], &[]).unwrap();
        let err = s
            .check_projects(&["Payments", "Platform"], "of the desired-state files")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "--project `Platfrom` matches no project of the desired-state files; did you mean `Platform`? (there are: Payments, Platform)"
        );
        let glob = Selection::new(&strings(&["Pay*", "Plat*"]), &[], &[]).unwrap();
        assert!(glob.check_projects(&["Payments", "Platform"], "x").is_ok());
        assert!(Selection::default().check_projects(&[], "x").is_ok());
    }

    #[test]
    fn a_type_or_name_that_selects_no_connection_is_an_error() {
        let connections = [("email", "alerts-smtp"), ("kafka", "events")];
        let s = Selection::new(&[], &[], &strings(&["alerts-smpt"])).unwrap();
        let err = s.check_connections(&connections, "in P").unwrap_err();
        assert!(
            err.to_string().starts_with(
                "--name `alerts-smpt` matches no connection in P; did you mean `alerts-smtp`?"
            ),
            "{err}"
        );
        let s = Selection::new(&[], &strings(&["syslog"]), &[]).unwrap();
        let err = s.check_connections(&connections, "in P").unwrap_err();
        assert_eq!(
            err.to_string(),
            "--type `syslog` matches no connection in P (there are: email, kafka)"
        );
        let together = Selection::new(&[], &strings(&["kafka"]), &strings(&["alerts-*"])).unwrap();
        assert_eq!(
            together
                .check_connections(&connections, "in P")
                .unwrap_err()
                .flag,
            "--type"
        );
        let fine = Selection::new(&[], &strings(&["email"]), &strings(&["ALERTS-*"])).unwrap();
        assert!(fine.check_connections(&connections, "in P").is_ok());
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
