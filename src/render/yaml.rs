//! The one YAML writer of every output: diffs and bodies of plans, exported files and
//! generated workloads all go through serde-saphyr, keys in the order given (the callers
//! order them by the catalog), multi-line strings as block scalars.

use serde_json::Value;

/// The value as a block-style YAML document (no `---`), ending in a newline.
pub fn to_yaml(value: &Value) -> String {
    serde_saphyr::to_string(value).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_values_render_as_block_yaml_that_reads_back() {
        let v = json!({"type": "kafka", "port": 9092, "on": true, "list": [{"host": "a", "port": 1}],
            "empty": [], "map": {"bootstrap.servers": {"value": "b:9092"}}});
        let text = to_yaml(&v);
        assert!(text.starts_with("type: kafka\nport: 9092\n"), "{text}");
        assert!(text.contains("map:\n  bootstrap.servers:\n    value: b:9092\n"));
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back, v);
    }

    #[test]
    fn ambiguous_strings_are_quoted_and_multi_line_ones_are_block_scalars() {
        for s in [
            "", "true", "587", " x", "a: b", "#x", "- x", "%d{yyyy}", "no",
        ] {
            let text = to_yaml(&json!({ "k": s }));
            let back: Value = serde_saphyr::from_str(&text).unwrap();
            assert_eq!(back["k"], s, "{text}");
        }
        let text = to_yaml(&json!({"script": "line one\nline two\n"}));
        assert_eq!(text, "script: |\n  line one\n  line two\n");
        for s in ["${env:PW}", "jdbc:postgresql://h:5432/app", "(sensitive)"] {
            assert_eq!(to_yaml(&json!({ "k": s })), format!("k: {s}\n"));
        }
    }

    #[test]
    fn control_characters_never_reach_the_text_raw() {
        let text = to_yaml(&json!({"k": "a\u{1b}[31mred\rb", "m": "x\n\u{7}y\n"}));
        assert!(
            !text.contains('\u{1b}') && !text.contains('\r') && !text.contains('\u{7}'),
            "{text:?}"
        );
        let back: Value = serde_saphyr::from_str(&text).unwrap();
        assert_eq!(back["k"], "a\u{1b}[31mred\rb");
    }
}
