//! Export's files: one per project directly inside `--out`, named so that no two projects
//! share one, each marked as written by export with a hash of its content, and written
//! whole ([`crate::whole_file`]: never through a link). A file export did not write, or
//! that changed since, is overwritten only with `--force`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// The start of the second line of every exported file; the hash of the text after that
/// line follows, so a later export can tell its own unchanged files from all others.
pub const MARKER_PREFIX: &str = "# Written by apinizer-gitops export, sha256:";

/// Larger files are not read to look for the marker: export never writes one that big.
const LARGEST_EXPORTED_FILE: u64 = 1 << 30;

/// The marker line: prefix, hash of `body`, and what the marker means to a reader.
pub fn marker(body: &str) -> String {
    format!(
        "{MARKER_PREFIX}{} (export replaces this file only while it is unchanged, or with --force)",
        hex::encode(Sha256::digest(body.as_bytes()))
    )
}

/// The file name of a project: `<name>.yaml` with `%`, path separators, control characters,
/// the characters Windows forbids and a leading `.` percent-encoded, so the file stays in
/// the folder and different names stay different files (`team/a` -> `team%2Fa.yaml`,
/// `team_a` -> `team_a.yaml`).
pub fn file_name(project: &str) -> String {
    let mut name = String::with_capacity(project.len() + 5);
    for (i, c) in project.chars().enumerate() {
        let reserved = matches!(
            c,
            '%' | '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|'
        );
        if reserved || c.is_control() || (i == 0 && c == '.') {
            let mut bytes = [0; 4];
            for byte in c.encode_utf8(&mut bytes).bytes() {
                let _ = write!(name, "%{byte:02X}");
            }
        } else {
            name.push(c);
        }
    }
    name.push_str(".yaml");
    name
}

/// The path of every project's file; an error when a project has an empty name or two
/// names differ only in case (they would share a file on macOS and Windows).
pub fn paths<'a>(
    out_dir: &Path,
    projects: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<PathBuf>, String> {
    let mut by_folded_name: BTreeMap<String, &str> = BTreeMap::new();
    let mut paths = Vec::new();
    for project in projects {
        if project.is_empty() {
            return Err("the server holds a project with an empty name: it cannot be exported to a file; limit the export with --project".into());
        }
        let name = file_name(project);
        if let Some(other) = by_folded_name.insert(name.to_lowercase(), project) {
            return Err(format!(
                "projects `{}` and `{}` would share the file {name} (names that differ only in case share a file on macOS and Windows): export them one at a time into different folders (--project, --out)",
                crate::diag::printable(other),
                crate::diag::printable(project)
            ));
        }
        paths.push(out_dir.join(name));
    }
    Ok(paths)
}

/// Why export may not replace an existing path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// What is in the way (`is a symbolic link ...`).
    pub reason: &'static str,
    /// Whether `--force` replaces it anyway (not a folder, nor a path it cannot inspect).
    pub forceable: bool,
}

/// Why an existing path may not be replaced, `None` when it may: absent, or a file that
/// `why_not_ours` accepts ([`yaml_refusal`], [`schema_refusal`]).
pub fn refusal(path: &Path, why_not_ours: fn(&str) -> Option<&'static str>) -> Option<Refusal> {
    let forceable = |reason| Refusal {
        reason,
        forceable: true,
    };
    let never = |reason| Refusal {
        reason,
        forceable: false,
    };
    let metadata = match path.symlink_metadata() {
        Ok(metadata) => metadata,
        // A folder that cannot exist is reported when it is made.
        Err(e) if matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory) => {
            return None;
        }
        Err(_) => return Some(never("cannot be inspected")),
    };
    if metadata.file_type().is_symlink() {
        return Some(forceable(
            "is a symbolic link (export never writes through one)",
        ));
    }
    if !metadata.is_file() {
        return Some(never("is not a regular file"));
    }
    if metadata.len() > LARGEST_EXPORTED_FILE {
        return Some(forceable(NOT_WRITTEN_BY_EXPORT));
    }
    match std::fs::read_to_string(path) {
        Ok(text) => why_not_ours(&text).map(forceable),
        Err(_) => Some(forceable(NOT_WRITTEN_BY_EXPORT)),
    }
}

const NOT_WRITTEN_BY_EXPORT: &str = "was not written by export";

/// A project file is export's while its second line is the marker and matches the text
/// after it.
pub fn yaml_refusal(text: &str) -> Option<&'static str> {
    let mut parts = text.splitn(3, '\n');
    let (_schema_line, Some(marker_line), Some(body)) = (parts.next(), parts.next(), parts.next())
    else {
        return Some(NOT_WRITTEN_BY_EXPORT);
    };
    if marker_line == marker(body) {
        None
    } else if marker_line.starts_with(MARKER_PREFIX) {
        Some("was changed since export wrote it")
    } else {
        Some(NOT_WRITTEN_BY_EXPORT)
    }
}

/// The schema file is export's when it is this tool's schema (any version: it is generated,
/// never edited).
pub fn schema_refusal(text: &str) -> Option<&'static str> {
    let id = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|schema| Some(schema.get("$id")?.as_str()? == crate::schema::SCHEMA_ID));
    match id {
        Some(true) => None,
        _ => Some(NOT_WRITTEN_BY_EXPORT),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_stay_inside_the_folder_and_apart() {
        assert_eq!(file_name("Payments"), "Payments.yaml");
        assert_eq!(file_name("team/a"), "team%2Fa.yaml");
        assert_eq!(file_name("team_a"), "team_a.yaml");
        assert_eq!(file_name("../x"), "%2E.%2Fx.yaml");
        assert_eq!(file_name(".."), "%2E..yaml");
        assert_eq!(file_name("a%2Fb"), "a%252Fb.yaml");
        assert_eq!(file_name("c:\\d\n"), "c%3A%5Cd%0A.yaml");
        assert_eq!(file_name("my project.v2"), "my project.v2.yaml");
    }

    #[test]
    fn projects_differing_only_in_case_or_unnamed_are_refused() {
        let dir = Path::new("out");
        let ok = paths(dir, ["team/a", "team_a"]).unwrap();
        assert_eq!(ok[0], dir.join("team%2Fa.yaml"));
        assert_eq!(ok[1], dir.join("team_a.yaml"));
        let err = paths(dir, ["Ops", "ops"]).unwrap_err();
        assert!(
            err.contains("`Ops` and `ops` would share the file ops.yaml"),
            "{err}"
        );
        assert!(paths(dir, [""]).unwrap_err().contains("empty name"));
    }

    #[test]
    fn only_unchanged_exported_files_may_be_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("P.yaml");
        let check = |path: &Path| refusal(path, yaml_refusal).map(|r| r.reason);
        assert_eq!(check(&path), None, "absent");
        let body = "apiVersion: apinizer-gitops/v1\nproject: P\n";
        std::fs::write(&path, format!("# schema\n{}\n{body}", marker(body))).unwrap();
        assert_eq!(check(&path), None, "ours");
        std::fs::write(
            &path,
            format!("# schema\n{}\n{body}# edited\n", marker(body)),
        )
        .unwrap();
        assert_eq!(check(&path), Some("was changed since export wrote it"));
        std::fs::write(&path, body).unwrap();
        assert_eq!(check(&path), Some("was not written by export"));
        std::fs::write(&path, [0xff, 0xfe]).unwrap();
        assert_eq!(check(&path), Some("was not written by export"));
        std::fs::create_dir(dir.path().join("D.yaml")).unwrap();
        let folder = refusal(&dir.path().join("D.yaml"), yaml_refusal).unwrap();
        assert_eq!(folder.reason, "is not a regular file");
        assert!(!folder.forceable, "--force never replaces a folder");
    }

    #[test]
    fn only_this_tools_schema_counts_as_the_exported_schema() {
        let ours = crate::schema::connections_schema_text();
        assert_eq!(schema_refusal(&ours), None);
        for other in [
            "{}",
            "{\"$id\": \"https://example.com/x.json\"}",
            "not json",
        ] {
            assert_eq!(
                schema_refusal(other),
                Some("was not written by export"),
                "{other}"
            );
        }
    }
}
