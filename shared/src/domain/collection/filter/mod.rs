//! The `filters` query parameter: SailPoint's "standard collection parameters"
//! grammar, restricted per endpoint to the fields and operators it documents
//! (a [`FilterSchema`]), with the composites `and` / `or` / `not` and
//! parentheses. Everything outside it is rejected with a message that names
//! the offending field, operator or 0-based character position, so the caller
//! can put it verbatim into the `causes` of a 400 response.
//!
//! The parser (`parser`, on the tokens of `lexer`) is recursive descent. It
//! recurses only for `(` and `not`, both bounded by [`MAX_FILTER_DEPTH`];
//! `and` / `or` chains are built in a loop. The tree can still be deeper than
//! that (a long `or` chain nests to the left), but [`MAX_FILTER_LEN`] caps it
//! at a couple of hundred levels, so evaluating, printing and dropping it stay
//! far from the stack limit too.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

mod lexer;
mod parser;
#[cfg(test)]
mod tests;

pub(crate) use lexer::clip;
pub use parser::parse_filters;

/// Longest `filters` value accepted, in characters.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_FILTER_DEPTH: usize = 50;

/// How a field's values are written and compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ValueKind {
    /// Double-quoted strings, compared case-insensitively (on their
    /// lowercase forms), lexicographically for `gt` and friends.
    Text,
    /// RFC 3339 date-times, unquoted as the standard writes them (quoted is
    /// accepted too), compared temporally; `sw` takes a double-quoted prefix
    /// of the written form (`2026-11-20T09:00:00.000Z`).
    DateTime,
}

/// One filterable field of an endpoint and the operators it allows.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FieldSpec {
    /// The name as written in a filter (case-sensitive).
    pub name: &'static str,
    pub kind: ValueKind,
    /// In the order error messages list them.
    pub ops: &'static [Op],
}

/// A field of a parsed expression: a spec of the endpoint's schema.
pub type Field = &'static FieldSpec;

impl FieldSpec {
    pub fn as_str(&self) -> &'static str {
        self.name
    }

    pub fn supported_ops(&self) -> &'static [Op] {
        self.ops
    }

    pub fn supports(&self, op: Op) -> bool {
        self.ops.contains(&op)
    }
}

impl fmt::Display for FieldSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name)
    }
}

/// The filterable fields of one endpoint.
#[derive(Debug, PartialEq, Eq)]
pub struct FilterSchema {
    pub fields: &'static [FieldSpec],
}

impl FilterSchema {
    pub fn field(&'static self, name: &str) -> Option<Field> {
        self.fields.iter().find(|f| f.name == name)
    }
}

/// Comparison operators of the grammar that this project's endpoints support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    In,
    Sw,
    /// Postfix, without a value: `field isnull`.
    IsNull,
}

impl Op {
    pub const ALL: [Op; 9] = [
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::In,
        Op::Sw,
        Op::IsNull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "eq",
            Op::Ne => "ne",
            Op::Gt => "gt",
            Op::Ge => "ge",
            Op::Lt => "lt",
            Op::Le => "le",
            Op::In => "in",
            Op::Sw => "sw",
            Op::IsNull => "isnull",
        }
    }

    /// Lowercase only: the standard says `EQ` is not an operator.
    pub fn from_name(name: &str) -> Option<Op> {
        Op::ALL.into_iter().find(|op| op.as_str() == name)
    }

    /// Whether `self` holds for `actual.cmp(expected)`; `in` and `sw` are not orderings.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Op::Eq => ordering == Ordering::Equal,
            Op::Ne => ordering != Ordering::Equal,
            Op::Gt => ordering == Ordering::Greater,
            Op::Ge => ordering != Ordering::Less,
            Op::Lt => ordering == Ordering::Less,
            Op::Le => ordering != Ordering::Greater,
            Op::In | Op::Sw | Op::IsNull => false,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operators of the wider standard grammar that no endpoint here supports; recognising
/// them lets the error say "operator 'co'" instead of something vaguer.
const FOREIGN_OPS: [&str; 3] = ["co", "ca", "pr"];

/// The right-hand side of a comparison, already checked against its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// As written, unescaped; compared case-insensitively.
    Str(String),
    DateTime(DateTime<Utc>),
    /// The entries of an `in (...)` list of strings.
    List(Vec<String>),
    /// The entries of an `in (...)` list of date-times.
    Times(Vec<DateTime<Utc>>),
    /// No value (`isnull`).
    Nothing,
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Str(s) => write_quoted(f, s),
            Value::DateTime(t) => f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            Value::List(items) => {
                f.write_str("(")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write_quoted(f, item)?;
                }
                f.write_str(")")
            }
            Value::Times(items) => {
                f.write_str("(")?;
                for (i, t) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    f.write_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))?;
                }
                f.write_str(")")
            }
            Value::Nothing => Ok(()),
        }
    }
}

fn write_quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        if c == '"' || c == '\\' {
            f.write_str("\\")?;
        }
        write!(f, "{c}")?;
    }
    f.write_str("\"")
}

/// Bounds of a date-time (either end open when `None`), inclusive.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// The tighter of two bounds (`pick`: `max` for lower ends, `min` for
/// upper ones); an open end is no bound.
fn tighter(
    a: Option<DateTime<Utc>>,
    b: Option<DateTime<Utc>>,
    pick: fn(DateTime<Utc>, DateTime<Utc>) -> DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(x), Some(y)) => Some(pick(x, y)),
        (x, y) => x.or(y),
    }
}

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Cmp { field: Field, op: Op, value: Value },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// A field's value in one record, as the evaluator reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Text(&'a str),
    DateTime(DateTime<Utc>),
}

/// What a record exposes to the evaluator: the value of each field of the
/// endpoint's schema (`None`: the record has no such value; every
/// comparison on it is false).
pub trait Row {
    fn value(&self, field: &str) -> Option<FieldValue<'_>>;
}

impl Expr {
    /// Evaluates the expression against one record.
    ///
    /// Text compares case-insensitively (on lowercase forms) and date-times
    /// temporally. A comparison [`parse_filters`] would never produce (say `created sw`,
    /// or a string value for a date-time) is simply false.
    pub fn matches(&self, row: &dyn Row) -> bool {
        match self {
            Expr::Cmp { field, op, value } => compare(field, *op, value, row),
            Expr::And(lhs, rhs) => lhs.matches(row) && rhs.matches(row),
            Expr::Or(lhs, rhs) => lhs.matches(row) || rhs.matches(row),
            Expr::Not(inner) => !inner.matches(row),
        }
    }

    /// Bounds on a date-time field outside which no row can match (either
    /// end `None`: unbounded): what a list reads within when its key is
    /// that time. A superset — every row read is still matched exactly.
    pub fn time_range(&self, field: &str) -> TimeRange {
        match self {
            Expr::Cmp {
                field: f,
                op,
                value,
            } if f.name == field => match (op, value) {
                (Op::Eq, Value::DateTime(t)) => (Some(*t), Some(*t)),
                (Op::Gt | Op::Ge, Value::DateTime(t)) => (Some(*t), None),
                (Op::Lt | Op::Le, Value::DateTime(t)) => (None, Some(*t)),
                (Op::In, Value::Times(ts)) if !ts.is_empty() => {
                    (ts.iter().min().copied(), ts.iter().max().copied())
                }
                _ => (None, None),
            },
            Expr::And(a, b) => {
                let (a, b) = (a.time_range(field), b.time_range(field));
                (tighter(a.0, b.0, Ord::max), tighter(a.1, b.1, Ord::min))
            }
            Expr::Or(a, b) => {
                let (a, b) = (a.time_range(field), b.time_range(field));
                (
                    a.0.zip(b.0).map(|(x, y)| x.min(y)),
                    a.1.zip(b.1).map(|(x, y)| x.max(y)),
                )
            }
            _ => (None, None),
        }
    }

    /// Binding strength, used by `Display` to print only the parentheses that are needed.
    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 0,
            Expr::And(..) => 1,
            Expr::Not(_) | Expr::Cmp { .. } => 2,
        }
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, min_precedence: u8) -> fmt::Result {
        let parenthesise = self.precedence() < min_precedence;
        if parenthesise {
            f.write_str("(")?;
        }
        match self {
            Expr::Cmp {
                field,
                op: Op::IsNull,
                ..
            } => write!(f, "{field} isnull")?,
            Expr::Cmp { field, op, value } => write!(f, "{field} {op} {value}")?,
            // Both operators are left-associative, so only a right operand of the same
            // precedence needs parentheses.
            Expr::Or(lhs, rhs) => {
                lhs.write(f, 0)?;
                f.write_str(" or ")?;
                rhs.write(f, 1)?;
            }
            Expr::And(lhs, rhs) => {
                lhs.write(f, 1)?;
                f.write_str(" and ")?;
                rhs.write(f, 2)?;
            }
            Expr::Not(inner) => {
                f.write_str("not ")?;
                inner.write(f, 2)?;
            }
        }
        if parenthesise {
            f.write_str(")")?;
        }
        Ok(())
    }
}

/// Prints the expression in filter syntax; the output parses back to an equal `Expr`.
impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, 0)
    }
}

fn compare(field: Field, op: Op, value: &Value, row: &dyn Row) -> bool {
    match (row.value(field.name), op, value) {
        (actual, Op::IsNull, _) => actual.is_none(),
        // A date-time "starts with" a prefix of its written form.
        (Some(FieldValue::DateTime(actual)), Op::Sw, Value::Str(prefix)) => {
            crate::time::format(&actual)
                .to_lowercase()
                .starts_with(&prefix.to_lowercase())
        }
        (Some(FieldValue::DateTime(actual)), Op::In, Value::Times(items)) => {
            items.contains(&actual)
        }
        (Some(FieldValue::DateTime(actual)), _, Value::DateTime(expected)) => {
            op.holds(actual.cmp(expected))
        }
        (Some(FieldValue::Text(actual)), _, _) => {
            let actual = actual.to_lowercase();
            match (op, value) {
                (Op::In, Value::List(items)) => {
                    items.iter().any(|item| item.to_lowercase() == actual)
                }
                (Op::Sw, Value::Str(prefix)) => actual.starts_with(&prefix.to_lowercase()),
                (_, Value::Str(expected)) => {
                    op.holds(actual.as_str().cmp(&expected.to_lowercase()))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

/// A parse error of `filters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterError {
    /// A complete sentence, starting with `filters:`, fit for a 400 response's `causes`.
    pub message: String,
    /// 0-based character offset of the problem, when there is one place to point at.
    pub position: Option<usize>,
}

impl FilterError {
    pub(super) fn at(position: usize, message: String) -> FilterError {
        FilterError {
            message,
            position: Some(position),
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}
