//! Size bounds (SPEC §2): every free-text and list field a caller can fill
//! is bounded — by the spec where it gives a bound, by this module
//! otherwise — and so is what they add up to in what is stored and
//! answered, so that no stored item nears DynamoDB's 400 KB item limit, no
//! transaction its 4 MB limit, and no page of 250 rows Lambda's 6 MB
//! response limit. docs/decisions.md, "Size bounds", has the arithmetic.
//!
//! The per-field bounds are checked on the request before anything is read.
//! What they add up to is measured as JSON (an upper bound of DynamoDB's
//! item size: attribute names and UTF-8 values, with less overhead than
//! JSON's quotes and commas) by the operations that add caller text, in
//! `domain::approvals::budget` and `domain::non_employee`.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::ser::{CharEscape, CompactFormatter, Formatter};

/// Ids (path parameters, body references, token claims, the seed's): 1 to
/// 64 characters, each an ASCII letter, digit, `-`, `_` or `.`. Ids are
/// parts of DynamoDB keys: no `#` (the key separator), nothing a key of
/// 2048 bytes could not hold.
pub const MAX_ID_CHARS: usize = 64;
/// A comment on a requested item, an approval or a rejection.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// A cancel's comment and a close's message: each is shown in every status
/// row of its request, so they are shorter.
pub const MAX_REQUEST_TEXT_CHARS: usize = 1000;
/// `clientMetadata` (of a request, of each item): entries, key and value.
pub const MAX_METADATA_ENTRIES: usize = 10;
pub const MAX_METADATA_KEY_CHARS: usize = 32;
pub const MAX_METADATA_VALUE_CHARS: usize = 128;
/// Forwards of one approval step.
pub const MAX_FORWARDS_PER_STEP: usize = 5;
/// Identities in one submission (each gets a request of its own, and a
/// submission is one transaction of at most 100 records).
pub const MAX_REQUESTED_FOR: usize = 100;
/// The seed's names (identities, governance groups, catalog items,
/// non-employee sources) and a token's `user_name`.
pub const MAX_NAME_CHARS: usize = 64;
/// The seed's descriptions (catalog items, non-employee sources).
pub const MAX_DESCRIPTION_CHARS: usize = 128;

/// An access request as stored (JSON bytes, with every step it has left
/// decided): each of its stored copies is at most this plus its keys, half
/// of DynamoDB's 400 KB item limit.
pub const MAX_REQUEST_BYTES: usize = 192 * 1024;
/// Any transaction a change of an access request writes: the request, a
/// copy for each pending approval, list entries, an event. DynamoDB's limit
/// is 4 MB (of item sizes, which JSON sizes exceed).
pub const MAX_TRANSACTION_BYTES: usize = 3584 * 1024;
/// One row that shows an item — its status entry, its pending and
/// completed approvals — as it travels in the Lambda response (a JSON
/// string inside the proxy answer's JSON: escaped once more). A page holds
/// at most 250.
pub const MAX_ROW_BYTES: usize = 20 * 1024;
/// What a cancel or a close may still add (its text, every item's state
/// and phases) to a request and to each of its rows, kept free by every
/// other change: they never fail for size.
pub const REQUEST_RESERVE_BYTES: usize = 12 * 1024;
pub const ROW_RESERVE_BYTES: usize = 6 * 1024;

/// How much of a value an error message shows.
const SHOWN_CHARS: usize = 40;

/// `value` as an error message may echo it: whole when short, otherwise
/// its first characters and its length.
pub fn shown(value: &str) -> String {
    let n = value.chars().count();
    if n <= SHOWN_CHARS {
        format!("{value:?}")
    } else {
        let prefix: String = value.chars().take(SHOWN_CHARS).collect();
        format!("{prefix:?}… ({n} characters)")
    }
}

/// An id as an error message may echo it: as is when it has the shape of
/// one, else as [`shown`].
pub fn shown_id(value: &str) -> String {
    if is_id(value) {
        value.to_string()
    } else {
        shown(value)
    }
}

/// Whether `value` has the shape of an id.
pub fn is_id(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= MAX_ID_CHARS
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The cause for `field` when `value` is not an id.
pub fn check_id(field: &str, value: &str) -> Result<(), String> {
    if is_id(value) {
        return Ok(());
    }
    let n = value.chars().count();
    if n == 0 {
        Err(format!("{field} is empty; give an id"))
    } else if n > MAX_ID_CHARS {
        Err(format!(
            "{field} {} is not an id: at most {MAX_ID_CHARS} characters",
            shown(value)
        ))
    } else {
        Err(format!(
            "{field} {} is not an id: only ASCII letters, digits, '-', '_' and '.'",
            shown(value)
        ))
    }
}

/// The cause for free text `value` of `field` over `max` characters, or
/// holding a control character other than tab, line feed and carriage
/// return (each would be six bytes in every JSON answer).
pub fn check_text(field: &str, value: &str, max: usize) -> Result<(), String> {
    let n = value.chars().count();
    if n > max {
        return Err(format!(
            "{field} is {n} characters long; at most {max} are allowed"
        ));
    }
    if let Some((at, c)) = value
        .chars()
        .enumerate()
        .find(|(_, c)| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!(
            "{field} holds the control character U+{:04X} at position {at}; only tab, line feed and carriage return are allowed",
            c as u32
        ));
    }
    Ok(())
}

/// The causes for a `clientMetadata` map: too many entries, a key empty or
/// too long, a value too long, control characters.
pub fn check_metadata(field: &str, metadata: &BTreeMap<String, String>) -> Vec<String> {
    let mut causes = Vec::new();
    if metadata.len() > MAX_METADATA_ENTRIES {
        causes.push(format!(
            "{field} has {} entries; at most {MAX_METADATA_ENTRIES} are allowed",
            metadata.len()
        ));
    }
    for (key, value) in metadata {
        if key.is_empty() {
            causes.push(format!("{field} has an empty key"));
        }
        let at = format!("{field}[{}]", shown(key));
        if let Err(c) = check_text(
            &format!("{field} key {}", shown(key)),
            key,
            MAX_METADATA_KEY_CHARS,
        ) {
            causes.push(c);
        }
        if let Err(c) = check_text(&at, value, MAX_METADATA_VALUE_CHARS) {
            causes.push(c);
        }
    }
    causes
}

/// The JSON size of `value` in bytes.
pub fn json_bytes<T: Serialize>(value: &T) -> usize {
    let mut bytes = Bytes(0);
    match serde_json::to_writer(&mut bytes, value) {
        Ok(()) => bytes.0,
        Err(_) => usize::MAX,
    }
}

/// The size of `value` as it travels inside a Lambda proxy answer: its JSON
/// as a JSON string (quotes and backslashes escaped once more).
pub fn escaped_json_bytes<T: Serialize>(value: &T) -> usize {
    let mut escapes = 0;
    let mut ser = serde_json::Serializer::with_formatter(Bytes(0), EscapeCount(&mut escapes));
    match value.serialize(&mut ser) {
        Ok(()) => 2 + ser.into_inner().0 + escapes,
        Err(_) => usize::MAX,
    }
}

/// Counts the bytes serde_json writes: sizing a record does not build its
/// JSON.
struct Bytes(usize);

impl std::io::Write for Bytes {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// serde_json's compact output, counting the quotes and backslashes it
/// writes: each string's two quotes, and each escape's backslash (with the
/// quote or backslash it escapes). Nothing else it writes holds either, so
/// no byte is looked at.
struct EscapeCount<'a>(&'a mut usize);

impl Formatter for EscapeCount<'_> {
    fn begin_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        *self.0 += 1;
        CompactFormatter.begin_string(writer)
    }

    fn end_string<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        *self.0 += 1;
        CompactFormatter.end_string(writer)
    }

    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        escape: CharEscape,
    ) -> std::io::Result<()> {
        *self.0 += match escape {
            CharEscape::Quote | CharEscape::ReverseSolidus => 2,
            _ => 1,
        };
        CompactFormatter.write_char_escape(writer, escape)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_those_of_the_json_written() {
        let value = serde_json::json!({"a": "x\"y\\z", "b": [1, 2.5, null], "c": "\u{1D54F}\n"});
        let json = serde_json::to_vec(&value).unwrap();
        assert_eq!(json_bytes(&value), json.len());
        let as_string = serde_json::to_vec(&String::from_utf8(json).unwrap()).unwrap();
        assert_eq!(escaped_json_bytes(&value), as_string.len());
    }

    #[test]
    fn ids_are_short_and_plain() {
        for ok in [
            "2c9180835d191a86015d28455b4a0001",
            "acme-admin",
            "a.b_c-1",
            "me",
        ] {
            assert!(is_id(ok), "{ok}");
        }
        for bad in ["", "a#b", "a b", "é", "a/b", &"x".repeat(65)] {
            assert!(!is_id(bad), "{bad}");
        }
        let long = "x".repeat(60_000);
        let cause = check_id("approvalId", &long).unwrap_err();
        assert!(cause.len() < 200, "{cause}");
        assert!(cause.contains("60000 characters"), "{cause}");
    }

    #[test]
    fn text_is_bounded_in_characters_and_free_of_control_characters() {
        assert!(check_text("comment", &"é".repeat(4000), 4000).is_ok());
        assert!(check_text("comment", "line\nnext\ttab\r", 10).is_err());
        assert!(check_text("comment", "line\nnext\ttab\r", 20).is_ok());
        let c = check_text("comment", &"x".repeat(4001), 4000).unwrap_err();
        assert!(c.contains("4001 characters"), "{c}");
        let c = check_text("comment", "bell\u{7}", 100).unwrap_err();
        assert!(c.contains("U+0007"), "{c}");
    }

    #[test]
    fn metadata_entries_keys_and_values_are_bounded() {
        let mut m: BTreeMap<String, String> = (0..11)
            .map(|i| (format!("k{i}"), "v".to_string()))
            .collect();
        m.insert("x".repeat(33), "y".repeat(129));
        m.insert(String::new(), String::new());
        let causes = check_metadata("clientMetadata", &m);
        assert_eq!(causes.len(), 4, "{causes:?}");
    }

    #[test]
    fn escaping_counts_what_the_proxy_answer_carries() {
        assert_eq!(json_bytes(&"a\"b"), 6);
        // "a\"b" as a string again: "\"a\\\"b\""
        assert_eq!(escaped_json_bytes(&"a\"b"), 12);
        let text = serde_json::json!({"é": ["x\ny", "🦀\\", 1, null]});
        let twice = serde_json::to_vec(&serde_json::to_string(&text).unwrap()).unwrap();
        assert_eq!(escaped_json_bytes(&text), twice.len());
        // Keys written from numbers, escapes of every kind.
        let keyed: BTreeMap<u32, &str> = [(7, "q\"b\\s/\u{1}\u{8}\u{c}\n\r\t"), (12, "")].into();
        let twice = serde_json::to_vec(&serde_json::to_string(&keyed).unwrap()).unwrap();
        assert_eq!(escaped_json_bytes(&keyed), twice.len());
    }
}
