//! Natural-language durations as GitLab parses `timeout`, `start_in` and `artifacts:expire_in`:
//! `ChronicDuration` (GitLab's fork, with `raise_exceptions = true`) plus `never` for `expire_in`.
//!
//! `ChronicDuration.parse`, step by step:
//!
//! 1. lowercase, then the `numerizer` gem's number words to digits (see `numerizer.rs`);
//! 2. chrono form: if the text without spaces contains `n:n[:n...]` (numbers may be decimals),
//!    the text without spaces is split on `:` (trailing empty parts dropped, as Ruby does) and
//!    read right to left as seconds, minutes, hours, days, months, years (`1:30` is 90 s;
//!    more than six parts is an error);
//! 3. every number (`[0-9]*\.?[0-9]+`) gets spaces around it, runs of spaces collapse, so
//!    `2h20min` reads `2 h 20 min`;
//! 4. words: a word with a digit is a number; otherwise one leading and one trailing comma are
//!    removed and the word must be a unit name (below) or one of `and`, `with`, `plus` (ignored);
//!    anything else is an error. If the first remaining word is a unit, `1` is put before it;
//! 5. each number is multiplied by the unit word right after it (the last number defaults to
//!    seconds; a number followed by another number counts 0) and everything is summed;
//! 6. a total of 0 is "not a duration" (`ChronicDuration` returns `nil`).
//!
//! Units: seconds/second/secs/sec/s = 1 s; minutes/minute/mins/min/m = 60 s;
//! hours/hour/hrs/hr/h = 3600 s; days/day/dy/d = 86 400 s; weeks/week/w = 7 days;
//! months/month/mos/mo = 30 days; years/year/yrs/yr/y = 365.25 days (31 557 600 s).

mod numerizer;

use std::sync::OnceLock;

use regex::Regex;

/// A parsed duration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Duration {
    /// A finite length of time.
    Finite(std::time::Duration),
    /// `never` (only meaningful for `artifacts:expire_in`).
    Never,
}

impl Duration {
    /// The finite duration, `None` for [`Duration::Never`].
    pub fn as_std(self) -> Option<std::time::Duration> {
        match self {
            Duration::Finite(d) => Some(d),
            Duration::Never => None,
        }
    }

    /// Whether this is [`Duration::Never`].
    pub fn is_never(self) -> bool {
        self == Duration::Never
    }
}

/// Why a duration string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// A word that is neither a number, a unit nor a join word (`ChronicDuration`'s message).
    #[error("An invalid word {0:?} was used in the string to be parsed.")]
    InvalidWord(String),
    /// The text adds up to nothing (empty text, `0`, `0 seconds`...).
    #[error("the duration is zero or empty")]
    Zero,
    /// A chrono form (`h:m:s`) with more than six parts.
    #[error("too many `:`-separated parts in a chrono duration")]
    TooManyParts,
    /// Longer than the representable range.
    #[error("the duration is too large")]
    TooLarge,
}

const UNITS: [(&str, &str); 31] = [
    ("seconds", "seconds"),
    ("second", "seconds"),
    ("secs", "seconds"),
    ("sec", "seconds"),
    ("s", "seconds"),
    ("minutes", "minutes"),
    ("minute", "minutes"),
    ("mins", "minutes"),
    ("min", "minutes"),
    ("m", "minutes"),
    ("hours", "hours"),
    ("hour", "hours"),
    ("hrs", "hours"),
    ("hr", "hours"),
    ("h", "hours"),
    ("days", "days"),
    ("day", "days"),
    ("dy", "days"),
    ("d", "days"),
    ("weeks", "weeks"),
    ("week", "weeks"),
    ("w", "weeks"),
    ("months", "months"),
    ("mo", "months"),
    ("mos", "months"),
    ("month", "months"),
    ("years", "years"),
    ("year", "years"),
    ("yrs", "years"),
    ("yr", "years"),
    ("y", "years"),
];

const JOIN_WORDS: [&str; 3] = ["and", "with", "plus"];

/// Seconds per canonical unit name.
fn unit_seconds(unit: &str) -> f64 {
    match unit {
        "seconds" => 1.0,
        "minutes" => 60.0,
        "hours" => 3_600.0,
        "days" => 86_400.0,
        "weeks" => 604_800.0,
        "months" => 2_592_000.0,
        "years" => 31_557_600.0,
        _ => 0.0,
    }
}

fn canonical_unit(word: &str) -> Option<&'static str> {
    UNITS.iter().find(|(w, _)| *w == word).map(|(_, u)| *u)
}

fn float_matcher() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[0-9]*\.?[0-9]+").expect("static regex"))
}

fn chrono_matcher() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"[0-9]*\.?[0-9]+(?::[0-9]*\.?[0-9]+)+").expect("static regex"))
}

/// Ruby's `String#split(' ')`: runs of ASCII whitespace, ignoring leading and trailing ones.
fn ruby_words(s: &str) -> impl Iterator<Item = &str> {
    s.split([' ', '\t', '\n', '\x0B', '\x0C', '\r'])
        .filter(|w| !w.is_empty())
}

/// Step 2: `3:41:59` becomes `59 seconds 41 minutes 3 hours` in reading order.
fn filter_by_type(s: &str) -> Result<String, DurationError> {
    const CHRONO_UNITS: [&str; 6] = ["seconds", "minutes", "hours", "days", "months", "years"];
    let compact: String = s.chars().filter(|&c| c != ' ').collect();
    if !chrono_matcher().is_match(&compact) {
        return Ok(s.to_owned());
    }
    let mut parts: Vec<&str> = compact.split(':').collect();
    while parts.last() == Some(&"") {
        parts.pop();
    }
    if parts.len() > CHRONO_UNITS.len() {
        return Err(DurationError::TooManyParts);
    }
    let mut out: Vec<String> = parts
        .iter()
        .rev()
        .zip(CHRONO_UNITS)
        .map(|(value, unit)| format!("{value} {unit}"))
        .collect();
    out.reverse();
    Ok(out.join(" "))
}

/// `ChronicDuration`'s number of seconds for a string (fractions allowed).
pub fn chronic_seconds(input: &str) -> Result<f64, DurationError> {
    let lowered = input.to_lowercase();
    let numerized = numerizer::numerize(&lowered);
    let typed = filter_by_type(&numerized)?;
    let spaced = float_matcher().replace_all(&typed, " ${0} ");
    let mut squeezed = String::with_capacity(spaced.len());
    for c in spaced.chars() {
        if !(c == ' ' && squeezed.ends_with(' ')) {
            squeezed.push(c);
        }
    }

    // filter_through_white_list
    let mut words: Vec<&str> = Vec::new();
    for word in ruby_words(&squeezed) {
        if float_matcher().is_match(word) {
            words.push(word);
            continue;
        }
        let stripped = word.strip_prefix(',').unwrap_or(word);
        let stripped = stripped.strip_suffix(',').unwrap_or(stripped);
        if let Some(unit) = canonical_unit(stripped) {
            words.push(unit);
        } else if !JOIN_WORDS.contains(&stripped) {
            return Err(DurationError::InvalidWord(word.to_owned()));
        }
    }
    if words.first().is_some_and(|w| canonical_unit(w).is_some()) {
        words.insert(0, "1");
    }

    // calculate_from_words
    let mut total = 0.0f64;
    for (k, word) in words.iter().enumerate() {
        if !float_matcher().is_match(word) {
            continue;
        }
        let number = if word.starts_with('.') {
            format!("0{word}").parse::<f64>()
        } else {
            word.parse::<f64>()
        }
        .unwrap_or(0.0);
        let unit = words.get(k + 1).copied().unwrap_or("seconds");
        total += number * unit_seconds(unit);
    }
    if total == 0.0 {
        return Err(DurationError::Zero);
    }
    if !total.is_finite() {
        return Err(DurationError::TooLarge);
    }
    Ok(total)
}

/// Parses `timeout`, `start_in` or `expire_in` text. `never` (any case, nothing around it)
/// gives [`Duration::Never`], as GitLab's `DurationParser` does for `expire_in`; use
/// [`parse_finite_duration`] where `never` is not allowed.
pub fn parse_duration(input: &str) -> Result<Duration, DurationError> {
    if input.eq_ignore_ascii_case("never") {
        return Ok(Duration::Never);
    }
    parse_finite_duration(input).map(Duration::Finite)
}

/// Parses a duration with `ChronicDuration` only (`timeout`, `start_in`): `never` is an invalid
/// word here, as it is for GitLab.
pub fn parse_finite_duration(input: &str) -> Result<std::time::Duration, DurationError> {
    let seconds = chronic_seconds(input)?;
    std::time::Duration::try_from_secs_f64(seconds).map_err(|_| DurationError::TooLarge)
}

#[cfg(test)]
// The expected values are computed exactly as the parser computes them.
#[allow(clippy::float_cmp)]
mod tests {
    use super::*;

    fn secs(s: &str) -> f64 {
        chronic_seconds(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
    }

    const MIN: f64 = 60.0;
    const HOUR: f64 = 3_600.0;
    const DAY: f64 = 86_400.0;

    #[test]
    fn documented_examples() {
        assert_eq!(secs("3600 seconds"), HOUR);
        assert_eq!(secs("60 minutes"), HOUR);
        assert_eq!(secs("one hour"), HOUR);
        assert_eq!(secs("3h 30m"), 3.5 * HOUR);
        assert_eq!(secs("3 hours 30 minutes"), 3.5 * HOUR);
        assert_eq!(secs("2h20min"), 2.0 * HOUR + 20.0 * MIN);
        assert_eq!(secs("3 mins 4 sec"), 3.0 * MIN + 4.0);
        assert_eq!(secs("6 mos 1 day"), 6.0 * 30.0 * DAY + DAY);
        assert_eq!(secs("1 week"), 7.0 * DAY);
        assert_eq!(secs("42"), 42.0);
        assert_eq!(secs("3600"), HOUR);
    }

    #[test]
    fn every_unit_spelling() {
        for (word, unit) in UNITS {
            assert_eq!(
                secs(&format!("2 {word}")),
                2.0 * unit_seconds(unit),
                "{word}"
            );
        }
        assert_eq!(secs("1 month"), 30.0 * DAY);
        assert_eq!(secs("1 year"), 365.25 * DAY);
        assert_eq!(secs("2 dy"), 2.0 * DAY);
        assert_eq!(secs("1 w"), 7.0 * DAY);
    }

    #[test]
    fn number_words_and_decimals() {
        for (word, hours) in [
            "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
            "eleven", "twelve",
        ]
        .iter()
        .zip(1u32..)
        {
            let expected = f64::from(hours) * HOUR;
            assert_eq!(secs(&format!("{word} hours")), expected, "{word}");
        }
        assert_eq!(secs("1.5 hours"), 1.5 * HOUR);
        assert_eq!(secs(".5 hours"), 0.5 * HOUR);
        assert_eq!(secs("twenty five minutes"), 25.0 * MIN);
        assert_eq!(secs("1 and a half hours"), 1.5 * HOUR);
        assert_eq!(secs("12.4 secs"), 12.4);
    }

    #[test]
    fn joins_commas_and_case() {
        assert_eq!(secs("3 weeks and 2 days"), 23.0 * DAY);
        assert_eq!(secs("1 hour, 30 minutes"), 1.5 * HOUR);
        assert_eq!(
            secs("1 hour with 5 minutes plus 2 seconds"),
            HOUR + 5.0 * MIN + 2.0
        );
        assert_eq!(
            secs("47 yrs 6 mos and 4d"),
            47.0 * 31_557_600.0 + 180.0 * DAY + 4.0 * DAY
        );
        assert_eq!(secs("3 HOURS"), 3.0 * HOUR);
        assert_eq!(secs("  2   hours  "), 2.0 * HOUR);
        assert_eq!(
            secs("two hours and twenty minutes"),
            2.0 * HOUR + 20.0 * MIN
        );
    }

    #[test]
    fn leading_unit_counts_as_one() {
        assert_eq!(secs("hour"), HOUR);
        assert_eq!(secs("day 30 sec"), DAY + 30.0);
    }

    #[test]
    fn chrono_format() {
        assert_eq!(secs("1:30"), 90.0);
        assert_eq!(secs("4:01:01"), 4.0 * HOUR + MIN + 1.0);
        assert_eq!(secs("1:20.51"), 80.51);
        assert_eq!(secs("1:00:00:00"), DAY);
        assert_eq!(
            chronic_seconds("1:1:1:1:1:1:1"),
            Err(DurationError::TooManyParts)
        );
    }

    #[test]
    fn trailing_number_is_seconds_and_number_before_number_is_zero() {
        assert_eq!(secs("1 hour 30"), HOUR + 30.0);
        assert_eq!(secs("3 4 hours"), 4.0 * HOUR);
    }

    #[test]
    fn invalid_words_and_zero() {
        assert_eq!(
            chronic_seconds("3 hourz"),
            Err(DurationError::InvalidWord("hourz".to_owned()))
        );
        assert!(matches!(
            chronic_seconds("an hour"),
            Err(DurationError::InvalidWord(_))
        ));
        assert!(matches!(
            chronic_seconds("-5 seconds"),
            Err(DurationError::InvalidWord(_))
        ));
        assert!(matches!(
            chronic_seconds("1 hour , 5 min"),
            Err(DurationError::InvalidWord(_))
        ));
        assert!(matches!(
            chronic_seconds("never"),
            Err(DurationError::InvalidWord(_))
        ));
        assert_eq!(chronic_seconds(""), Err(DurationError::Zero));
        assert_eq!(chronic_seconds("0"), Err(DurationError::Zero));
        assert_eq!(chronic_seconds("0 seconds"), Err(DurationError::Zero));
        assert_eq!(chronic_seconds("and"), Err(DurationError::Zero));
    }

    #[test]
    fn never_is_distinct() {
        assert_eq!(parse_duration("never"), Ok(Duration::Never));
        assert_eq!(parse_duration("NEVER"), Ok(Duration::Never));
        assert!(parse_duration(" never").is_err());
        assert!(parse_finite_duration("never").is_err());
        assert!(parse_duration("never").unwrap().is_never());
        assert_eq!(parse_duration("never").unwrap().as_std(), None);
    }

    #[test]
    fn std_durations() {
        assert_eq!(
            parse_duration("1h 30m"),
            Ok(Duration::Finite(std::time::Duration::from_secs_f64(
                5_400.0
            )))
        );
        assert_eq!(
            parse_finite_duration("1.5 seconds"),
            Ok(std::time::Duration::from_millis(1_500))
        );
        assert_eq!(
            parse_finite_duration(&format!("{} years", "9".repeat(30))),
            Err(DurationError::TooLarge)
        );
    }
}
