//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `shared/reference/docs-examples` beside the checkout (CI: `../shared`; a worktree
/// may sit one level deeper), or `None` when absent.
pub fn docs_examples_dir() -> Option<PathBuf> {
    repo()
        .ancestors()
        .skip(1)
        .map(|a| a.join("shared/reference/docs-examples"))
        .find(|f| f.join("EXPECT.tsv").is_file())
}

/// `(file, expectation)` rows of `EXPECT.tsv`.
pub fn expectations(folder: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(folder.join("EXPECT.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(|l| {
            let mut cols = l.split('\t');
            Some((cols.next()?.to_string(), cols.next()?.to_string()))
        })
        .collect()
}

/// Every `.yaml` / `.yml` file below a folder, sorted.
pub fn yaml_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(yaml_files(&path));
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            files.push(path);
        }
    }
    files.sort();
    files
}
