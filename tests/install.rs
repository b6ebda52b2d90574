//! What `cargo install` users meet first: `--version` with the commit, the license file.

use assert_cmd::Command;

fn git_head(short: usize) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR")])
        .args(["rev-parse", &format!("--short={short}"), "HEAD"])
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

#[test]
fn version_names_the_package_version_and_the_commit_built_from() {
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .arg("--version")
        .output()
        .unwrap();
    assert!(output.status.success());
    let line = String::from_utf8(output.stdout).unwrap();
    let version = concat!("apinizer-gitops ", env!("CARGO_PKG_VERSION"));
    match git_head(12) {
        // A checkout: the commit the tests were built from is HEAD.
        Some(head) => assert_eq!(line, format!("{version} (commit {head})\n")),
        // A tarball without git: the bare version.
        None => assert!(line.starts_with(version), "{line}"),
    }
    let sub = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["plan", "--version"])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8(sub.stdout).unwrap(),
        line.replace("apinizer-gitops ", "apinizer-gitops-plan ")
    );
}

#[test]
fn the_license_file_is_the_apache_license_named_in_cargo_toml() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let license = std::fs::read_to_string(root.join("LICENSE")).unwrap();
    assert!(license.trim_start().starts_with("Apache License"));
    assert!(license.contains("Version 2.0, January 2004"));
    assert!(license.contains("END OF TERMS AND CONDITIONS"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"Apache-2.0\""));
}

/// The image's promises that can be checked without a Docker engine (none runs here):
/// the build stage runs the release build CI runs, the final stage is the same Debian
/// release (glibc), has CA certificates, a non-root user and the binary as entrypoint.
#[test]
fn the_dockerfile_builds_with_the_ci_script_and_runs_as_non_root() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).unwrap();
    let stages: Vec<&str> = dockerfile
        .lines()
        .filter(|l| l.starts_with("FROM "))
        .collect();
    assert_eq!(
        stages,
        ["FROM rust:1-bookworm AS build", "FROM debian:bookworm-slim"]
    );
    assert!(dockerfile.contains("RUN .ci/build-release.sh"));
    assert!(dockerfile.contains("ca-certificates"));
    assert!(dockerfile.contains("USER 10001:10001"));
    assert!(dockerfile.contains(r#"ENTRYPOINT ["apinizer-gitops"]"#));
    let script = std::fs::read_to_string(root.join(".ci/build-release.sh")).unwrap();
    assert!(script.contains("cargo build --release --locked --bin apinizer-gitops"));
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(ci.contains(".ci/build-release.sh"));
    // The build context keeps what the binary embeds (examples, catalog) and the CI script.
    let ignored = std::fs::read_to_string(root.join(".dockerignore")).unwrap();
    for kept in ["examples", "src", ".ci", "Cargo.lock"] {
        assert!(!ignored.lines().any(|l| l.starts_with(kept)), "{kept}");
    }
}
