//! Making attacker-written values safe for the people who read them.
//!
//! Log fields are attacker-controlled: a `userAgent` can carry ANSI escape
//! sequences that move the cursor or rewrite the screen, bidirectional
//! overrides that reorder what is shown, or a leading `=` that a spreadsheet
//! runs as a formula. Terminal and CSV output pass every value through here;
//! JSON output keeps the exact value (JSON escaping already makes control
//! characters inert, and scripts need the original).

use std::fmt::Write as _;

/// Whether `c` must not reach a terminal raw: C0 and C1 controls, DEL, and
/// the Unicode format characters that reorder or hide text.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}'   // zero-width and LRM/RLM marks
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // bidi embeddings and overrides
            | '\u{2060}'..='\u{2064}' // invisible operators
            | '\u{2066}'..='\u{2069}' // bidi isolates
            | '\u{FEFF}')
}

/// Replaces every dangerous character with a visible escape (`\x1b`,
/// `\u{202e}`, `\n`, `\t`), so the value reads as what it is and cannot
/// act on the terminal. Backslashes are doubled so the escapes stay
/// unambiguous.
pub fn visible(s: &str) -> String {
    if !s.chars().any(|c| is_dangerous(c) || c == '\\') {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x100 && is_dangerous(c) => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_dangerous(c) => {
                let _ = write!(out, "\\u{{{:04x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A CSV cell: [`visible`], then neutralised if a spreadsheet would treat it
/// as a formula (leading `=`, `+`, `-`, `@`, tab or carriage return, per
/// OWASP's CSV-injection guidance) by prefixing a single quote.
pub fn csv_cell(s: &str) -> String {
    let v = visible(s);
    match v.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{v}"),
        // `visible` turned a leading tab/CR into `\t`/`\r`; a leading
        // backslash is harmless.
        _ => v,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_become_visible() {
        let cases = [
            ("aws-cli/2.0", "aws-cli/2.0"),
            ("\u{1b}[2J\u{1b}[1;1Hpwned", "\\x1b[2J\\x1b[1;1Hpwned"),
            ("a\u{9b}31mred", "a\\x9b31mred"),
            ("line1\nline2\r", "line1\\nline2\\r"),
            ("nul\0byte\u{7f}", "nul\\x00byte\\x7f"),
            ("abc\u{202e}gpj.exe", "abc\\u{202e}gpj.exe"),
            ("back\\slash", "back\\\\slash"),
            ("日本語 ok", "日本語 ok"),
        ];
        for (input, want) in cases {
            assert_eq!(visible(input), want, "{input:?}");
            assert!(!visible(input).chars().any(is_dangerous));
        }
    }

    #[test]
    fn formulas_are_neutralised() {
        let cases = [
            ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("plain", "plain"),
            ("\t=1", "\\t=1"),
            ("", ""),
        ];
        for (input, want) in cases {
            assert_eq!(csv_cell(input), want, "{input:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn nothing_dangerous_survives(s in "\\PC*|[\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}a=]{0,20}") {
            let v = visible(&s);
            proptest::prop_assert!(!v.chars().any(is_dangerous));
            let c = csv_cell(&s);
            proptest::prop_assert!(!matches!(c.chars().next(), Some('=' | '+' | '-' | '@')));
        }
    }
}
