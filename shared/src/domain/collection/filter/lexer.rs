//! Tokens of a `filters` expression.

use super::{FilterError, Op, FOREIGN_OPS};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum TokenKind {
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
pub(super) struct Token {
    pub(super) kind: TokenKind,
    pub(super) pos: usize,
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match &self.kind {
            TokenKind::LParen => "'('".to_string(),
            TokenKind::RParen => "')'".to_string(),
            TokenKind::Comma => "','".to_string(),
            TokenKind::Str(s) => format!("string \"{}\"", clip(s)),
            TokenKind::Word(w) => format!("'{}'", clip(w)),
            TokenKind::End => "end of input".to_string(),
        }
    }

    pub(super) fn is_keyword(&self, keyword: &str) -> bool {
        matches!(&self.kind, TokenKind::Word(w) if w == keyword)
    }

    /// Callers writing `AND` or `EQ` deserve to be told why it was not understood.
    pub(super) fn lowercase_hint(&self) -> &'static str {
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
pub(crate) fn clip(text: &str) -> String {
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

pub(super) struct Lexer {
    pub(super) chars: Vec<char>,
    pub(super) pos: usize,
}

impl Lexer {
    fn is_delimiter(c: char) -> bool {
        c.is_whitespace() || matches!(c, '(' | ')' | ',' | '"')
    }

    pub(super) fn next_token(&mut self) -> Result<Token, FilterError> {
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
