//! The common shape of desired-state files, read straight from the parser's events.
//!
//! serde-saphyr's spanned deserialiser spent about half of `validate`'s CPU wrapping
//! every node; files of plain block YAML (no tags, anchors, aliases, merge keys or
//! directives) need none of that. This reader builds the same [`Node`] tree from
//! granit-parser's events (the parser serde-saphyr itself runs) and gives up, returning
//! `None`, at the first thing outside that shape: the caller then parses the file with
//! serde-saphyr, which owns every error message, every budget and every scalar it
//! cannot tell apart here. A unit test holds the two readers to the same trees.

use granit_parser::{Event, Parser, ScalarStyle, Span};
use serde_json::Number;

use super::{Location, MAX_DEPTH, MAX_DOCUMENTS, MAX_NODES, Node, NodeValue};

/// The documents of `text`, or `None` when the file needs the full parser.
pub(super) fn documents(text: &str) -> Option<Vec<Node>> {
    let mut tree = Tree::default();
    for item in Parser::new_from_str(text) {
        let (event, span) = item.ok()?;
        tree.take(event, span)?;
    }
    tree.open.is_empty().then_some(tree.documents)
}

/// A sequence or mapping whose end has not come yet.
enum Open {
    Seq(Location, Vec<Node>),
    Map(Location, Vec<(Node, Node)>, Option<Node>),
}

#[derive(Default)]
struct Tree {
    open: Vec<Open>,
    documents: Vec<Node>,
    nodes: usize,
}

impl Tree {
    /// Takes one event; `None` when it is outside the shape this reader knows.
    fn take(&mut self, event: Event<'_>, span: Span) -> Option<()> {
        let location = Location {
            line: span.start.line() as u64,
            column: span.start.col() as u64 + 1,
        };
        match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => Some(()),
            Event::DocumentStart(_, None) | Event::Comment(..) => Some(()),
            Event::Scalar(text, style, 0, None) => {
                let value = scalar(&text, style)?;
                self.add(Node { value, location })
            }
            Event::SequenceStart(_, 0, None) => self.start(Open::Seq(location, Vec::new())),
            Event::MappingStart(_, 0, None) => self.start(Open::Map(location, Vec::new(), None)),
            Event::SequenceEnd | Event::MappingEnd => self.end(),
            // Anchors, aliases, tags, directives: the full parser's business.
            _ => None,
        }
    }

    fn start(&mut self, open: Open) -> Option<()> {
        if self.open.len() >= MAX_DEPTH {
            return None;
        }
        self.open.push(open);
        Some(())
    }

    fn end(&mut self) -> Option<()> {
        let node = match self.open.pop()? {
            Open::Seq(location, items) => Node {
                value: NodeValue::Seq(items),
                location,
            },
            Open::Map(location, entries, None) => Node {
                value: NodeValue::Map(entries),
                location,
            },
            Open::Map(_, _, Some(_)) => return None,
        };
        self.add(node)
    }

    /// Places a finished node: a document root, a list item, a key or a key's value.
    fn add(&mut self, node: Node) -> Option<()> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return None;
        }
        match self.open.last_mut() {
            // An empty or null document is skipped by the full parser's own rule.
            None if node.is_null() || self.documents.len() >= MAX_DOCUMENTS => None,
            None => {
                self.documents.push(node);
                Some(())
            }
            Some(Open::Seq(_, items)) => {
                items.push(node);
                Some(())
            }
            Some(Open::Map(_, entries, key)) => {
                match key.take() {
                    Some(key) => entries.push((key, node)),
                    // Only string keys; `<<` is a merge key.
                    None if node.as_str().is_some_and(|k| k != "<<") => *key = Some(node),
                    None => return None,
                }
                Some(())
            }
        }
    }
}

/// The value of an untagged scalar, as YAML 1.2's core schema reads it with strict
/// booleans; `None` for spellings left to the full parser (floats, signs, radices,
/// leading zeros, `inf` and `nan` words).
fn scalar(text: &str, style: ScalarStyle) -> Option<NodeValue> {
    if style != ScalarStyle::Plain {
        return Some(NodeValue::String(text.to_string()));
    }
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Some(NodeValue::Null),
        "true" | "True" | "TRUE" => return Some(NodeValue::Bool(true)),
        "false" | "False" | "FALSE" => return Some(NodeValue::Bool(false)),
        _ => {}
    }
    let first = text.chars().next()?;
    if first.is_ascii_digit() {
        return digits_first(text);
    }
    let word = text.to_ascii_lowercase();
    let special = matches!(
        word.as_str(),
        "null" | "true" | "false" | "inf" | "infinity" | "nan"
    );
    let string = !special && !matches!(first, '+' | '-' | '.');
    string.then(|| NodeValue::String(text.to_string()))
}

/// A plain scalar starting with a digit: a decimal integer, or a string when it holds a
/// character no number has (`10.0.0.1/24`) or two dots (`1.3.6.1`).
fn digits_first(text: &str) -> Option<NodeValue> {
    let bytes = text.as_bytes();
    if bytes.iter().all(u8::is_ascii_digit) {
        if bytes.len() > 1 && bytes[0] == b'0' {
            return None;
        }
        return text
            .parse::<u64>()
            .ok()
            .map(|n| NodeValue::Number(Number::from(n)));
    }
    let numeric = |b: &u8| b.is_ascii_alphanumeric() || b"+-._".contains(b);
    let dots = bytes.iter().filter(|b| **b == b'.').count();
    let string = !bytes.iter().all(numeric) || dots >= 2 && !bytes.contains(&b'e');
    string.then(|| NodeValue::String(text.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What serde-saphyr makes of the same text.
    fn full(text: &str) -> Vec<Node> {
        super::super::parse_with_serde(text).expect("serde-saphyr parses it")
    }

    fn same_trees(text: &str) {
        let fast = documents(text).unwrap_or_else(|| panic!("the event reader took {text:?}"));
        assert_eq!(fast, full(text), "{text}");
    }

    #[test]
    fn block_files_read_as_serde_saphyr_reads_them() {
        same_trees("a: 1\nb:\n  - x\n  - \"y\"\n  - {k: v, n: ~}\nc: [1, two, 'three']\n");
        same_trees("project: P\nconnections:\n- type: email\n  name: m\n  port: 25\n");
        same_trees("a: 1\n---\nb: 2\n");
        same_trees("s: |\n  line one\n  line two\nf: >\n  folded\n  text\n");
        same_trees("oid: 1.3.6.1.4.1.55555.1.1\nc: udp:10.20.0.15/162\nt: True\nn: NULL\ne:\n");
        same_trees("type: elasticsearch\nhost: h\ntype: READ\n");
        same_trees("r: ${env:X}\nq: '5'\nz: 0\nbig: 18446744073709551615\n");
    }

    #[test]
    fn every_shipped_yaml_file_reads_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut read = 0;
        // The repository's own files first; the shared docs examples beside a checkout
        // are read too when present (a fresh clone has none).
        let folders = [
            "examples",
            "tests",
            "src/catalog/examples",
            "../shared/reference/docs-examples",
        ];
        for folder in folders {
            for path in yaml_files(&root.join(folder)) {
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let (Some(fast), Ok(full)) =
                    (documents(&text), super::super::parse_with_serde(&text))
                else {
                    continue;
                };
                assert_eq!(fast, full, "{}", path.display());
                read += 1;
            }
        }
        assert!(read >= 10, "only {read} files read by both");
    }

    fn yaml_files(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
        let Ok(entries) = std::fs::read_dir(folder) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                out.extend(yaml_files(&path));
            } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
                out.push(path);
            }
        }
        out
    }

    #[test]
    fn what_needs_the_full_parser_is_left_to_it() {
        for text in [
            "a: &x 1\nb: *x\n",
            "a: !!str 5\n",
            "base: &b {k: 1}\nm:\n  <<: *b\n",
            "%YAML 1.2\n---\na: 1\n",
            "f: 1.5\n",
            "n: -3\n",
            "h: 0x1F\n",
            "o: 0127\n",
            "w: inf\n",
            "d: .5\n",
            "e: 1e5\n",
            "~\n",
            "a: [1, 2\n",
            "1: one\n",
        ] {
            assert_eq!(documents(text), None, "{text}");
        }
    }

    #[test]
    fn budgets_leave_deep_files_to_the_full_parser() {
        let deep = format!(
            "{}1{}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(documents(&deep), None);
    }
}
