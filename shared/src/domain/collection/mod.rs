//! SailPoint's standard collection parameters, shared by every list
//! endpoint: `limit`, `offset`, `count`, `filters` (each endpoint with its
//! own [`filter::FilterSchema`]) and `sorters` (its own sortable fields).

use std::collections::BTreeMap;

use crate::error::ApiError;

pub mod filter;
pub mod plan;
pub mod sorters;

use filter::{Expr, FilterSchema, Row};
use sorters::SortKey;

/// `limit`: 0..=250, default 250.
pub const MAX_LIMIT: usize = 250;
/// `offset` is an int32 in the API.
const MAX_OFFSET: usize = i32::MAX as usize;

/// Paging of a list: what `limit`, `offset` and `count` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paging {
    pub limit: usize,
    pub offset: usize,
    /// Whether to answer the total in `X-Total-Count`.
    pub count: bool,
}

impl Default for Paging {
    fn default() -> Self {
        Self {
            limit: MAX_LIMIT,
            offset: 0,
            count: false,
        }
    }
}

impl Paging {
    /// The page of `rows` (already filtered and sorted), with their total.
    pub fn page<T>(&self, rows: Vec<T>) -> Page<T> {
        let total = rows.len();
        let items = rows
            .into_iter()
            .skip(self.offset)
            .take(self.limit)
            .collect();
        Page { items, total }
    }
}

/// One page of a list and the total before paging (what `X-Total-Count`
/// answers with `count=true`).
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: usize,
}

impl<T> Page<T> {
    /// The same page with each item turned into what the API answers;
    /// items `f` drops leave the total as it is.
    pub fn map<U>(self, f: impl FnMut(T) -> Option<U>) -> Page<U> {
        Page {
            items: self.items.into_iter().filter_map(f).collect(),
            total: self.total,
        }
    }
}

/// What a list query selects from `rows`: those its filter `keeps` (see
/// [`matches`]), in `order`, paged.
pub fn select<R>(
    rows: impl IntoIterator<Item = R>,
    keeps: impl Fn(&R) -> bool,
    order: impl Fn(&R, &R) -> std::cmp::Ordering,
    paging: &Paging,
) -> Page<R> {
    let mut rows: Vec<R> = rows.into_iter().filter(|r| keeps(r)).collect();
    rows.sort_by(|a, b| order(a, b));
    paging.page(rows)
}

/// Whether `row` passes `filters` (every row passes no filter).
pub fn matches(filters: Option<&Expr>, row: &dyn Row) -> bool {
    filters.is_none_or(|f| f.matches(row))
}

/// A list endpoint's query string parameters, read one by one; every problem
/// becomes one cause of the 400 that [`Params::finish`] answers.
pub struct Params<'a> {
    params: &'a BTreeMap<String, Vec<String>>,
    causes: Vec<String>,
}

impl<'a> Params<'a> {
    pub fn new(params: &'a BTreeMap<String, Vec<String>>) -> Self {
        Self {
            params,
            causes: Vec::new(),
        }
    }

    /// Records a problem of the caller's own.
    pub fn cause(&mut self, cause: impl Into<String>) {
        self.causes.push(cause.into());
    }

    /// A parameter given at most once (given twice: a cause).
    pub fn single(&mut self, name: &str) -> Option<String> {
        match self.params.get(name).map(Vec::as_slice) {
            None | Some([]) => None,
            Some([one]) => Some(one.clone()),
            Some(many) => {
                self.causes.push(format!(
                    "query parameter {name} is given {} times; give it at most once",
                    many.len()
                ));
                None
            }
        }
    }

    /// An identity parameter (`me` or an id): present but blank is a cause.
    pub fn identity(&mut self, name: &str) -> Option<String> {
        let value = self.single(name);
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            self.causes.push(format!(
                "query parameter {name} is empty; give an identity id or me"
            ));
        }
        value
    }

    /// A boolean parameter, `true` or `false` in any case.
    pub fn flag(&mut self, name: &str, default: bool) -> bool {
        match self.single(name).as_deref() {
            None => default,
            Some(v) if v.eq_ignore_ascii_case("true") => true,
            Some(v) if v.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                self.causes
                    .push(format!("{name} must be true or false; got {v:?}"));
                default
            }
        }
    }

    /// `limit`, `offset` and `count`.
    pub fn paging(&mut self) -> Paging {
        let defaults = Paging::default();
        let count = self.flag("count", false);
        let limit = self.bounded("limit", MAX_LIMIT).unwrap_or(defaults.limit);
        let offset = self
            .bounded("offset", MAX_OFFSET)
            .unwrap_or(defaults.offset);
        Paging {
            limit,
            offset,
            count,
        }
    }

    fn bounded(&mut self, name: &str, max: usize) -> Option<usize> {
        let value = self.single(name)?;
        match value.trim().parse::<i64>() {
            Ok(n) if (0..=max as i64).contains(&n) => Some(n as usize),
            _ => {
                self.causes.push(format!(
                    "{name} must be an integer between 0 and {max}; got {value:?}"
                ));
                None
            }
        }
    }

    /// `filters`, parsed against the endpoint's schema.
    pub fn filters(&mut self, schema: &'static FilterSchema) -> Option<Expr> {
        let text = self.single("filters")?;
        filter::parse_filters(&text, schema)
            .map_err(|e| self.causes.push(e.message))
            .ok()
    }

    /// `sorters` over the endpoint's sortable fields (default `-created`).
    pub fn sorters(&mut self, fields: &[&'static str]) -> Vec<SortKey> {
        let text = self.single("sorters");
        sorters::parse_sorters(text.as_deref().unwrap_or(""), fields).unwrap_or_else(|e| {
            self.causes.push(e.message);
            Vec::new()
        })
    }

    /// Ok when every parameter was fine; otherwise the 400 with every cause.
    pub fn finish(self) -> Result<(), ApiError> {
        if self.causes.is_empty() {
            Ok(())
        } else {
            Err(ApiError::BadRequest(self.causes))
        }
    }
}
