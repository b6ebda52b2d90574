//! Build script: records the git commit the binary is built from, for `--version`.
//!
//! Sources, first found wins: the `APINIZER_GITOPS_GIT_COMMIT` variable (set by the
//! Dockerfile's build argument, since the image build context has no `.git`); the git
//! checkout this crate is the top of (not an enclosing repository that merely contains an
//! unpacked tarball); `.cargo_vcs_info.json`, which `cargo package` writes into a
//! crates.io tarball. Without any of them the version is the bare package version.

use std::path::{Path, PathBuf};
use std::process::Command;

const OVERRIDE: &str = "APINIZER_GITOPS_GIT_COMMIT";

fn main() {
    println!("cargo:rerun-if-env-changed={OVERRIDE}");
    let manifest_dir =
        PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let commit = std::env::var(OVERRIDE)
        .ok()
        .filter(|c| is_commit(c))
        .or_else(|| commit_from_git(&manifest_dir))
        .or_else(|| commit_from_vcs_info(&manifest_dir));
    let version = env!("CARGO_PKG_VERSION");
    let long = match commit {
        Some(commit) => format!("{version} (commit {})", &commit[..commit.len().min(12)]),
        None => version.to_string(),
    };
    println!("cargo:rustc-env=APINIZER_GITOPS_VERSION={long}");
}

/// A hexadecimal object name, so nothing else can reach the version line.
fn is_commit(text: &str) -> bool {
    (7..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    Some(String::from_utf8(output.stdout).ok()?.trim().to_string())
}

fn commit_from_git(dir: &Path) -> Option<String> {
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // Rebuild when HEAD moves: the HEAD file (a checkout of another branch), the branch's
    // loose ref (a commit) and packed-refs. Only existing files: cargo reruns a build
    // script on every build for a path that does not exist.
    let mut watched = vec!["HEAD".to_string(), "packed-refs".to_string()];
    watched.extend(git(dir, &["symbolic-ref", "-q", "HEAD"]));
    for name in watched {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", &name]) {
            let path = dir.join(path);
            if path.is_file() {
                println!("cargo:rerun-if-changed={}", path.display());
            }
        }
    }
    git(dir, &["rev-parse", "HEAD"]).filter(|c| is_commit(c))
}

fn commit_from_vcs_info(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join(".cargo_vcs_info.json")).ok()?;
    // {"git": {"sha1": "<40 hex>"}, ...}: the only field read, found without a JSON parser.
    let after = &text[text.find("\"sha1\"")? + 6..];
    let start = after.find('"')? + 1;
    let end = start + after[start..].find('"')?;
    Some(after[start..end].to_string()).filter(|c| is_commit(c))
}
