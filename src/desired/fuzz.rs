//! Property tests of the loader (issue 8 item 12): arbitrary bytes, generated YAML
//! shapes and mutated example files go through parsing, document and connection checks,
//! the merge and reference resolution. No input may panic, every case must end (a hang
//! guard, not a speed target), and an input the loader accepts must hold only names
//! that are safe path segments. Figures: `cargo test --lib desired::fuzz -- --nocapture`.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{LoadOptions, check_bytes, check_ignored_connections, merge};
use crate::diag::Diagnostic;
use crate::model::unsafe_name;
use crate::refs::Env;

/// Cases per property; three properties stay well under 30 s on a loaded CI machine.
const CASES: u32 = 256;

/// A case that runs longer than this is taken for a hang.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// The slowest case seen, in microseconds (printed as a figure).
static SLOWEST_MICROS: AtomicU64 = AtomicU64::new(0);

/// Every variable is set (to a value that converts to numbers and booleans alike
/// fails, so both paths run).
struct AnyEnv;

impl Env for AnyEnv {
    fn var(&self, name: &str) -> Option<String> {
        let value = if name.len().is_multiple_of(2) {
            "1"
        } else {
            "text"
        };
        Some(value.to_string())
    }
}

/// Loads one file's bytes the way `load` does and checks the invariants.
fn load_bytes(bytes: &[u8]) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let options = LoadOptions::default();
    let mut out: Vec<Diagnostic> = Vec::new();
    let documents = check_bytes(Path::new("fuzz.yaml"), bytes, &options, &mut out);
    let state = merge(documents, &mut out);
    check_ignored_connections(&state, &mut out);
    let valid = !out.iter().any(Diagnostic::is_error);
    for project in state.projects.values() {
        for connection in &project.connections {
            let _ = crate::refs::resolve_connection(&connection.template, &AnyEnv);
            if valid {
                prop_assert!(unsafe_name(&connection.template.name).is_none());
            }
        }
        if valid {
            prop_assert!(unsafe_name(&project.name).is_none());
        }
    }
    for diagnostic in &out {
        let text = diagnostic.render_text();
        prop_assert!(!text.contains('\u{1b}'), "raw ESC in {text:?}");
    }
    let elapsed = started.elapsed();
    SLOWEST_MICROS.fetch_max(elapsed.as_micros() as u64, Ordering::Relaxed);
    prop_assert!(elapsed < HANG_GUARD, "a case took {elapsed:?}");
    Ok(())
}

/// Strings the loader treats specially, and some it must refuse.
fn interesting_string() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "email",
            "kafka",
            "elasticsearch",
            "database",
            "ldap",
            "webhook",
            "logback",
            "linux-script",
            "rabbitMq",
            "READ",
            "READ_WRITE",
            "Payments",
            "mail",
            "..",
            ".",
            "a/b",
            "a b",
            "%2e",
            "${env:PW}",
            "${env:}",
            "$${env:X}",
            "${var:V}",
            "${",
            "${env:A}${env:B}",
            "~",
            "null",
            "true",
            "0x1F",
            "1e999",
            "-0",
            "",
            "\u{1b}[2J",
            "x\ny",
            "\u{202e}",
            "/port",
            "/propertiesMap/a~1b/value",
            "legacy-*",
            "a[",
        ])
        .prop_map(str::to_string),
        "[ -~]{0,12}",
        any::<String>().prop_map(|s| s.chars().take(16).collect()),
    ]
}

/// Keys of documents and connections, known ones most of the time.
fn interesting_key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "apiVersion", "project", "prune", "allowEmpty", "ignore", "ignoreFields",
            "connections", "type", "name", "renamedFrom", "host", "port", "password",
            "auth", "username", "topicName", "propertiesMap", "elasticHostList",
            "accessType", "headerList", "jdbcUrl", "protect", "value", "valueType",
        ])
        .prop_map(str::to_string),
        1 => interesting_string(),
    ]
}

/// A JSON-shaped value: scalars, lists and maps nested a few levels.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        interesting_string().prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((interesting_key(), inner), 0..6)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A document that looks like a desired-state file: a project and connections made of
/// known keys with arbitrary values.
fn document() -> impl Strategy<Value = Value> {
    let connection = prop::collection::vec((interesting_key(), value()), 0..8)
        .prop_map(|entries| Value::Object(entries.into_iter().collect()));
    (
        interesting_string(),
        prop::collection::vec(connection, 0..4),
        prop::collection::vec((interesting_key(), value()), 0..3),
    )
        .prop_map(|(project, connections, extra)| {
            let mut document: Map<String, Value> = extra.into_iter().collect();
            document.insert("project".into(), Value::String(project));
            document.insert("connections".into(), Value::Array(connections));
            Value::Object(document)
        })
}

/// YAML features a generated document may be wrapped in.
const YAML_SNIPPETS: [&str; 8] = [
    "",
    "%YAML 1.2\n---\n",
    "base: &a {type: email, name: m, host: h}\n",
    "a: &a [x, x, x, x]\nb: &b [*a, *a, *a, *a]\nc: &c [*b, *b, *b, *b]\nd: [*c, *c, *c, *c]\n---\n",
    "connections:\n  - <<: *nope\n",
    "!!binary aGVsbG8=\n---\n",
    "? [complex, key]\n: value\n---\n",
    "\u{feff}",
];

/// Generated documents as block YAML or JSON (flow style), joined with `---`.
fn yaml_text() -> impl Strategy<Value = String> {
    (
        prop::sample::select(YAML_SNIPPETS.to_vec()),
        prop::collection::vec((document(), any::<bool>()), 1..3),
    )
        .prop_map(|(prefix, documents)| {
            let bodies: Vec<String> = documents
                .iter()
                .map(|(d, block)| {
                    let block = block.then(|| serde_saphyr::to_string(d).ok()).flatten();
                    block.unwrap_or_else(|| d.to_string() + "\n")
                })
                .collect();
            format!("{prefix}{}", bodies.join("---\n"))
        })
}

/// One edit of a byte string: insert, delete or replace at a position.
fn mutated(base: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec((any::<prop::sample::Index>(), 0u8..3, any::<u8>()), 1..8).prop_map(
        move |edits| {
            let mut bytes = base.to_vec();
            for (at, op, byte) in edits {
                let i = at.index(bytes.len() + 1);
                match op {
                    0 => bytes.insert(i, byte),
                    1 if i < bytes.len() => {
                        bytes.remove(i);
                    }
                    _ if i < bytes.len() => bytes[i] = byte,
                    _ => bytes.push(byte),
                }
            }
            bytes
        },
    )
}

const EXAMPLE: &[u8] = include_bytes!("../../examples/connections/payments/messaging.yaml");

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        load_bytes(&bytes)?;
    }

    #[test]
    fn generated_yaml_shapes_never_panic(text in yaml_text()) {
        load_bytes(text.as_bytes())?;
    }

    #[test]
    fn mutated_examples_never_panic(bytes in mutated(EXAMPLE)) {
        load_bytes(&bytes)?;
    }
}

#[test]
fn the_unmutated_example_loads_and_the_slowest_case_is_reported() {
    load_bytes(EXAMPLE).unwrap();
    let mut out = Vec::new();
    let documents = check_bytes(
        Path::new("messaging.yaml"),
        EXAMPLE,
        &LoadOptions::default(),
        &mut out,
    );
    assert!(
        !documents.is_empty() && out.iter().all(|d| !d.is_error()),
        "{out:?}"
    );
    eprintln!(
        "loader fuzz: {CASES} cases per property x 3; slowest case so far {} us",
        SLOWEST_MICROS.load(Ordering::Relaxed)
    );
}
