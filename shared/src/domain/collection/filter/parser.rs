//! Recursive descent over the tokens of `lexer`, checked against the
//! endpoint's [`FilterSchema`].

use chrono::{DateTime, Utc};

use super::lexer::{clip, Lexer, Token, TokenKind};
use super::{
    Expr, Field, FilterError, FilterSchema, Op, Value, ValueKind, FOREIGN_OPS, MAX_FILTER_DEPTH,
    MAX_FILTER_LEN,
};

/// Parses a `filters` query parameter (already URL-decoded).
pub fn parse_filters(input: &str, schema: &'static FilterSchema) -> Result<Expr, FilterError> {
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
        schema,
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

struct Parser {
    lexer: Lexer,
    peeked: Option<Token>,
    depth: usize,
    schema: &'static FilterSchema,
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
        let field = self
            .schema
            .field(&name)
            .ok_or_else(|| unknown_field(self.schema, &name, pos))?;

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

        let value = match (field.kind, op) {
            (_, Op::IsNull) => Value::Nothing,
            (ValueKind::DateTime, Op::Sw) => Value::Str(self.parse_string(field, op)?),
            (ValueKind::Text, Op::In) => Value::List(
                self.parse_list(field)?
                    .into_iter()
                    .map(|(s, _)| s)
                    .collect(),
            ),
            (ValueKind::DateTime, Op::In) => Value::Times(
                self.parse_list(field)?
                    .into_iter()
                    .map(|(text, pos)| datetime(field, &text, pos))
                    .collect::<Result<_, _>>()?,
            ),
            (ValueKind::DateTime, _) => Value::DateTime(self.parse_datetime(field, op)?),
            (ValueKind::Text, _) => Value::Str(self.parse_string(field, op)?),
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
        datetime(field, text, token.pos)
    }

    /// The entries of an `in (...)` list with their positions: double-quoted
    /// strings, or for date-time fields also unquoted words.
    fn parse_list(&mut self, field: Field) -> Result<Vec<(String, usize)>, FilterError> {
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
                TokenKind::Str(s) => items.push((s, token.pos)),
                TokenKind::Word(w) if field.kind == ValueKind::DateTime => items.push((w, token.pos)),
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

/// An RFC 3339 date-time, or the error naming the text and its position.
fn datetime(field: Field, text: &str, pos: usize) -> Result<DateTime<Utc>, FilterError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            FilterError::at(
                pos,
                format!(
                    "filters: '{}' at position {pos} is not a valid RFC 3339 date-time for field '{field}' (e.g. 2018-12-18T23:05:55Z)",
                    clip(text),
                ),
            )
        })
}

/// Why a word in field position is not a field, as precisely as can be told.
fn unknown_field(schema: &FilterSchema, name: &str, pos: usize) -> FilterError {
    let fields: Vec<&str> = schema.fields.iter().map(|f| f.as_str()).collect();
    let message = if name == "and" || name == "or" {
        format!("filters: '{name}' at position {pos} is missing its left-hand operand")
    } else if name == "pr" {
        // `pr field` is the standard's prefix presence test; no field here supports it.
        format!("filters: operator 'pr' at position {pos} is not supported by this endpoint")
    } else if Op::from_name(name).is_some() || FOREIGN_OPS.contains(&name) {
        format!("filters: expected a field name at position {pos} but found operator '{name}'")
    } else {
        let hint = match schema
            .fields
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
