//! The `sorters` query parameter: comma-separated field names of the
//! endpoint's sortable set, `-` for descending.

use std::fmt;

use super::filter::clip;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    /// One of the endpoint's sortable fields.
    pub field: &'static str,
    pub descending: bool,
}

/// The order used when `sorters` is absent or blank: newest first.
pub const DEFAULT_SORT: SortKey = SortKey {
    field: "created",
    descending: true,
};

/// The order of `a` and `b` by the sort `keys` — each field compared by
/// `by_field`, reversed when descending — then by `tie`, so that equal rows
/// keep one order and pages are stable.
pub fn order<R: ?Sized>(
    keys: &[SortKey],
    a: &R,
    b: &R,
    by_field: impl Fn(&str, &R, &R) -> std::cmp::Ordering,
    tie: impl Fn(&R, &R) -> std::cmp::Ordering,
) -> std::cmp::Ordering {
    keys.iter()
        .map(|key| {
            let ord = by_field(key.field, a, b);
            if key.descending {
                ord.reverse()
            } else {
                ord
            }
        })
        .find(|ord| ord.is_ne())
        .unwrap_or_else(|| tie(a, b))
}

/// A parse error of `sorters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortError {
    /// A complete sentence, starting with `sorters:`, fit for a 400 response's `causes`.
    pub message: String,
}

impl fmt::Display for SortError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for SortError {}

/// Parses a `sorters` query parameter (already URL-decoded) against the
/// endpoint's sortable `fields` (case-sensitive, like filter field names):
/// `"created,-name"` gives two keys; empty or whitespace-only input gives the
/// default `[-created]`.
pub fn parse_sorters(input: &str, fields: &[&'static str]) -> Result<Vec<SortKey>, SortError> {
    if input.trim().is_empty() {
        return Ok(vec![DEFAULT_SORT]);
    }
    let error = |message: String| SortError { message };
    let mut keys: Vec<SortKey> = Vec::new();
    let mut element_start = 0;
    for element in input.split(',') {
        let len = element.chars().count();
        let pos = element_start + (len - element.trim_start().chars().count());
        element_start += len + 1;

        let element = element.trim();
        if element.is_empty() {
            return Err(error(format!(
                "sorters: empty field name at position {pos}"
            )));
        }
        let (descending, name) = match element.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, element),
        };
        if name.is_empty() {
            return Err(error(format!(
                "sorters: '-' at position {pos} must be followed by a field name"
            )));
        }
        let field = fields.iter().copied().find(|f| *f == name).ok_or_else(|| {
            error(format!(
                "sorters: field '{}' at position {pos} is not sortable; sortable fields are {}",
                clip(name),
                fields.join(", ")
            ))
        })?;
        if keys.iter().any(|key| key.field == field) {
            return Err(error(format!(
                "sorters: field '{field}' at position {pos} is listed more than once"
            )));
        }
        keys.push(SortKey { field, descending });
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::access_requests::status::SORTERS;

    fn parse_sorters(input: &str) -> Result<Vec<SortKey>, SortError> {
        super::parse_sorters(input, SORTERS)
    }

    #[test]
    fn sorters_default_when_blank() {
        assert_eq!(parse_sorters("").unwrap(), vec![DEFAULT_SORT]);
        assert_eq!(parse_sorters("  \t").unwrap(), vec![DEFAULT_SORT]);
        assert_eq!(
            DEFAULT_SORT,
            SortKey {
                field: "created",
                descending: true
            }
        );
    }

    #[test]
    fn sorters_single_multiple_and_descending() {
        let key = |field, descending| SortKey { field, descending };
        assert_eq!(parse_sorters("name").unwrap(), vec![key("name", false)]);
        assert_eq!(
            parse_sorters("-modified").unwrap(),
            vec![key("modified", true)]
        );
        assert_eq!(
            parse_sorters("created,-name").unwrap(),
            vec![key("created", false), key("name", true)]
        );
        assert_eq!(
            parse_sorters("-accountActivityItemId,modified,-created,name").unwrap(),
            vec![
                key("accountActivityItemId", true),
                key("modified", false),
                key("created", true),
                key("name", false),
            ]
        );
    }

    #[test]
    fn sorters_trim_whitespace_around_elements() {
        assert_eq!(
            parse_sorters("  created , -name\t").unwrap(),
            vec![
                SortKey {
                    field: "created",
                    descending: false
                },
                SortKey {
                    field: "name",
                    descending: true
                }
            ]
        );
    }

    #[test]
    fn sorters_reject_unknown_fields_naming_them_and_the_allowed_ones() {
        for (input, name) in [
            ("type", "type"),
            ("created,-priority", "priority"),
            ("Created", "Created"),
            ("--created", "-created"),
            ("+created", "+created"),
            ("- created", " created"),
            ("accessRequestId", "accessRequestId"),
        ] {
            let e = parse_sorters(input).unwrap_err();
            assert!(
                e.message.contains(&format!("field '{name}'")),
                "{}",
                e.message
            );
            assert!(
                e.message
                    .contains("sortable fields are created, modified, accountActivityItemId, name"),
                "{}",
                e.message
            );
        }
        assert_eq!(
            parse_sorters(" created,-priority").unwrap_err().message,
            "sorters: field 'priority' at position 9 is not sortable; sortable fields are created, modified, accountActivityItemId, name"
        );
    }

    #[test]
    fn sorters_reject_empty_elements_and_duplicates() {
        for (input, needle) in [
            ("created,,name", "empty field name at position 8"),
            (",created", "empty field name at position 0"),
            ("created,", "empty field name at position 8"),
            ("created, ,name", "empty field name at position 9"),
            ("created,-", "'-' at position 8"),
            (
                "created,name,created",
                "field 'created' at position 13 is listed more than once",
            ),
            (
                "created,-created",
                "field 'created' at position 8 is listed more than once",
            ),
            (
                "-name, name",
                "field 'name' at position 7 is listed more than once",
            ),
        ] {
            let e = parse_sorters(input).unwrap_err();
            assert!(e.message.contains(needle), "{input:?}: {}", e.message);
            assert!(e.message.starts_with("sorters: "), "{}", e.message);
            assert_eq!(e.to_string(), e.message);
        }
    }
}
