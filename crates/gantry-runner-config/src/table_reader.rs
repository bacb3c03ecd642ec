//! `TableReader`: typed access to a parsed TOML table that records errors (wrong types) and
//! warnings (unknown or unsupported keys) with their positions.

use std::collections::BTreeMap;
use std::path::Path;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::config_diagnostic::ConfigDiagnostic;

/// A value with its span.
pub(crate) type Value<'i> = Spanned<DeValue<'i>>;

/// Collects diagnostics while values are read.
pub(crate) struct TableReader<'a> {
    pub(crate) path: &'a Path,
    pub(crate) text: &'a str,
    pub(crate) errors: Vec<ConfigDiagnostic>,
    pub(crate) warnings: Vec<ConfigDiagnostic>,
}

impl<'a> TableReader<'a> {
    pub(crate) fn new(path: &'a Path, text: &'a str) -> Self {
        Self {
            path,
            text,
            errors: Vec::new(),
            warnings: Vec::new(),
        }
    }

    pub(crate) fn error(&mut self, offset: usize, message: String) {
        self.errors
            .push(ConfigDiagnostic::at(self.path, self.text, offset, message));
    }

    pub(crate) fn warn(&mut self, offset: usize, message: String) {
        self.warnings
            .push(ConfigDiagnostic::at(self.path, self.text, offset, message));
    }

    /// Warns about keys of `table` that are neither `supported` nor `ignored` (unknown), and
    /// about `ignored` ones (known to gitlab-runner, without effect in Gantry).
    pub(crate) fn check_keys(
        &mut self,
        table: &DeTable<'_>,
        section: &str,
        supported: &[&str],
        ignored: &[&str],
        quiet: &[&str],
    ) {
        for (key, _) in table {
            let name: &str = key.get_ref();
            if supported.contains(&name) || quiet.contains(&name) {
                continue;
            }
            if ignored.contains(&name) {
                self.warn(
                    key.span().start,
                    format!("{section}: `{name}` is not supported by gantry and is ignored"),
                );
            } else {
                self.warn(
                    key.span().start,
                    format!("{section}: unknown key `{name}` (ignored)"),
                );
            }
        }
    }

    fn type_error(&mut self, v: &Value<'_>, key: &str, expected: &str) {
        let found = match v.get_ref() {
            DeValue::String(_) => "a string",
            DeValue::Integer(_) => "an integer",
            DeValue::Float(_) => "a float",
            DeValue::Boolean(_) => "a boolean",
            DeValue::Datetime(_) => "a date",
            DeValue::Array(_) => "an array",
            DeValue::Table(_) => "a table",
        };
        self.error(
            v.span().start,
            format!("`{key}` must be {expected}, not {found}"),
        );
    }

    pub(crate) fn string(&mut self, v: &Value<'_>, key: &str) -> Option<String> {
        if let DeValue::String(s) = v.get_ref() {
            Some(s.to_string())
        } else {
            self.type_error(v, key, "a string");
            None
        }
    }

    pub(crate) fn boolean(&mut self, v: &Value<'_>, key: &str) -> Option<bool> {
        if let DeValue::Boolean(b) = v.get_ref() {
            Some(*b)
        } else {
            self.type_error(v, key, "true or false");
            None
        }
    }

    pub(crate) fn integer(&mut self, v: &Value<'_>, key: &str) -> Option<i64> {
        if let DeValue::Integer(i) = v.get_ref() {
            let parsed = i64::from_str_radix(i.as_str(), i.radix()).ok();
            if parsed.is_none() {
                self.error(v.span().start, format!("`{key}` is out of range"));
            }
            parsed
        } else {
            self.type_error(v, key, "an integer");
            None
        }
    }

    /// An array of strings.
    pub(crate) fn strings(&mut self, v: &Value<'_>, key: &str) -> Option<Vec<String>> {
        let DeValue::Array(items) = v.get_ref() else {
            self.type_error(v, key, "an array of strings");
            return None;
        };
        let mut out = Vec::new();
        for item in &**items {
            match item.get_ref() {
                DeValue::String(s) => out.push(s.to_string()),
                _ => self.type_error(item, &format!("{key}[]"), "a string"),
            }
        }
        Some(out)
    }

    /// A string or an array of strings.
    pub(crate) fn string_or_strings(&mut self, v: &Value<'_>, key: &str) -> Option<Vec<String>> {
        match v.get_ref() {
            DeValue::String(s) => Some(vec![s.to_string()]),
            DeValue::Array(_) => self.strings(v, key),
            _ => {
                self.type_error(v, key, "a string or an array of strings");
                None
            }
        }
    }

    /// A table of string values.
    pub(crate) fn string_map(
        &mut self,
        v: &Value<'_>,
        key: &str,
    ) -> Option<BTreeMap<String, String>> {
        let DeValue::Table(table) = v.get_ref() else {
            self.type_error(v, key, "a table of strings");
            return None;
        };
        let mut out = BTreeMap::new();
        for (k, value) in table {
            if let Some(s) = self.string(value, &format!("{key}.{}", k.get_ref())) {
                out.insert(k.get_ref().to_string(), s);
            }
        }
        Some(out)
    }
}

/// The value of `key` in `table`.
pub(crate) fn get<'t, 'i>(table: &'t DeTable<'i>, key: &str) -> Option<&'t Value<'i>> {
    table
        .iter()
        .find(|(k, _)| {
            let name: &str = k.get_ref();
            name == key
        })
        .map(|(_, v)| v)
}
