//! From `-f` arguments (files, folders, globs) to the list of YAML files to load.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use globset::{Glob, GlobMatcher};

use crate::diag::Diagnostic;

/// Every file the arguments name, in a stable order, or one error per argument that
/// names nothing. Folders contribute their `**/*.yaml` and `**/*.yml` files; an explicitly
/// named file is taken whatever its extension.
pub fn expand(arguments: &[String]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let mut files = BTreeSet::new();
    let mut errors = Vec::new();
    for argument in arguments {
        match expand_one(argument) {
            Ok(found) if found.is_empty() => errors.push(nothing_found(argument)),
            Ok(found) => files.extend(found),
            Err(error) => errors.push(*error),
        }
    }
    (files.into_iter().collect(), errors)
}

fn expand_one(argument: &str) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let path = Path::new(argument);
    if path.is_dir() {
        return Ok(yaml_files_below(path));
    }
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    if is_glob(argument) {
        return expand_glob(argument);
    }
    let error = Diagnostic::error(format!("path `{argument}` does not exist"))
        .with_hint("pass a desired-state file, a folder of YAML files or a glob with -f");
    Err(Box::new(error))
}

fn nothing_found(argument: &str) -> Diagnostic {
    Diagnostic::error(format!("`{argument}` matches no YAML file"))
        .with_hint("folders are searched for **/*.yaml and **/*.yml; check the path or glob")
}

fn is_glob(argument: &str) -> bool {
    argument.contains(['*', '?', '[', '{'])
}

/// Walks from the glob's fixed leading folders and keeps the files it matches.
fn expand_glob(pattern: &str) -> Result<Vec<PathBuf>, Box<Diagnostic>> {
    let matcher: GlobMatcher = Glob::new(pattern)
        .map_err(|e| {
            Box::new(
                Diagnostic::error(format!("invalid glob `{pattern}`: {e}"))
                    .with_hint("see https://docs.rs/globset for the glob syntax"),
            )
        })?
        .compile_matcher();
    let base = glob_base(pattern);
    let mut found = Vec::new();
    walk(&base, &mut |file| {
        let candidate = file.strip_prefix("./").unwrap_or(file);
        if matcher.is_match(file) || matcher.is_match(candidate) {
            found.push(file.to_path_buf());
        }
    });
    Ok(found)
}

/// The longest leading folder of a glob without wildcards (`.` when it starts with one).
fn glob_base(pattern: &str) -> PathBuf {
    let mut base = PathBuf::new();
    for component in Path::new(pattern).components() {
        let text = component.as_os_str().to_string_lossy();
        if is_glob(&text) {
            break;
        }
        base.push(component);
    }
    if base.as_os_str().is_empty() || base.is_file() {
        PathBuf::from(".")
    } else {
        base
    }
}

fn yaml_files_below(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    walk(folder, &mut |file| {
        if is_yaml(file) {
            found.push(file.to_path_buf());
        }
    });
    found
}

/// Whether the file name ends in `.yaml` or `.yml`.
pub fn is_yaml(file: &Path) -> bool {
    file.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Calls `visit` for every file below `folder`, in name order. Hidden folders (`.git`)
/// are skipped, and symbolic links to folders are not followed (no cycles).
fn walk(folder: &Path, visit: &mut dyn FnMut(&Path)) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let Ok(kind) = std::fs::symlink_metadata(&path).map(|m| m.file_type()) else {
            continue;
        };
        if kind.is_dir() && !is_hidden(&path) {
            walk(&path, visit);
        } else if path.is_file() {
            visit(&path);
        }
    }
}

fn is_hidden(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with('.') && n != "." && n != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a/b")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        for file in ["a/one.yaml", "a/b/two.yml", "a/notes.txt", ".git/x.yaml"] {
            std::fs::write(root.join(file), "x: 1\n").unwrap();
        }
        dir
    }

    #[test]
    fn folders_yield_yaml_files_recursively() {
        let dir = tree();
        let (files, errors) = expand(&[dir.path().to_string_lossy().into_owned()]);
        assert!(errors.is_empty());
        let names: Vec<String> = files
            .iter()
            .map(|f| f.strip_prefix(dir.path()).unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["a/b/two.yml", "a/one.yaml"]);
    }

    #[test]
    fn globs_match_and_empty_matches_are_errors() {
        let dir = tree();
        let glob = format!("{}/**/*.yml", dir.path().display());
        let (files, errors) = expand(&[glob]);
        assert_eq!(files.len(), 1);
        assert!(errors.is_empty());
        let none = format!("{}/**/*.json", dir.path().display());
        let (_, errors) = expand(&[none]);
        assert!(errors[0].message.contains("matches no YAML file"));
    }

    #[test]
    fn missing_paths_are_errors() {
        let (_, errors) = expand(&["/no/such/place.yaml".to_string()]);
        assert!(errors[0].message.contains("does not exist"));
    }
}
