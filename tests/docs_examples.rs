//! Every request example of the Apinizer docs, as a desired-state file, validated one by
//! one with the binary: `ok` rows exit 0; `reject:a|b` rows exit 1 with a message naming
//! one of the fields (lowercase match), per `EXPECT.tsv`.

mod common;

use assert_cmd::Command;
use common::{docs_examples_dir, expectations};

#[test]
fn docs_examples_validate_as_expected() {
    let Some(folder) = docs_examples_dir() else {
        eprintln!("note: shared/reference/docs-examples is absent; skipping");
        return;
    };
    let mut checked = 0;
    for (file, expectation) in expectations(&folder) {
        let output = Command::cargo_bin("apinizer-gitops")
            .unwrap()
            .args(["validate", "-f"])
            .arg(folder.join(&file))
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&output.stdout).to_lowercase();
        match expectation.strip_prefix("reject:") {
            None => assert!(output.status.success(), "{file} should validate:\n{stdout}"),
            Some(fields) => {
                assert_eq!(output.status.code(), Some(1), "{file} should be rejected");
                assert!(
                    fields.split('|').any(|f| stdout.contains(f)),
                    "{file}: no message names one of {fields}:\n{stdout}"
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 80, "only {checked} rows in EXPECT.tsv");
}

#[test]
fn all_docs_examples_at_once_report_every_rejected_file() {
    let Some(folder) = docs_examples_dir() else {
        return;
    };
    let output = Command::cargo_bin("apinizer-gitops")
        .unwrap()
        .args(["validate", "--format", "json", "-f"])
        .arg(&folder)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let files: std::collections::BTreeSet<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            !e["message"]
                .as_str()
                .unwrap()
                .contains("duplicate connection name")
        })
        .map(|e| {
            e["file"]
                .as_str()
                .unwrap()
                .rsplit('/')
                .next()
                .unwrap()
                .to_string()
        })
        .collect();
    let expected = [
        "crud-create-example-2-create-database-connection-curl.yaml",
        "crud-create-example-3-create-kafka-connection-curl.yaml",
        "crud-update-example-3-update-and-disable-curl.yaml",
        "snmp-create-snmp-v1-trap.yaml",
        "snmp-update-full.yaml",
    ];
    assert_eq!(files, expected.iter().map(|s| s.to_string()).collect());
}
