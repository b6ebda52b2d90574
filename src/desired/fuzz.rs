//! Property tests of the loader (issue 8 item 12): arbitrary bytes, generated YAML
//! shapes and mutated example files go through parsing, document and connection checks,
//! the merge and reference resolution. No input may panic, every case must end (a hang
//! guard, not a speed target), and an input the loader accepts must hold only names
//! that are safe path segments. Figures: `cargo test --lib desired::fuzz -- --nocapture`.

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{Map, Value, json};

use super::{LoadOptions, Scope, check_bytes, check_ignored_connections, merge};
use crate::diag::Diagnostic;
use crate::model::unsafe_name;
use crate::refs::Env;

/// Cases per property; the three stay well under 30 s on a loaded CI machine.
const CASES: u32 = 256;

/// A case that runs longer than this is taken for a hang.
const HANG_GUARD: Duration = Duration::from_secs(10);

/// What the cases of one property reached, printed as figures.
#[derive(Default)]
struct Figures {
    cases: u32,
    with_project: u32,
    connections: usize,
    accepted: u32,
    slowest: Duration,
}

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
fn load_bytes(bytes: &[u8], figures: &RefCell<Figures>) -> Result<(), TestCaseError> {
    let started = Instant::now();
    let options = LoadOptions::default();
    let mut out: Vec<Diagnostic> = Vec::new();
    let documents = check_bytes(
        &Scope::for_file(Path::new("fuzz.yaml"), None),
        bytes,
        &options,
        &mut out,
    );
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
    prop_assert!(elapsed < HANG_GUARD, "a case took {elapsed:?}");
    let mut f = figures.borrow_mut();
    f.cases += 1;
    f.with_project += u32::from(!state.projects.is_empty());
    f.connections += state.connection_count();
    f.accepted += u32::from(valid && !state.projects.is_empty());
    f.slowest = f.slowest.max(elapsed);
    Ok(())
}

/// Runs one property over [`CASES`] inputs (a failure shrinks and names the input) and
/// prints what the cases reached.
fn fuzz<S: Strategy>(what: &str, strategy: S, bytes: impl Fn(&S::Value) -> Vec<u8>) {
    let figures = RefCell::new(Figures::default());
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |input| load_bytes(&bytes(&input), &figures));
    if let Err(e) = result {
        panic!("loader fuzz ({what}): {e}");
    }
    let f = figures.into_inner();
    eprintln!(
        "loader fuzz ({what}): {} cases, {} reached a project, {} connections checked, {} accepted, slowest {:?}",
        f.cases, f.with_project, f.connections, f.accepted, f.slowest
    );
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

/// A connection that most often has a real type and a usable name, so that the cases
/// reach the type's field checks, plus fields of any type with arbitrary values.
fn connection() -> impl Strategy<Value = Value> {
    let kinds: Vec<&'static str> = crate::catalog::type_names().collect();
    let fields: Vec<&'static str> = kinds
        .iter()
        .flat_map(|kind| crate::catalog::catalog().all_fields(kind).map(|(f, _)| f))
        .collect();
    let field = prop_oneof![
        3 => prop::sample::select(fields).prop_map(str::to_string),
        1 => interesting_key(),
    ];
    (
        prop::option::weighted(0.9, prop::sample::select(kinds)),
        prop::option::weighted(0.9, interesting_string()),
        prop::collection::vec((field, value()), 0..8),
    )
        .prop_map(|(kind, name, entries)| {
            let mut connection: Map<String, Value> = entries.into_iter().collect();
            if let Some(kind) = kind {
                connection.insert("type".into(), Value::String(kind.into()));
            }
            if let Some(name) = name {
                connection.insert("name".into(), Value::String(name));
            }
            Value::Object(connection)
        })
}

/// A document that looks like a desired-state file: a project, connections and maybe
/// other top-level keys.
fn document() -> impl Strategy<Value = Value> {
    (
        interesting_string(),
        prop::collection::vec(connection(), 0..4),
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

/// Bytes an edit writes: mostly characters YAML gives a meaning to, sometimes any byte.
fn edit_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        3 => prop::sample::select(b": -\n\t\"'{}[]#&*!|>%@`$,?~\\0aZ9".to_vec()),
        1 => any::<u8>(),
    ]
}

/// One to four edits of a byte string: insert, delete or replace at a position.
fn mutated(base: &'static [u8]) -> impl Strategy<Value = Vec<u8>> {
    let edit = (any::<prop::sample::Index>(), 0u8..3, edit_byte());
    prop::collection::vec(edit, 1..4).prop_map(move |edits| {
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
    })
}

const EXAMPLE: &[u8] = include_bytes!("../../examples/connections/payments/messaging.yaml");

#[test]
fn arbitrary_bytes_never_panic() {
    fuzz(
        "arbitrary bytes",
        prop::collection::vec(any::<u8>(), 0..2048),
        Vec::clone,
    );
}

#[test]
fn generated_yaml_shapes_never_panic() {
    fuzz("generated YAML shapes", yaml_text(), |t| {
        t.as_bytes().to_vec()
    });
}

#[test]
fn mutated_examples_never_panic() {
    fuzz("mutated example", mutated(EXAMPLE), Vec::clone);
}

/// The event reader of plain files builds the trees serde-saphyr builds, or leaves the
/// file to it.
#[test]
fn both_yaml_readers_agree_on_generated_and_mutated_files() {
    let mut runner = TestRunner::new(ProptestConfig {
        cases: CASES,
        ..ProptestConfig::default()
    });
    let agree = |text: &str| {
        prop_assert!(super::yaml::event_reader_agrees(text), "{text}");
        Ok(())
    };
    runner.run(&yaml_text(), |t| agree(&t)).unwrap();
    runner
        .run(&mutated(EXAMPLE), |bytes| {
            match std::str::from_utf8(&bytes) {
                Ok(text) => agree(text),
                Err(_) => Ok(()),
            }
        })
        .unwrap();
}

#[test]
fn the_unmutated_example_is_accepted() {
    let figures = RefCell::new(Figures::default());
    load_bytes(EXAMPLE, &figures).unwrap();
    assert_eq!(figures.borrow().accepted, 1);
    assert!(figures.borrow().connections > 0);
}
