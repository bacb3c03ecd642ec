//! The `numerizer` gem's `Numerizer.numerize`, which `ChronicDuration` runs first: number words
//! become digits (`one hour` is `1 hour`, `twenty five` is `25`, `a half` is `1/2`).
//!
//! Steps, in the gem's order, on the (already lowercased) text:
//!
//! 1. runs of spaces collapse to one, and `-` between two non-digits becomes a space;
//! 2. whole words `eleven`..`nineteen` (and `ninteen`), `zero`, `ten`, then `one`..`nine`
//!    become marked numbers; a word boundary is the start or end of the text or non-word
//!    characters (a boundary consumed by one replacement is not available to the next, so
//!    `one one` gives `1 one`, as in Ruby);
//! 3. tens `twenty`..`ninety` (and `fourty`), glued to a unit (`twentyfive`) or alone;
//! 4. fractions: `a half`/`a third`/`a quarter`... become `1/2`..., and ` half` after a space
//!    becomes `/2`; a number followed by a fraction is summed (`1 and 1/2` is `1.5`);
//! 5. `hundred`, `thousand`, `million`, `billion`, `trillion` multiply the number before them;
//! 6. "andition": two adjacent marked numbers joined by a space or ` and ` are added when the
//!    joint is `and` or the first has more digits (`twenty one` is `21`, `one two` stays).

use std::sync::OnceLock;

use regex::{Captures, Regex};

const MARK: &str = "<num>";

const DIRECT: [(&str, u32); 12] = [
    ("eleven", 11),
    ("twelve", 12),
    ("thirteen", 13),
    ("fourteen", 14),
    ("fifteen", 15),
    ("sixteen", 16),
    ("seventeen", 17),
    ("eighteen", 18),
    ("nineteen", 19),
    ("ninteen", 19),
    ("zero", 0),
    ("ten", 10),
];

const SINGLE: [(&str, u32); 9] = [
    ("one", 1),
    ("two", 2),
    ("three", 3),
    ("four", 4),
    ("five", 5),
    ("six", 6),
    ("seven", 7),
    ("eight", 8),
    ("nine", 9),
];

const TENS: [(&str, u32); 9] = [
    ("twenty", 20),
    ("thirty", 30),
    ("forty", 40),
    ("fourty", 40),
    ("fifty", 50),
    ("sixty", 60),
    ("seventy", 70),
    ("eighty", 80),
    ("ninety", 90),
];

const BIG: [(&str, u128); 5] = [
    ("hundred", 100),
    ("thousand", 1_000),
    ("million", 1_000_000),
    ("billion", 1_000_000_000),
    ("trillion", 1_000_000_000_000),
];

const FRACTIONS: [(&str, u32); 9] = [
    ("half", 2),
    ("third(?:s)?", 3),
    ("fourth(?:s)?", 4),
    ("quarter(?:s)?", 4),
    ("fifth(?:s)?", 5),
    ("sixth(?:s)?", 6),
    ("seventh(?:s)?", 7),
    ("eighth(?:s)?", 8),
    ("nineth(?:s)?", 9),
];

/// Ruby's `\W` (ASCII word characters only).
const NON_WORD: &str = "[^a-zA-Z0-9_]";
/// Ruby's `\s`.
const SPACE: &str = r"[ \t\r\n\x0B\x0C]";

struct Rules {
    preprocess: Regex,
    words: Vec<(Regex, String)>,
    fractions: Vec<(Regex, String, Regex, String)>,
    fraction_sum: Regex,
    big: Vec<(Regex, u128)>,
    andition: Regex,
}

fn word_rule(word: &str, value: u32) -> (Regex, String) {
    let re = Regex::new(&format!("(?i)(^|{NON_WORD}+){word}($|{NON_WORD}+)"))
        .expect("static numerizer regex");
    (re, format!("${{1}}{MARK}{value}${{2}}"))
}

fn rules() -> &'static Rules {
    static RULES: OnceLock<Rules> = OnceLock::new();
    RULES.get_or_init(|| {
        let mut words: Vec<(Regex, String)> = DIRECT
            .iter()
            .chain(SINGLE.iter())
            .map(|&(w, v)| word_rule(w, v))
            .collect();
        // `\ba[\b^$]` from the gem: "a" followed by a backspace, `^` or `$` character.
        words.insert(
            DIRECT.len(),
            (
                Regex::new(&format!("(?i)(^|{NON_WORD}+)\\ba[\\x08^$]($|{NON_WORD}+)"))
                    .expect("static numerizer regex"),
                format!("${{1}}{MARK}1${{2}}"),
            ),
        );
        for &(tens, tv) in &TENS {
            for &(single, sv) in &SINGLE {
                words.push(word_rule(&format!("{tens}{single}"), tv + sv));
            }
            words.push(word_rule(tens, tv));
        }
        let fractions = FRACTIONS
            .iter()
            .map(|&(word, denominator)| {
                (
                    Regex::new(&format!("(?i)a {word}")).expect("static numerizer regex"),
                    format!("{MARK}1/{denominator}"),
                    Regex::new(&format!("(?i){SPACE}{word}")).expect("static numerizer regex"),
                    format!("/{denominator}"),
                )
            })
            .collect();
        let big = BIG
            .iter()
            .map(|&(word, value)| {
                (
                    Regex::new(&format!("(?i)(?:{MARK})?([0-9]*) *{word}"))
                        .expect("static numerizer regex"),
                    value,
                )
            })
            .collect();
        Rules {
            preprocess: Regex::new(" +|([^0-9])-([^0-9])").expect("static numerizer regex"),
            words,
            fractions,
            fraction_sum: Regex::new(&format!(
                "(?i)([0-9]+)(?: | and |-)+({MARK}|{SPACE})*([0-9]+){SPACE}*/{SPACE}*([0-9]+)"
            ))
            .expect("static numerizer regex"),
            big,
            andition: Regex::new(&format!("(?i){MARK}([0-9]+)( | and ){MARK}([0-9]+)"))
                .expect("static numerizer regex"),
        }
    })
}

/// Ruby's `String#to_i` on a run of digits (saturating instead of growing a bignum).
fn ruby_to_i(digits: &str) -> u128 {
    digits.bytes().fold(0u128, |acc, b| {
        acc.saturating_mul(10).saturating_add(u128::from(b - b'0'))
    })
}

/// Ruby's `Float#to_s` is close enough here: the result is parsed back as a number.
fn float_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.1}")
    } else {
        format!("{value}")
    }
}

/// The gem's `andition`: repeatedly add two adjacent marked numbers where the rule says so.
fn andition(text: &mut String) {
    let rules = rules();
    let mut from = 0;
    while from <= text.len() {
        let Some(caps) = rules.andition.captures_at(text, from) else {
            return;
        };
        let whole = caps.get(0).map_or(0..0, |m| m.range());
        // `(?=[^\w]|$)`: the second number must not be followed by a word character.
        let followed_by_word = text[whole.end..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if followed_by_word {
            from = whole.start + 1;
            continue;
        }
        let first = &caps[1];
        let second = &caps[3];
        if caps[2].contains("and") || first.len() > second.len() {
            let sum = ruby_to_i(first).saturating_add(ruby_to_i(second));
            text.replace_range(whole, &format!("{MARK}{sum}"));
            from = 0;
        } else {
            from = whole.end;
        }
    }
}

/// `Numerizer.numerize`.
pub(crate) fn numerize(input: &str) -> String {
    let rules = rules();
    let mut text = rules
        .preprocess
        .replace_all(input, "${1} ${2}")
        .into_owned();
    for (re, replacement) in &rules.words {
        if re.is_match(&text) {
            text = re.replace_all(&text, replacement.as_str()).into_owned();
        }
    }
    for (a_re, a_rep, space_re, space_rep) in &rules.fractions {
        text = a_re.replace_all(&text, a_rep.as_str()).into_owned();
        text = space_re.replace_all(&text, space_rep.as_str()).into_owned();
    }
    text = rules
        .fraction_sum
        .replace_all(&text, |caps: &Captures<'_>| {
            let whole: f64 = caps[1].parse().unwrap_or(0.0);
            let numerator: f64 = caps[3].parse().unwrap_or(0.0);
            let denominator: f64 = caps[4].parse().unwrap_or(0.0);
            float_text(whole + numerator / denominator)
        })
        .into_owned();
    for (re, value) in &rules.big {
        text = re
            .replace_all(&text, |caps: &Captures<'_>| {
                format!("{MARK}{}", value.saturating_mul(ruby_to_i(&caps[1])))
            })
            .into_owned();
        andition(&mut text);
    }
    andition(&mut text);
    text.replace(MARK, "")
}

#[cfg(test)]
mod tests {
    use super::numerize;

    #[test]
    fn number_words() {
        assert_eq!(numerize("one hour"), "1 hour");
        assert_eq!(numerize("twelve minutes"), "12 minutes");
        assert_eq!(numerize("ten"), "10");
        assert_eq!(numerize("zero"), "0");
        assert_eq!(numerize("seven"), "7");
        assert_eq!(numerize("nineteen"), "19");
        assert_eq!(numerize("twenty minutes"), "20 minutes");
        assert_eq!(numerize("twentyfive"), "25");
        assert_eq!(numerize("twenty five"), "25");
        assert_eq!(numerize("twenty-five"), "25");
        assert_eq!(
            numerize("two hours and twenty minutes"),
            "2 hours and 20 minutes"
        );
    }

    #[test]
    fn words_need_boundaries() {
        assert_eq!(numerize("someone"), "someone");
        assert_eq!(numerize("tension"), "tension");
        assert_eq!(numerize("one,two"), "1,2");
        assert_eq!(
            numerize("one one"),
            "1 one",
            "Ruby's consumed-boundary quirk"
        );
    }

    #[test]
    fn fractions_and_big_numbers() {
        assert_eq!(numerize("a half"), "1/2");
        assert_eq!(numerize("1 and a half hours"), "1.5 hours");
        assert_eq!(numerize("one hundred"), "100");
        assert_eq!(numerize("two thousand"), "2000");
        assert_eq!(numerize("one hundred and five"), "105");
    }

    #[test]
    fn spaces_and_hyphens() {
        assert_eq!(numerize("3   hours"), "3 hours");
        assert_eq!(numerize("3-4"), "3-4");
        assert_eq!(numerize("a-b-c"), "a b-c");
    }
}
