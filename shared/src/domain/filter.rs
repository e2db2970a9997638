//! The `filters` and `sorters` query parameters of `GET /access-request-status`.
//!
//! The grammar is SailPoint's "standard collection parameters" restricted to what this
//! endpoint documents: three filterable fields, the operators each of them allows, the
//! composites `and` / `or` / `not` and parentheses. Everything outside it is rejected with
//! a message that names the offending field, operator or 0-based character position, so
//! the caller can put it verbatim into the `causes` of a 400 response.
//!
//! The parser is a small lexer plus recursive descent. It recurses only for `(` and `not`,
//! both bounded by [`MAX_FILTER_DEPTH`]; `and` / `or` chains are built in a loop. The tree
//! can still be deeper than that (a long `or` chain nests to the left), but
//! [`MAX_FILTER_LEN`] caps it at a couple of hundred levels, so evaluating, printing and
//! dropping it stay far from the stack limit too.

use std::cmp::Ordering;
use std::fmt;

use chrono::{DateTime, SecondsFormat, Utc};

/// Longest `filters` value accepted, in characters.
pub const MAX_FILTER_LEN: usize = 4096;

/// Deepest nesting of parentheses and `not` accepted.
pub const MAX_FILTER_DEPTH: usize = 50;

/// Filterable fields of the status endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    AccessRequestId,
    AccountActivityItemId,
    Created,
}

impl Field {
    pub const ALL: [Field; 3] = [
        Field::AccessRequestId,
        Field::AccountActivityItemId,
        Field::Created,
    ];

    /// The name as written in a filter (case-sensitive).
    pub fn as_str(self) -> &'static str {
        match self {
            Field::AccessRequestId => "accessRequestId",
            Field::AccountActivityItemId => "accountActivityItemId",
            Field::Created => "created",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.as_str() == name)
    }

    /// The operators the endpoint documents for this field, in the order error messages list them.
    pub fn supported_ops(self) -> &'static [Op] {
        use Op::*;
        match self {
            Field::AccessRequestId => &[Eq, Ne, Gt, Ge, Lt, Le, In, Sw],
            // The API spec lists no `lt` for this field; mirror it rather than guess.
            Field::AccountActivityItemId => &[Eq, Ne, Gt, Ge, Le, In, Sw],
            Field::Created => &[Eq, Ne, Gt, Ge, Lt, Le],
        }
    }

    pub fn supports(self, op: Op) -> bool {
        self.supported_ops().contains(&op)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Comparison operators of the grammar that some field of this endpoint supports.
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
}

impl Op {
    pub const ALL: [Op; 8] = [
        Op::Eq,
        Op::Ne,
        Op::Gt,
        Op::Ge,
        Op::Lt,
        Op::Le,
        Op::In,
        Op::Sw,
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
            Op::In | Op::Sw => false,
        }
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Operators of the wider standard grammar that this endpoint rejects; recognising them
/// lets the error say "operator 'co'" instead of something vaguer.
const FOREIGN_OPS: [&str; 4] = ["co", "ca", "pr", "isnull"];

/// The right-hand side of a comparison, already checked against its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// As written, unescaped; compared case-insensitively.
    Str(String),
    DateTime(DateTime<Utc>),
    /// The entries of an `in (...)` list.
    List(Vec<String>),
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

/// A parsed filter expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    Cmp { field: Field, op: Op, value: Value },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
}

/// What a record exposes to the evaluator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row<'a> {
    pub access_request_id: &'a str,
    pub account_activity_item_id: &'a str,
    pub created: DateTime<Utc>,
}

impl Expr {
    /// Evaluates the expression against one record.
    ///
    /// Strings compare case-insensitively (on their lowercase forms) and `created`
    /// temporally. A comparison [`parse_filters`] would never produce (say `created sw`,
    /// or a string value for `created`) is simply false.
    pub fn matches(&self, row: &Row<'_>) -> bool {
        match self {
            Expr::Cmp { field, op, value } => compare(*field, *op, value, row),
            Expr::And(lhs, rhs) => lhs.matches(row) && rhs.matches(row),
            Expr::Or(lhs, rhs) => lhs.matches(row) || rhs.matches(row),
            Expr::Not(inner) => !inner.matches(row),
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

fn compare(field: Field, op: Op, value: &Value, row: &Row<'_>) -> bool {
    let actual = match field {
        Field::AccessRequestId => row.access_request_id,
        Field::AccountActivityItemId => row.account_activity_item_id,
        Field::Created => {
            return match value {
                Value::DateTime(expected) => op.holds(row.created.cmp(expected)),
                _ => false,
            };
        }
    };
    let actual = actual.to_lowercase();
    match (op, value) {
        (Op::In, Value::List(items)) => items.iter().any(|item| item.to_lowercase() == actual),
        (Op::Sw, Value::Str(prefix)) => actual.starts_with(&prefix.to_lowercase()),
        (_, Value::Str(expected)) => op.holds(actual.as_str().cmp(&expected.to_lowercase())),
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
    fn at(position: usize, message: String) -> FilterError {
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

/// Parses a `filters` query parameter (already URL-decoded).
pub fn parse_filters(input: &str) -> Result<Expr, FilterError> {
    let len = input.chars().count();
    if len > MAX_FILTER_LEN {
        return Err(FilterError::at(
            MAX_FILTER_LEN,
            format!(
                "filters: expression is {len} characters long; the maximum is {MAX_FILTER_LEN}"
            ),
        ));
    }
    if input.trim().is_empty() {
        return Err(FilterError {
            message: "filters: empty expression".to_string(),
            position: None,
        });
    }
    let mut parser = Parser {
        lexer: Lexer {
            chars: input.chars().collect(),
            pos: 0,
        },
        peeked: None,
        depth: 0,
    };
    let expr = parser.parse_or()?;
    let rest = parser.next()?;
    match rest.kind {
        TokenKind::End => Ok(expr),
        TokenKind::RParen => Err(FilterError::at(
            rest.pos,
            format!(
                "filters: unbalanced ')' at position {}; it closes no '('",
                rest.pos
            ),
        )),
        _ => Err(FilterError::at(
            rest.pos,
            format!(
                "filters: unexpected {} at position {}; expected 'and', 'or' or end of input{}",
                rest.describe(),
                rest.pos,
                rest.lowercase_hint()
            ),
        )),
    }
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    LParen,
    RParen,
    Comma,
    /// A double-quoted string, unescaped.
    Str(String),
    /// Any run of characters up to whitespace, a quote, a parenthesis or a comma: field
    /// names, operators, keywords and unquoted date-times all lex as words.
    Word(String),
    End,
}

#[derive(Debug, Clone, PartialEq)]
struct Token {
    kind: TokenKind,
    pos: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::LParen => "'('".to_string(),
            TokenKind::RParen => "')'".to_string(),
            TokenKind::Comma => "','".to_string(),
            TokenKind::Str(s) => format!("string \"{}\"", clip(s)),
            TokenKind::Word(w) => format!("'{}'", clip(w)),
            TokenKind::End => "end of input".to_string(),
        }
    }

    fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w == keyword)
    }

    /// Callers writing `AND` or `EQ` deserve to be told why it was not understood.
    fn lowercase_hint(&self) -> &'static str {
        match &self.kind {
            TokenKind::Word(w) if w != &w.to_lowercase() && is_reserved(&w.to_lowercase()) => {
                " (operators and keywords are lowercase)"
            }
            _ => "",
        }
    }
}

fn is_reserved(word: &str) -> bool {
    matches!(word, "and" | "or" | "not")
        || Op::from_name(word).is_some()
        || FOREIGN_OPS.contains(&word)
}

/// Escapes control characters and shortens long text so messages stay one readable line.
fn clip(text: &str) -> String {
    const MAX: usize = 40;
    let mut out: String = text
        .chars()
        .take(MAX)
        .flat_map(char::escape_debug)
        .collect();
    if text.chars().nth(MAX).is_some() {
        out.push('…');
    }
    out
}

struct Lexer {
    chars: Vec<char>,
    pos: usize,
}

impl Lexer {
    fn is_delimiter(c: char) -> bool {
        c.is_whitespace() || matches!(c, '(' | ')' | ',' | '"')
    }

    fn next_token(&mut self) -> Result<Token, FilterError> {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = self.chars.get(start) else {
            return Ok(Token {
                kind: TokenKind::End,
                pos: start,
            });
        };
        let kind = match c {
            '(' => TokenKind::LParen,
            ')' => TokenKind::RParen,
            ',' => TokenKind::Comma,
            '"' => return self.string(start),
            _ => {
                let mut end = start;
                while self.chars.get(end).is_some_and(|&c| !Self::is_delimiter(c)) {
                    end += 1;
                }
                self.pos = end;
                return Ok(Token {
                    kind: TokenKind::Word(self.chars[start..end].iter().collect()),
                    pos: start,
                });
            }
        };
        self.pos += 1;
        Ok(Token { kind, pos: start })
    }

    fn string(&mut self, start: usize) -> Result<Token, FilterError> {
        let unterminated = || {
            FilterError::at(
                start,
                format!("filters: unterminated string starting at position {start}"),
            )
        };
        let mut value = String::new();
        let mut pos = start + 1;
        loop {
            match self.chars.get(pos) {
                None => return Err(unterminated()),
                Some('"') => break,
                Some('\\') => match self.chars.get(pos + 1) {
                    Some(&c @ ('"' | '\\')) => {
                        value.push(c);
                        pos += 2;
                    }
                    Some(&c) => {
                        return Err(FilterError::at(
                            pos,
                            format!(
                                "filters: invalid escape '\\{}' at position {pos}; only \\\" and \\\\ are allowed inside strings",
                                c.escape_debug()
                            ),
                        ))
                    }
                    None => return Err(unterminated()),
                },
                Some(&c) => {
                    value.push(c);
                    pos += 1;
                }
            }
        }
        self.pos = pos + 1;
        Ok(Token {
            kind: TokenKind::Str(value),
            pos: start,
        })
    }
}

struct Parser {
    lexer: Lexer,
    peeked: Option<Token>,
    depth: usize,
}

impl Parser {
    fn peek(&mut self) -> Result<&Token, FilterError> {
        let token = match self.peeked.take() {
            Some(token) => token,
            None => self.lexer.next_token()?,
        };
        Ok(self.peeked.insert(token))
    }

    fn next(&mut self) -> Result<Token, FilterError> {
        match self.peeked.take() {
            Some(token) => Ok(token),
            None => self.lexer.next_token(),
        }
    }

    /// Consumes `keyword` if it comes next, returning its position.
    fn eat_keyword(&mut self, keyword: &str) -> Result<Option<usize>, FilterError> {
        let token = self.peek()?;
        if token.is_keyword(keyword) {
            let pos = token.pos;
            self.peeked = None;
            Ok(Some(pos))
        } else {
            Ok(None)
        }
    }

    /// Gives `and x eq "y" or` and friends a precise message instead of a generic one.
    fn expect_operand(
        &mut self,
        keyword: &str,
        pos: usize,
        which: &str,
    ) -> Result<(), FilterError> {
        let token = self.peek()?;
        let missing = matches!(
            token.kind,
            TokenKind::End | TokenKind::RParen | TokenKind::Comma
        ) || token.is_keyword("and")
            || token.is_keyword("or");
        if missing {
            return Err(FilterError::at(
                pos,
                format!(
                    "filters: '{keyword}' at position {pos} is missing its {which}operand; found {} at position {}",
                    token.describe(),
                    token.pos
                ),
            ));
        }
        Ok(())
    }

    /// Bounds recursion so deeply nested input is an error, not a stack overflow.
    fn enter(&mut self, pos: usize) -> Result<(), FilterError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return Err(FilterError::at(
                pos,
                format!(
                    "filters: expression is nested more than {MAX_FILTER_DEPTH} levels deep at position {pos}"
                ),
            ));
        }
        Ok(())
    }

    // Precedence climbs or < and < not; and/or loop rather than recurse, so long chains
    // cost no stack and associate to the left.
    fn parse_or(&mut self) -> Result<Expr, FilterError> {
        let mut lhs = self.parse_and()?;
        while let Some(pos) = self.eat_keyword("or")? {
            self.expect_operand("or", pos, "right-hand ")?;
            let rhs = self.parse_and()?;
            lhs = Expr::Or(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_and(&mut self) -> Result<Expr, FilterError> {
        let mut lhs = self.parse_unary()?;
        while let Some(pos) = self.eat_keyword("and")? {
            self.expect_operand("and", pos, "right-hand ")?;
            let rhs = self.parse_unary()?;
            lhs = Expr::And(Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn parse_unary(&mut self) -> Result<Expr, FilterError> {
        if let Some(pos) = self.eat_keyword("not")? {
            self.expect_operand("not", pos, "")?;
            self.enter(pos)?;
            let inner = self.parse_unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.parse_primary()
    }

    fn parse_primary(&mut self) -> Result<Expr, FilterError> {
        let token = self.next()?;
        match token.kind {
            TokenKind::LParen => {
                self.enter(token.pos)?;
                let inner = self.parse_or()?;
                let close = self.next()?;
                if close.kind != TokenKind::RParen {
                    return Err(FilterError::at(
                        close.pos,
                        format!(
                            "filters: expected ')' at position {} but found {}; the '(' at position {} is not closed",
                            close.pos,
                            close.describe(),
                            token.pos
                        ),
                    ));
                }
                self.depth -= 1;
                Ok(inner)
            }
            TokenKind::Word(word) => self.parse_comparison(word, token.pos),
            _ => Err(FilterError::at(
                token.pos,
                format!(
                    "filters: expected a field name, 'not' or '(' at position {} but found {}",
                    token.pos,
                    token.describe()
                ),
            )),
        }
    }

    fn parse_comparison(&mut self, name: String, pos: usize) -> Result<Expr, FilterError> {
        let field = Field::from_name(&name).ok_or_else(|| unknown_field(&name, pos))?;

        let token = self.next()?;
        let op_name = match &token.kind {
            TokenKind::Word(w) if !matches!(w.as_str(), "and" | "or" | "not") => w.clone(),
            _ => {
                return Err(FilterError::at(
                    token.pos,
                    format!(
                        "filters: expected an operator after field '{field}' at position {} but found {}",
                        token.pos,
                        token.describe()
                    ),
                ))
            }
        };
        let op = Op::from_name(&op_name)
            .filter(|op| field.supports(*op))
            .ok_or_else(|| {
                let supported: Vec<&str> = field.supported_ops().iter().map(|op| op.as_str()).collect();
                FilterError::at(
                    token.pos,
                    format!(
                        "filters: operator '{}' is not supported for field '{field}'; supported: {}{}",
                        clip(&op_name),
                        supported.join(", "),
                        token.lowercase_hint()
                    ),
                )
            })?;

        let value = match (field, op) {
            (_, Op::In) => Value::List(self.parse_list(field)?),
            (Field::Created, _) => Value::DateTime(self.parse_datetime(field, op)?),
            _ => Value::Str(self.parse_string(field, op)?),
        };
        Ok(Expr::Cmp { field, op, value })
    }

    fn parse_string(&mut self, field: Field, op: Op) -> Result<String, FilterError> {
        let token = self.next()?;
        match token.kind {
            TokenKind::Str(s) => Ok(s),
            TokenKind::Word(w) => Err(FilterError::at(
                token.pos,
                format!(
                    "filters: value '{}' at position {} for field '{field}' must be a double-quoted string",
                    clip(&w),
                    token.pos
                ),
            )),
            _ => Err(FilterError::at(
                token.pos,
                format!(
                    "filters: expected a double-quoted string after '{field} {op}' at position {} but found {}",
                    token.pos,
                    token.describe()
                ),
            )),
        }
    }

    /// Unquoted as the standard's examples write it, or quoted as clients often do anyway.
    fn parse_datetime(&mut self, field: Field, op: Op) -> Result<DateTime<Utc>, FilterError> {
        let token = self.next()?;
        let text = match &token.kind {
            TokenKind::Word(w) | TokenKind::Str(w) => w,
            _ => {
                return Err(FilterError::at(
                    token.pos,
                    format!(
                        "filters: expected an RFC 3339 date-time after '{field} {op}' at position {} but found {}",
                        token.pos,
                        token.describe()
                    ),
                ))
            }
        };
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                FilterError::at(
                    token.pos,
                    format!(
                        "filters: '{}' at position {} is not a valid RFC 3339 date-time for field '{field}' (e.g. 2018-12-18T23:05:55Z)",
                        clip(text),
                        token.pos
                    ),
                )
            })
    }

    fn parse_list(&mut self, field: Field) -> Result<Vec<String>, FilterError> {
        let open = self.next()?;
        if open.kind != TokenKind::LParen {
            return Err(FilterError::at(
                open.pos,
                format!(
                    "filters: expected '(' starting the list after '{field} in' at position {} but found {}",
                    open.pos,
                    open.describe()
                ),
            ));
        }
        let mut items = Vec::new();
        let mut last_comma = None;
        loop {
            let token = self.next()?;
            match token.kind {
                TokenKind::Str(s) => items.push(s),
                TokenKind::RParen => {
                    return Err(match last_comma {
                        Some(comma) => FilterError::at(
                            comma,
                            format!("filters: trailing ',' at position {comma} in the 'in' list for field '{field}'"),
                        ),
                        None => FilterError::at(
                            open.pos,
                            format!(
                                "filters: the 'in' list for field '{field}' at position {} is empty",
                                open.pos
                            ),
                        ),
                    })
                }
                TokenKind::Word(w) => {
                    return Err(FilterError::at(
                        token.pos,
                        format!(
                            "filters: 'in' list entry '{}' at position {} for field '{field}' must be a double-quoted string",
                            clip(&w),
                            token.pos
                        ),
                    ))
                }
                _ => {
                    return Err(FilterError::at(
                        token.pos,
                        format!(
                            "filters: expected a double-quoted string in the 'in' list for field '{field}' at position {} but found {}",
                            token.pos,
                            token.describe()
                        ),
                    ))
                }
            }
            let separator = self.next()?;
            match separator.kind {
                TokenKind::Comma => last_comma = Some(separator.pos),
                TokenKind::RParen => return Ok(items),
                _ => {
                    return Err(FilterError::at(
                        separator.pos,
                        format!(
                            "filters: expected ',' or ')' in the 'in' list for field '{field}' at position {} but found {}",
                            separator.pos,
                            separator.describe()
                        ),
                    ))
                }
            }
        }
    }
}

/// Why a word in field position is not a field, as precisely as can be told.
fn unknown_field(name: &str, pos: usize) -> FilterError {
    let fields: Vec<&str> = Field::ALL.iter().map(|f| f.as_str()).collect();
    let message = if name == "and" || name == "or" {
        format!("filters: '{name}' at position {pos} is missing its left-hand operand")
    } else if name == "pr" {
        // `pr field` is the standard's prefix presence test; no field here supports it.
        format!("filters: operator 'pr' at position {pos} is not supported by this endpoint")
    } else if Op::from_name(name).is_some() || FOREIGN_OPS.contains(&name) {
        format!("filters: expected a field name at position {pos} but found operator '{name}'")
    } else {
        let hint = match Field::ALL
            .iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(name))
        {
            Some(f) => format!(" (field names are case-sensitive: did you mean '{f}'?)"),
            None => String::new(),
        };
        format!(
            "filters: field '{}' is not filterable; filterable fields are {}{hint}",
            clip(name),
            fields.join(", ")
        )
    };
    FilterError::at(pos, message)
}

/// Sortable fields of the status endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortField {
    Created,
    Modified,
    AccountActivityItemId,
    Name,
}

impl SortField {
    pub const ALL: [SortField; 4] = [
        SortField::Created,
        SortField::Modified,
        SortField::AccountActivityItemId,
        SortField::Name,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SortField::Created => "created",
            SortField::Modified => "modified",
            SortField::AccountActivityItemId => "accountActivityItemId",
            SortField::Name => "name",
        }
    }

    /// Case-sensitive, like filter field names.
    pub fn from_name(name: &str) -> Option<SortField> {
        SortField::ALL.into_iter().find(|f| f.as_str() == name)
    }
}

impl fmt::Display for SortField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// The order used when `sorters` is absent or blank: newest first.
pub const DEFAULT_SORT: SortKey = SortKey {
    field: SortField::Created,
    descending: true,
};

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

/// Parses a `sorters` query parameter (already URL-decoded): `"created,-name"` gives two
/// keys; empty or whitespace-only input gives the default `[-created]`.
pub fn parse_sorters(input: &str) -> Result<Vec<SortKey>, SortError> {
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
        let field = SortField::from_name(name).ok_or_else(|| {
            let fields: Vec<&str> = SortField::ALL.iter().map(|f| f.as_str()).collect();
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

    const AR: &str = "2c91808b6ef1d43e016efba0ce470904";
    const AAI: &str = "2c9180835d2e5168015d32f890ca1581";
    const CREATED: &str = "2020-06-01T12:00:00Z";

    fn dt(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn row() -> Row<'static> {
        Row {
            access_request_id: AR,
            account_activity_item_id: AAI,
            created: dt(CREATED),
        }
    }

    fn parse(input: &str) -> Expr {
        parse_filters(input).unwrap_or_else(|e| panic!("{input:?} should parse: {}", e.message))
    }

    fn eval(input: &str) -> bool {
        parse(input).matches(&row())
    }

    fn err(input: &str) -> FilterError {
        match parse_filters(input) {
            Ok(expr) => panic!("{input:?} should not parse, got {expr:?}"),
            Err(e) => e,
        }
    }

    fn cmp(field: Field, op: Op, value: Value) -> Expr {
        Expr::Cmp { field, op, value }
    }

    fn s(v: &str) -> Value {
        Value::Str(v.to_string())
    }

    fn ar_eq(v: &str) -> Expr {
        cmp(Field::AccessRequestId, Op::Eq, s(v))
    }

    fn not(e: Expr) -> Expr {
        Expr::Not(Box::new(e))
    }

    fn and(a: Expr, b: Expr) -> Expr {
        Expr::And(Box::new(a), Box::new(b))
    }

    fn or(a: Expr, b: Expr) -> Expr {
        Expr::Or(Box::new(a), Box::new(b))
    }

    /// Every allowed field × operator: (field, op, filter that matches `row()`, filter that doesn't).
    #[rustfmt::skip]
    const ALLOWED: &[(Field, Op, &str, &str)] = &[
        (Field::AccessRequestId, Op::Eq, r#"accessRequestId eq "2C91808B6EF1D43E016EFBA0CE470904""#, r#"accessRequestId eq "2c91808b6ef1d43e016efba0ce470905""#),
        (Field::AccessRequestId, Op::Ne, r#"accessRequestId ne "other""#, r#"accessRequestId ne "2c91808b6ef1d43e016efba0ce470904""#),
        (Field::AccessRequestId, Op::Gt, r#"accessRequestId gt "2C91808A""#, r#"accessRequestId gt "2c91808c""#),
        (Field::AccessRequestId, Op::Ge, r#"accessRequestId ge "2c91808b6ef1d43e016efba0ce470904""#, r#"accessRequestId ge "3""#),
        (Field::AccessRequestId, Op::Lt, r#"accessRequestId lt "2C91808C""#, r#"accessRequestId lt "2c91808b6ef1d43e016efba0ce470904""#),
        (Field::AccessRequestId, Op::Le, r#"accessRequestId le "2c91808b6ef1d43e016efba0ce470904""#, r#"accessRequestId le "2c91808a""#),
        (Field::AccessRequestId, Op::In, r#"accessRequestId in ("x", "2C91808B6EF1D43E016EFBA0CE470904")"#, r#"accessRequestId in ("x","y")"#),
        (Field::AccessRequestId, Op::Sw, r#"accessRequestId sw "2C91808B""#, r#"accessRequestId sw "2c91808c""#),
        (Field::AccountActivityItemId, Op::Eq, r#"accountActivityItemId eq "2c9180835d2e5168015d32f890ca1581""#, r#"accountActivityItemId eq "2c9180835d2e5168015d32f890ca1582""#),
        (Field::AccountActivityItemId, Op::Ne, r#"accountActivityItemId ne "x""#, r#"accountActivityItemId ne "2C9180835D2E5168015D32F890CA1581""#),
        (Field::AccountActivityItemId, Op::Gt, r#"accountActivityItemId gt "2c9180835""#, r#"accountActivityItemId gt "2c9180836""#),
        (Field::AccountActivityItemId, Op::Ge, r#"accountActivityItemId ge "2C9180835D2E5168015D32F890CA1581""#, r#"accountActivityItemId ge "2c9180836""#),
        (Field::AccountActivityItemId, Op::Le, r#"accountActivityItemId le "2c9180836""#, r#"accountActivityItemId le "2c9180835""#),
        (Field::AccountActivityItemId, Op::In, r#"accountActivityItemId in ("2c9180835d2e5168015d32f890ca1581")"#, r#"accountActivityItemId in ("2c9180835d2e5168015d32f890ca158")"#),
        (Field::AccountActivityItemId, Op::Sw, r#"accountActivityItemId sw "2c9180835D""#, r#"accountActivityItemId sw "2c9180835d2e5168015d32f890ca15811""#),
        (Field::Created, Op::Eq, "created eq 2020-06-01T14:00:00+02:00", "created eq 2020-06-01T12:00:00.001Z"),
        (Field::Created, Op::Ne, "created ne 2020-06-01T12:00:01Z", "created ne 2020-06-01T12:00:00Z"),
        (Field::Created, Op::Gt, "created gt 2018-12-18T23:05:55Z", "created gt 2020-06-01T12:00:00Z"),
        (Field::Created, Op::Ge, "created ge 2020-06-01T12:00:00Z", "created ge 2020-06-01T12:00:00.000000001Z"),
        (Field::Created, Op::Lt, "created lt 2020-06-01T12:00:00.5Z", "created lt 2020-06-01T07:00:00-05:00"),
        (Field::Created, Op::Le, "created le 2020-06-01T07:00:00-05:00", "created le 2020-06-01T11:59:59.999Z"),
    ];

    #[test]
    fn every_allowed_field_and_operator_parses_and_evaluates() {
        for &(field, op, yes, no) in ALLOWED {
            for input in [yes, no] {
                match parse(input) {
                    Expr::Cmp {
                        field: f, op: o, ..
                    } => {
                        assert_eq!((f, o), (field, op), "{input}")
                    }
                    other => panic!("{input} parsed to {other:?}"),
                }
            }
            assert!(eval(yes), "{yes} should match");
            assert!(!eval(no), "{no} should not match");
        }
    }

    #[test]
    fn allowed_table_covers_the_documented_matrix() {
        for field in Field::ALL {
            for &op in field.supported_ops() {
                assert!(
                    ALLOWED.iter().any(|&(f, o, _, _)| (f, o) == (field, op)),
                    "no test for {field} {op}"
                );
            }
        }
        assert_eq!(ALLOWED.len(), 8 + 7 + 6);
    }

    #[test]
    fn every_operator_outside_a_fields_set_is_rejected_naming_both() {
        for field in Field::ALL {
            for op in Op::ALL.into_iter().filter(|op| !field.supports(*op)) {
                let value = if op == Op::In { r#"("a")"# } else { r#""a""# };
                let e = err(&format!("{field} {op} {value}"));
                assert!(
                    e.message.contains(&format!(
                        "operator '{op}' is not supported for field '{field}'"
                    )),
                    "{}",
                    e.message
                );
                assert_eq!(e.position, Some(field.as_str().len() + 1));
            }
        }
        assert_eq!(
            err(r#"accountActivityItemId lt "a""#).message,
            "filters: operator 'lt' is not supported for field 'accountActivityItemId'; supported: eq, ne, gt, ge, le, in, sw"
        );
        assert_eq!(
            err(r#"created in ("2020-01-01T00:00:00Z")"#).message,
            "filters: operator 'in' is not supported for field 'created'; supported: eq, ne, gt, ge, lt, le"
        );
        assert!(err(r#"created sw "2020""#)
            .message
            .contains("operator 'sw'"));
    }

    #[test]
    fn operators_outside_the_endpoint_are_rejected_naming_them() {
        for op in ["co", "ca", "isnull", "EQ", "Eq", "like", "=="] {
            for field in Field::ALL {
                let e = err(&format!(r#"{field} {op} "a""#));
                assert!(
                    e.message.contains(&format!("operator '{op}'")),
                    "{}",
                    e.message
                );
                assert!(
                    e.message.contains(&format!("field '{field}'")),
                    "{}",
                    e.message
                );
            }
        }
        assert!(err(r#"accessRequestId EQ "a""#)
            .message
            .contains("lowercase"));
        assert!(err("created isnull").message.contains("operator 'isnull'"));
        assert!(err("pr accessRequestId").message.contains("operator 'pr'"));
        let e = err(r#"eq "a""#);
        assert!(e.message.contains("operator 'eq'"), "{}", e.message);
        assert_eq!(e.position, Some(0));
    }

    #[test]
    fn fields_outside_the_endpoint_are_rejected_naming_them() {
        assert_eq!(
            err(r#"name eq "x""#).message,
            "filters: field 'name' is not filterable; filterable fields are accessRequestId, accountActivityItemId, created"
        );
        for field in [
            "name",
            "state",
            "requestedFor.id",
            "id",
            "modified",
            "AccessRequestId",
            "CREATED",
        ] {
            let e = err(&format!(r#"accessRequestId eq "a" and {field} eq "x""#));
            assert!(
                e.message
                    .contains(&format!("field '{field}' is not filterable")),
                "{}",
                e.message
            );
            assert_eq!(e.position, Some(27));
        }
        assert!(err(r#"AccessRequestId eq "x""#)
            .message
            .contains("did you mean 'accessRequestId'"));
    }

    #[test]
    fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
        let e = parse(
            r#"not accessRequestId eq "1" or accessRequestId eq "2" and accessRequestId eq "3""#,
        );
        assert_eq!(e, or(not(ar_eq("1")), and(ar_eq("2"), ar_eq("3"))));
        assert_eq!(
            e,
            parse(
                r#"(not (accessRequestId eq "1")) or ((accessRequestId eq "2") and (accessRequestId eq "3"))"#
            )
        );
        assert_eq!(
            parse(r#"accessRequestId eq "1" and accessRequestId eq "2" or accessRequestId eq "3""#),
            or(and(ar_eq("1"), ar_eq("2")), ar_eq("3"))
        );
    }

    #[test]
    fn and_and_or_associate_left() {
        assert_eq!(
            parse(r#"accessRequestId eq "1" or accessRequestId eq "2" or accessRequestId eq "3""#),
            or(or(ar_eq("1"), ar_eq("2")), ar_eq("3"))
        );
        assert_eq!(
            parse(
                r#"accessRequestId eq "1" and accessRequestId eq "2" and accessRequestId eq "3""#
            ),
            and(and(ar_eq("1"), ar_eq("2")), ar_eq("3"))
        );
    }

    #[test]
    fn parentheses_override_precedence_and_nest() {
        assert_eq!(
            parse(
                r#"accessRequestId eq "1" and (accessRequestId eq "2" or accessRequestId eq "3")"#
            ),
            and(ar_eq("1"), or(ar_eq("2"), ar_eq("3")))
        );
        assert_eq!(
            parse(r#"not (accessRequestId eq "1" or accessRequestId eq "2")"#),
            not(or(ar_eq("1"), ar_eq("2")))
        );
        assert_eq!(parse(r#"((( accessRequestId eq "1" )))"#), ar_eq("1"));
        assert_eq!(
            parse(
                r#"(accessRequestId eq "1" or (not (accessRequestId eq "2") and accessRequestId eq "3"))"#
            ),
            or(ar_eq("1"), and(not(ar_eq("2")), ar_eq("3")))
        );
        assert_eq!(
            parse(r#"not not accessRequestId eq "1""#),
            not(not(ar_eq("1")))
        );
    }

    #[test]
    fn composites_evaluate() {
        let yes = format!(r#"accessRequestId eq "{AR}""#);
        let no = r#"accessRequestId eq "nope""#;
        assert!(eval(&format!("{yes} and created gt 2019-01-01T00:00:00Z")));
        assert!(!eval(&format!("{yes} and {no}")));
        assert!(eval(&format!("{no} or {yes}")));
        assert!(!eval(&format!("{no} or {no}")));
        assert!(eval(&format!("not {no}")));
        assert!(!eval(&format!("not {yes}")));
        // Precedence changes the answer: (F or T) and F = F, but F or (T and F) = F, and
        // not T or T = T while not (T or T) = F.
        assert!(eval(&format!("not {yes} or {yes}")));
        assert!(!eval(&format!("not ({yes} or {yes})")));
        assert!(eval(&format!("{yes} or {yes} and {no}")));
        assert!(!eval(&format!("({yes} or {yes}) and {no}")));
    }

    #[test]
    fn strings_unescape_quotes_and_backslashes() {
        assert_eq!(parse(r#"accessRequestId eq "a\"b""#), ar_eq("a\"b"));
        assert_eq!(parse(r#"accessRequestId eq "a\\b""#), ar_eq("a\\b"));
        assert_eq!(parse(r#"accessRequestId eq "\\\"""#), ar_eq("\\\""));
        assert_eq!(
            parse(r#"accessRequestId eq "a b (c), and or""#),
            ar_eq("a b (c), and or")
        );
        assert_eq!(parse(r#"accessRequestId eq """#), ar_eq(""));
        assert_eq!(
            parse(r#"accessRequestId eq "%23Employees""#),
            ar_eq("%23Employees")
        );
        assert_eq!(parse(r#"accessRequestId eq "é""#), ar_eq("é"));
    }

    #[test]
    fn other_escapes_are_rejected_with_their_position() {
        for (input, pos) in [
            (r#"accessRequestId eq "a\nb""#, 21),
            (r#"accessRequestId eq "\u0041""#, 20),
            (r#"accessRequestId eq "a\'""#, 21),
        ] {
            let e = err(input);
            assert_eq!(e.position, Some(pos), "{input}");
            assert!(e.message.contains("invalid escape"), "{}", e.message);
            assert!(
                e.message.contains(&format!("at position {pos}")),
                "{}",
                e.message
            );
        }
        // A backslash at the very end leaves the string open.
        assert!(err(r#"accessRequestId eq "a\"#)
            .message
            .contains("unterminated string starting at position 19"));
    }

    #[test]
    fn in_lists() {
        assert_eq!(
            parse(
                r#"accountActivityItemId in ("2c9180846b0a0583016b299f210c1314","2c9180846b0a0581016b299e82560c1314")"#
            ),
            cmp(
                Field::AccountActivityItemId,
                Op::In,
                Value::List(vec![
                    "2c9180846b0a0583016b299f210c1314".into(),
                    "2c9180846b0a0581016b299e82560c1314".into()
                ])
            )
        );
        assert_eq!(
            parse("accessRequestId in(  \"a\" ,\t\"b\\\"\"  )"),
            cmp(
                Field::AccessRequestId,
                Op::In,
                Value::List(vec!["a".into(), "b\"".into()])
            )
        );
        assert_eq!(
            parse(r#"accessRequestId in ("a")"#),
            cmp(
                Field::AccessRequestId,
                Op::In,
                Value::List(vec!["a".into()])
            )
        );

        let e = err(r#"accessRequestId in ()"#);
        assert!(e.message.contains("empty"), "{}", e.message);
        assert_eq!(e.position, Some(19));
        let e = err(r#"accessRequestId in ("a",)"#);
        assert!(
            e.message.contains("trailing ',' at position 23"),
            "{}",
            e.message
        );
        let e = err(r#"accessRequestId in ("a", b)"#);
        assert!(e.message.contains("'b' at position 25"), "{}", e.message);
        let e = err(r#"accessRequestId in "a""#);
        assert!(e.message.contains("expected '('"), "{}", e.message);
        let e = err(r#"accessRequestId in ("a" "b")"#);
        assert!(
            e.message.contains("expected ',' or ')'") && e.message.contains("position 24"),
            "{}",
            e.message
        );
        let e = err(r#"accessRequestId in ("a",,"b")"#);
        assert!(
            e.message.contains("found ','") && e.message.contains("position 24"),
            "{}",
            e.message
        );
        let e = err(r#"accessRequestId in ("a""#);
        assert!(e.message.contains("end of input"), "{}", e.message);
    }

    #[test]
    fn created_accepts_rfc3339_forms() {
        let at = |input: &str| match parse(input) {
            Expr::Cmp {
                value: Value::DateTime(t),
                ..
            } => t,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            at("created gt 2018-12-18T23:05:55Z"),
            dt("2018-12-18T23:05:55Z")
        );
        assert_eq!(
            at("created gt 2018-12-18T23:05:55.123456Z").timestamp_subsec_micros(),
            123_456
        );
        assert_eq!(
            at("created gt 2018-12-18T23:05:55+02:00"),
            dt("2018-12-18T21:05:55Z")
        );
        assert_eq!(
            at("created gt 2018-12-18T23:05:55.5-05:30"),
            dt("2018-12-19T04:35:55.5Z")
        );
        assert_eq!(
            at("created gt 2018-12-18t23:05:55z"),
            dt("2018-12-18T23:05:55Z")
        );
        // Quoted is tolerated.
        assert_eq!(
            at(r#"created gt "2018-12-18T23:05:55Z""#),
            dt("2018-12-18T23:05:55Z")
        );
        assert_eq!(
            parse("(created ge 2018-12-18T23:05:55Z)and created lt 2019-01-01T00:00:00Z"),
            and(
                cmp(
                    Field::Created,
                    Op::Ge,
                    Value::DateTime(dt("2018-12-18T23:05:55Z"))
                ),
                cmp(
                    Field::Created,
                    Op::Lt,
                    Value::DateTime(dt("2019-01-01T00:00:00Z"))
                )
            )
        );
    }

    #[test]
    fn created_rejects_what_is_not_rfc3339_naming_the_value() {
        for value in [
            "2018-12-18",
            "2018-12-18T23:05:55",
            "2018-13-18T23:05:55Z",
            "1545174355",
            "yesterday",
            "2018-12-18T23:05:55+2",
        ] {
            let e = err(&format!("created gt {value}"));
            assert!(e.message.contains(&format!("'{value}'")), "{}", e.message);
            assert!(e.message.contains("RFC 3339"), "{}", e.message);
            assert_eq!(e.position, Some(11));
        }
        assert!(err(r#"created gt """#)
            .message
            .contains("'' at position 11"));
    }

    #[test]
    fn string_fields_require_quoted_values() {
        let e = err("accessRequestId eq 2c91808b6ef1d43e016efba0ce470904");
        assert!(
            e.message
                .contains("'2c91808b6ef1d43e016efba0ce470904' at position 19"),
            "{}",
            e.message
        );
        assert!(e.message.contains("double-quoted"), "{}", e.message);
        let e = err("accountActivityItemId sw 2c9");
        assert!(
            e.message.contains("field 'accountActivityItemId'"),
            "{}",
            e.message
        );
    }

    #[test]
    fn malformed_expressions_name_the_field_operator_or_position() {
        // (input, text the message must contain, expected position)
        #[rustfmt::skip]
        let cases: &[(&str, &str, Option<usize>)] = &[
            ("", "filters: empty expression", None),
            ("  \t ", "filters: empty expression", None),
            (r#"accessRequestId eq "a" "b""#, "unexpected string \"b\" at position 23", Some(23)),
            (r#"accessRequestId eq "a" accountActivityItemId eq "b""#, "'accountActivityItemId' at position 23", Some(23)),
            (r#"accessRequestId eq "a" AND accessRequestId eq "b""#, "lowercase", Some(23)),
            ("accessRequestId eq", "after 'accessRequestId eq' at position 18 but found end of input", Some(18)),
            ("accessRequestId", "expected an operator after field 'accessRequestId' at position 15", Some(15)),
            (r#"accessRequestId "a""#, "expected an operator after field 'accessRequestId' at position 16", Some(16)),
            ("created gt", "after 'created gt' at position 10", Some(10)),
            (r#"(accessRequestId eq "a""#, "expected ')' at position 23 but found end of input", Some(23)),
            (r#"((accessRequestId eq "a")"#, "expected ')' at position 25 but found end of input; the '(' at position 0", Some(25)),
            (r#"accessRequestId eq "a")"#, "unbalanced ')' at position 22", Some(22)),
            (r#"(accessRequestId eq "a"))"#, "unbalanced ')' at position 24", Some(24)),
            ("()", "at position 1 but found ')'", Some(1)),
            (r#"accessRequestId eq "a" and"#, "'and' at position 23 is missing its right-hand operand", Some(23)),
            (r#"accessRequestId eq "a" or"#, "'or' at position 23 is missing its right-hand operand", Some(23)),
            (r#"accessRequestId eq "a" or and accessRequestId eq "b""#, "'or' at position 23", Some(23)),
            (r#"(accessRequestId eq "a" and) or accessRequestId eq "b""#, "'and' at position 24", Some(24)),
            (r#"and accessRequestId eq "a""#, "'and' at position 0 is missing its left-hand operand", Some(0)),
            (r#"or accessRequestId eq "a""#, "'or' at position 0 is missing its left-hand operand", Some(0)),
            ("not", "'not' at position 0 is missing its operand", Some(0)),
            (r#"accessRequestId eq "a" and not"#, "'not' at position 27 is missing its operand", Some(27)),
            (r#"accessRequestId eq "a" and not )"#, "'not' at position 27", Some(27)),
            (r#"accessRequestId eq "abc"#, "unterminated string starting at position 19", Some(19)),
            (r#"accessRequestId in ("a", "b)"#, "unterminated string starting at position 25", Some(25)),
            (r#"accessRequestId eq "a" and , "#, "'and' at position 23 is missing its right-hand operand; found ',' at position 27", Some(23)),
            (r#"created eq 2020-01-01T00:00:00Z ("#, "unexpected '(' at position 32", Some(32)),
            (r#"accessRequestId eq ("a")"#, "accessRequestId eq' at position 19 but found '('", Some(19)),
            (r#"accessRequestId and "a""#, "expected an operator after field 'accessRequestId' at position 16 but found 'and'", Some(16)),
            (r#", accessRequestId eq "a""#, "at position 0 but found ','", Some(0)),
            (r#""accessRequestId" eq "a""#, "at position 0 but found string", Some(0)),
        ];
        for &(input, needle, position) in cases {
            let e = err(input);
            assert!(
                e.message.contains(needle),
                "{input:?}: message {:?} lacks {needle:?}",
                e.message
            );
            assert!(e.message.starts_with("filters: "), "{}", e.message);
            assert_eq!(e.position, position, "{input:?}: {}", e.message);
            assert_eq!(e.to_string(), e.message);
        }
        assert!(cases.len() >= 15);
    }

    #[test]
    fn positions_count_characters_not_bytes() {
        let e = err(r#"accessRequestId eq "é" "ü""#);
        assert_eq!(e.position, Some(23), "{}", e.message);
        let e = err("créated eq \"a\"");
        assert!(e.message.contains("field 'créated'"), "{}", e.message);
    }

    #[test]
    fn length_is_limited() {
        let ok = format!(
            r#"accessRequestId eq "{}""#,
            "a".repeat(MAX_FILTER_LEN - 21)
        );
        assert_eq!(ok.chars().count(), MAX_FILTER_LEN);
        assert!(parse_filters(&ok).is_ok());
        let long = format!(
            r#"accessRequestId eq "{}""#,
            "a".repeat(MAX_FILTER_LEN - 20)
        );
        let e = err(&long);
        assert!(
            e.message.contains("4097 characters") && e.message.contains("4096"),
            "{}",
            e.message
        );
        // Multi-byte characters count once.
        let wide = format!(
            r#"accessRequestId eq "{}""#,
            "é".repeat(MAX_FILTER_LEN - 21)
        );
        assert!(parse_filters(&wide).is_ok());
    }

    #[test]
    fn nesting_is_limited_without_overflowing_the_stack() {
        let nested = |n: usize| {
            format!(
                r#"{}accessRequestId eq "a"{}"#,
                "(".repeat(n),
                ")".repeat(n)
            )
        };
        assert_eq!(parse(&nested(MAX_FILTER_DEPTH)), ar_eq("a"));
        let e = err(&nested(MAX_FILTER_DEPTH + 1));
        assert!(
            e.message.contains("nested more than 50 levels"),
            "{}",
            e.message
        );
        assert_eq!(e.position, Some(MAX_FILTER_DEPTH));

        let nots = |n: usize| format!(r#"{}accessRequestId eq "a""#, "not ".repeat(n));
        assert!(parse_filters(&nots(MAX_FILTER_DEPTH)).is_ok());
        let e = err(&nots(MAX_FILTER_DEPTH + 1));
        assert!(
            e.message.contains("nested more than 50 levels"),
            "{}",
            e.message
        );
        assert_eq!(e.position, Some(4 * MAX_FILTER_DEPTH));

        // Sequential groups don't accumulate depth.
        let siblings = vec![nested(MAX_FILTER_DEPTH); 3].join(" and ");
        assert!(parse_filters(&siblings).is_ok());

        // As deep as the length limit allows, both ways.
        assert!(parse_filters(&"(".repeat(MAX_FILTER_LEN)).is_err());
        assert!(parse_filters(&"not ".repeat(MAX_FILTER_LEN / 4)).is_err());
        assert!(parse_filters(&"(".repeat(100_000)).is_err());
    }

    #[test]
    fn long_flat_chains_parse_and_evaluate() {
        let chain = vec![r#"accessRequestId eq "a""#; 150].join(" or ");
        let expr = parse(&chain);
        assert!(!expr.matches(&row()));
    }

    #[test]
    fn display_round_trips_with_minimal_parentheses() {
        for input in [
            r#"not accessRequestId eq "1" or accessRequestId eq "2" and accessRequestId eq "3""#,
            r#"accessRequestId eq "1" and (accessRequestId eq "2" or accessRequestId eq "3")"#,
            r#"accessRequestId eq "1" or (accessRequestId eq "2" or accessRequestId eq "3")"#,
            r#"not (accessRequestId eq "a\"\\" and created gt 2018-12-18T23:05:55.5+02:00)"#,
            r#"accountActivityItemId in ("x","y\"")"#,
        ] {
            let expr = parse(input);
            let printed = expr.to_string();
            assert_eq!(parse(&printed), expr, "{input} printed as {printed}");
        }
        assert_eq!(
            parse(r#"((accessRequestId eq "1") and ((accessRequestId eq "2")))"#).to_string(),
            r#"accessRequestId eq "1" and accessRequestId eq "2""#
        );
        assert_eq!(
            parse("created gt 2018-12-18T23:05:55.5+02:00").to_string(),
            "created gt 2018-12-18T21:05:55.500Z"
        );
    }

    #[test]
    fn evaluation_of_comparisons_the_parser_never_builds_is_false() {
        assert!(!cmp(Field::Created, Op::Sw, Value::DateTime(dt(CREATED))).matches(&row()));
        assert!(!cmp(Field::Created, Op::Eq, s(CREATED)).matches(&row()));
        assert!(!cmp(Field::AccessRequestId, Op::In, s(AR)).matches(&row()));
        assert!(!cmp(Field::AccessRequestId, Op::Eq, Value::List(vec![AR.into()])).matches(&row()));
    }

    /// Deterministic xorshift so the fuzz test is reproducible without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    fn check_no_panic(input: &str) {
        if let Ok(expr) = parse_filters(input) {
            expr.matches(&row());
            let printed = expr.to_string();
            if printed.chars().count() <= MAX_FILTER_LEN {
                assert_eq!(
                    parse_filters(&printed).as_ref(),
                    Ok(&expr),
                    "{input:?} -> {printed:?}"
                );
            }
        }
        let _ = parse_sorters(input);
    }

    #[test]
    fn fuzz_never_panics() {
        let valid = [
            r#"not accessRequestId eq "1" or accountActivityItemId in ("2", "3") and created gt 2018-12-18T23:05:55.5+02:00"#,
            r#"(accessRequestId sw "a\"\\" and (not created le "2020-01-01T00:00:00Z")) or accountActivityItemId ge "x""#,
            "created,-name, modified ,accountActivityItemId",
        ];
        // Every prefix and suffix of valid inputs, cut at every character.
        for input in valid {
            let chars: Vec<char> = input.chars().collect();
            for i in 0..=chars.len() {
                check_no_panic(&chars[..i].iter().collect::<String>());
                check_no_panic(&chars[i..].iter().collect::<String>());
            }
        }

        let pieces = [
            "accessRequestId",
            "accountActivityItemId",
            "created",
            "name",
            "eq",
            "ne",
            "gt",
            "ge",
            "lt",
            "le",
            "in",
            "sw",
            "co",
            "EQ",
            "and",
            "or",
            "not",
            "(",
            ")",
            ",",
            "\"",
            "\\",
            "\\\"",
            "\"a\"",
            "\"\\\\\"",
            " ",
            "\t",
            "2018-12-18T23:05:55Z",
            "-",
            "é",
            "\u{0}",
            "\u{feff}",
            "\u{3000}",
            "0",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            // Token soup: mostly well-formed words in random order.
            let n = rng.below(16);
            let soup: String = (0..n)
                .map(|_| {
                    let piece = pieces[rng.below(pieces.len())];
                    if rng.below(3) == 0 {
                        piece.to_string()
                    } else {
                        format!("{piece} ")
                    }
                })
                .collect();
            check_no_panic(&soup);

            // Raw bytes, lossily decoded as the query-string layer would.
            let bytes: Vec<u8> = (0..rng.below(40)).map(|_| rng.next() as u8).collect();
            check_no_panic(&String::from_utf8_lossy(&bytes));

            // A valid expression with one character replaced.
            let base: Vec<char> = valid[rng.below(2)].chars().collect();
            let mut mutated = base.clone();
            let i = rng.below(mutated.len());
            mutated[i] = char::from_u32(rng.below(0x80) as u32).unwrap_or('?');
            check_no_panic(&mutated.iter().collect::<String>());
        }
    }

    #[test]
    fn sorters_default_when_blank() {
        assert_eq!(parse_sorters("").unwrap(), vec![DEFAULT_SORT]);
        assert_eq!(parse_sorters("  \t").unwrap(), vec![DEFAULT_SORT]);
        assert_eq!(
            DEFAULT_SORT,
            SortKey {
                field: SortField::Created,
                descending: true
            }
        );
    }

    #[test]
    fn sorters_single_multiple_and_descending() {
        let key = |field, descending| SortKey { field, descending };
        assert_eq!(
            parse_sorters("name").unwrap(),
            vec![key(SortField::Name, false)]
        );
        assert_eq!(
            parse_sorters("-modified").unwrap(),
            vec![key(SortField::Modified, true)]
        );
        assert_eq!(
            parse_sorters("created,-name").unwrap(),
            vec![key(SortField::Created, false), key(SortField::Name, true)]
        );
        assert_eq!(
            parse_sorters("-accountActivityItemId,modified,-created,name").unwrap(),
            vec![
                key(SortField::AccountActivityItemId, true),
                key(SortField::Modified, false),
                key(SortField::Created, true),
                key(SortField::Name, false),
            ]
        );
    }

    #[test]
    fn sorters_trim_whitespace_around_elements() {
        assert_eq!(
            parse_sorters("  created , -name\t").unwrap(),
            vec![
                SortKey {
                    field: SortField::Created,
                    descending: false
                },
                SortKey {
                    field: SortField::Name,
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
