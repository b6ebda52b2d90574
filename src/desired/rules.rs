//! The catalog's conditional rules (`auth: true` needs `password`, FTPS needs implicit or
//! explicit, ...), evaluated with defaults applied. A rule that involves a field whose
//! value is a `${env:...}` reference is skipped: its value is only known at apply time.

use serde_json::Value;

use super::values::{ValueChecker, child_pointer};
use super::yaml::Location;
use crate::catalog::{FieldSpec, Rule, effective_value};
use crate::model::{Body, is_whole_reference};

/// The values a rule sees: written values first, then documented defaults.
struct Effective<'a> {
    body: &'a Body,
    fields: &'a dyn Fn(&str) -> Option<&'static FieldSpec>,
}

impl Effective<'_> {
    fn written(&self, field: &str) -> Option<&Value> {
        self.body.get(field).filter(|v| !v.is_null())
    }

    fn value(&self, field: &str) -> Value {
        effective_value(self.body, field, (self.fields)(field))
    }

    fn is_reference(&self, field: &str) -> bool {
        self.written(field)
            .and_then(Value::as_str)
            .is_some_and(is_whole_reference)
    }

    /// Present, not null and not empty.
    fn is_filled(&self, field: &str) -> bool {
        match self.written(field) {
            Some(Value::String(s)) => !s.is_empty(),
            Some(Value::Array(a)) => !a.is_empty(),
            Some(Value::Object(o)) => !o.is_empty(),
            Some(_) => true,
            None => false,
        }
    }

    fn is_true(&self, field: &str) -> bool {
        self.value(field) == Value::Bool(true)
    }
}

/// Fields whose value decides the rule (`when_set` only needs presence, which a
/// reference has).
fn involved_fields(rule: &Rule) -> impl Iterator<Item = &String> {
    rule.when
        .keys()
        .chain(&rule.require_any_true)
        .chain(&rule.at_most_one_true)
        .chain(&rule.forbid_true)
}

fn quoted_list(fields: &[String]) -> String {
    let quoted: Vec<String> = fields.iter().map(|f| format!("`{f}`")).collect();
    quoted.join(", ")
}

impl ValueChecker<'_> {
    /// Checks every rule of a type or nested object against its body.
    pub fn check_rules(
        &mut self,
        rules: &[Rule],
        body: &Body,
        pointer: &str,
        object_location: Location,
        fields: &dyn Fn(&str) -> Option<&'static FieldSpec>,
    ) {
        let effective = Effective { body, fields };
        for rule in rules {
            if involved_fields(rule).any(|f| effective.is_reference(f)) {
                continue;
            }
            if rule.applies(body, fields) {
                self.check_rule(rule, &effective, pointer, object_location);
            }
        }
    }

    fn check_rule(&mut self, rule: &Rule, effective: &Effective, pointer: &str, object: Location) {
        let condition = rule.describe_condition();
        let when = if condition.is_empty() {
            String::new()
        } else {
            format!(" when `{condition}`")
        };
        let trigger = rule.when.keys().chain(&rule.when_set).next();
        let at = self.location_of(pointer, trigger.map(String::as_str), object);
        for field in rule.require.iter().filter(|f| !effective.is_filled(f)) {
            let message = format!("`{field}` is required{when}");
            self.error(at, message, Some(format!("add `{field}`")));
        }
        if !rule.require_any_true.is_empty()
            && !rule.require_any_true.iter().any(|f| effective.is_true(f))
        {
            let list = quoted_list(&rule.require_any_true);
            let message = format!("one of {list} must be true{when}");
            self.error(at, message, Some("set one of them to true".to_string()));
        }
        let trues: Vec<&String> = rule
            .at_most_one_true
            .iter()
            .filter(|f| effective.is_true(f))
            .collect();
        if let Some(second) = trues.get(1) {
            let list = quoted_list(&rule.at_most_one_true);
            let message = format!("only one of {list} may be true{when}");
            let at = self.location_of(pointer, Some(second), object);
            self.error(at, message, Some("set all but one to false".to_string()));
        }
        for field in rule.forbid_true.iter().filter(|f| effective.is_true(f)) {
            let message = format!("`{field}` must not be true{when}");
            let at = self.location_of(pointer, Some(field), object);
            self.error(at, message, Some(format!("set `{field}: false`")));
        }
    }

    fn location_of(&self, pointer: &str, field: Option<&str>, fallback: Location) -> Location {
        field
            .and_then(|f| self.locations.get(&child_pointer(pointer, f)))
            .copied()
            .unwrap_or(fallback)
    }
}
