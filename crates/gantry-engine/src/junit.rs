//! `JunitSummary`: counts from `reports:junit` XML files, read with a small hand-written tag
//! scanner (every `<testcase>` counts once; a `<failure>`, `<error>` or `<skipped>` child gives
//! its status, as GitLab's test report does).

use serde::{Deserialize, Serialize};

/// Most failed test names kept.
const MAX_FAILED_NAMES: usize = 20;

/// Test counts of one job's `JUnit` reports.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JunitSummary {
    /// Test cases.
    pub tests: u64,
    /// Cases with a `<failure>`.
    pub failures: u64,
    /// Cases with an `<error>`.
    pub errors: u64,
    /// Cases with `<skipped>`.
    pub skipped: u64,
    /// `classname.name` of the first failed or errored cases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_tests: Vec<String>,
}

impl JunitSummary {
    /// Adds another report's counts.
    pub fn add(&mut self, other: &JunitSummary) {
        self.tests += other.tests;
        self.failures += other.failures;
        self.errors += other.errors;
        self.skipped += other.skipped;
        for name in &other.failed_tests {
            if self.failed_tests.len() < MAX_FAILED_NAMES {
                self.failed_tests.push(name.clone());
            }
        }
    }

    /// Successful cases.
    pub fn passed(&self) -> u64 {
        self.tests
            .saturating_sub(self.failures + self.errors + self.skipped)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CaseStatus {
    Success,
    Failed,
    Error,
    Skipped,
}

struct Case {
    name: String,
    status: CaseStatus,
}

/// Parses one `JUnit` XML document.
pub(crate) fn parse_junit(xml: &str) -> Result<JunitSummary, String> {
    let mut summary = JunitSummary::default();
    let mut case: Option<Case> = None;
    let mut rest = xml;
    let mut saw_root = false;
    while let Some(start) = rest.find('<') {
        rest = &rest[start..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            rest = after.find("]]>").map_or("", |i| &after[i + 3..]);
            continue;
        }
        if rest.starts_with("<?") || rest.starts_with("<!") {
            rest = rest.find('>').map_or("", |i| &rest[i + 1..]);
            continue;
        }
        let Some(end) = find_tag_end(rest) else {
            return Err("unterminated tag".to_owned());
        };
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        let closing = tag.starts_with('/');
        let self_closing = tag.ends_with('/');
        let body = tag.trim_start_matches('/').trim_end_matches('/');
        let name_len = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
        let name = &body[..name_len];
        let attrs = &body[name_len..];
        saw_root = true;
        match (name, closing) {
            ("testcase", false) => {
                let mut full = attribute(attrs, "name").unwrap_or_default();
                if let Some(class) = attribute(attrs, "classname") {
                    full = format!("{class}.{full}");
                }
                let new_case = Case {
                    name: full,
                    status: CaseStatus::Success,
                };
                if self_closing {
                    finish_case(&mut summary, new_case);
                } else if let Some(open) = case.replace(new_case) {
                    finish_case(&mut summary, open);
                }
            }
            ("testcase", true) => {
                if let Some(open) = case.take() {
                    finish_case(&mut summary, open);
                }
            }
            ("failure" | "error" | "skipped", false) => {
                if let Some(open) = case.as_mut()
                    && open.status == CaseStatus::Success
                {
                    open.status = match name {
                        "failure" => CaseStatus::Failed,
                        "error" => CaseStatus::Error,
                        _ => CaseStatus::Skipped,
                    };
                }
            }
            _ => {}
        }
    }
    if let Some(open) = case.take() {
        finish_case(&mut summary, open);
    }
    if !saw_root {
        return Err("no XML elements found".to_owned());
    }
    Ok(summary)
}

fn finish_case(summary: &mut JunitSummary, case: Case) {
    summary.tests += 1;
    match case.status {
        CaseStatus::Success => {}
        CaseStatus::Skipped => summary.skipped += 1,
        CaseStatus::Failed | CaseStatus::Error => {
            if case.status == CaseStatus::Failed {
                summary.failures += 1;
            } else {
                summary.errors += 1;
            }
            if summary.failed_tests.len() < MAX_FAILED_NAMES {
                summary.failed_tests.push(case.name);
            }
        }
    }
}

/// Index of the `>` closing the tag at the start of `s`, skipping quoted attribute values.
fn find_tag_end(s: &str) -> Option<usize> {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate() {
        match (quote, b) {
            (None, b'"' | b'\'') => quote = Some(b),
            (Some(q), _) if q == b => quote = None,
            (None, b'>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn attribute(attrs: &str, wanted: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start();
        let eq = rest.find('=')?;
        let key = rest[..eq].trim();
        let value_part = rest[eq + 1..].trim_start();
        let quote = value_part.chars().next()?;
        if quote != '"' && quote != '\'' {
            return None;
        }
        let close = value_part[1..].find(quote)?;
        let value = &value_part[1..=close];
        if key == wanted {
            return Some(unescape(value));
        }
        rest = &value_part[close + 2..];
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_cases() {
        let xml = r#"<?xml version="1.0"?>
<testsuites>
  <!-- <testcase name="commented"/> -->
  <testsuite name="s" tests="4">
    <testcase classname="a" name="ok"/>
    <testcase classname="a" name="bad"><failure message="x > y">trace</failure></testcase>
    <testcase name="err"><error/></testcase>
    <testcase name="skip"><skipped/></testcase>
    <testcase name="cdata"><system-out><![CDATA[<failure>]]></system-out></testcase>
  </testsuite>
</testsuites>"#;
        let s = parse_junit(xml).unwrap();
        assert_eq!((s.tests, s.failures, s.errors, s.skipped), (5, 1, 1, 1));
        assert_eq!(s.failed_tests, vec!["a.bad".to_owned(), "err".to_owned()]);
        assert_eq!(s.passed(), 2);
    }
}
