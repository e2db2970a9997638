//! The grammar, on the status endpoint's schema.

use super::*;
use crate::domain::access_requests::status::{
    ACCESS_REQUEST_ID, ACCOUNT_ACTIVITY_ITEM_ID, CREATED as CREATED_FIELD, FILTERS,
};

const AR: &str = "2c91808b6ef1d43e016efba0ce470904";
const AAI: &str = "2c9180835d2e5168015d32f890ca1581";
const CREATED: &str = "2020-06-01T12:00:00Z";

fn dt(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

struct TestRow {
    access_request_id: &'static str,
    account_activity_item_id: &'static str,
    created: DateTime<Utc>,
}

impl Row for TestRow {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "accessRequestId" => Some(FieldValue::Text(self.access_request_id)),
            "accountActivityItemId" => Some(FieldValue::Text(self.account_activity_item_id)),
            "created" => Some(FieldValue::DateTime(self.created)),
            _ => None,
        }
    }
}

fn row() -> TestRow {
    TestRow {
        access_request_id: AR,
        account_activity_item_id: AAI,
        created: dt(CREATED),
    }
}

fn parse_filters(input: &str) -> Result<Expr, FilterError> {
    super::parse_filters(input, &FILTERS)
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
    cmp(&ACCESS_REQUEST_ID, Op::Eq, s(v))
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
    (&ACCESS_REQUEST_ID, Op::Eq, r#"accessRequestId eq "2C91808B6EF1D43E016EFBA0CE470904""#, r#"accessRequestId eq "2c91808b6ef1d43e016efba0ce470905""#),
    (&ACCESS_REQUEST_ID, Op::Ne, r#"accessRequestId ne "other""#, r#"accessRequestId ne "2c91808b6ef1d43e016efba0ce470904""#),
    (&ACCESS_REQUEST_ID, Op::Gt, r#"accessRequestId gt "2C91808A""#, r#"accessRequestId gt "2c91808c""#),
    (&ACCESS_REQUEST_ID, Op::Ge, r#"accessRequestId ge "2c91808b6ef1d43e016efba0ce470904""#, r#"accessRequestId ge "3""#),
    (&ACCESS_REQUEST_ID, Op::Lt, r#"accessRequestId lt "2C91808C""#, r#"accessRequestId lt "2c91808b6ef1d43e016efba0ce470904""#),
    (&ACCESS_REQUEST_ID, Op::Le, r#"accessRequestId le "2c91808b6ef1d43e016efba0ce470904""#, r#"accessRequestId le "2c91808a""#),
    (&ACCESS_REQUEST_ID, Op::In, r#"accessRequestId in ("x", "2C91808B6EF1D43E016EFBA0CE470904")"#, r#"accessRequestId in ("x","y")"#),
    (&ACCESS_REQUEST_ID, Op::Sw, r#"accessRequestId sw "2C91808B""#, r#"accessRequestId sw "2c91808c""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Eq, r#"accountActivityItemId eq "2c9180835d2e5168015d32f890ca1581""#, r#"accountActivityItemId eq "2c9180835d2e5168015d32f890ca1582""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Ne, r#"accountActivityItemId ne "x""#, r#"accountActivityItemId ne "2C9180835D2E5168015D32F890CA1581""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Gt, r#"accountActivityItemId gt "2c9180835""#, r#"accountActivityItemId gt "2c9180836""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Ge, r#"accountActivityItemId ge "2C9180835D2E5168015D32F890CA1581""#, r#"accountActivityItemId ge "2c9180836""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Le, r#"accountActivityItemId le "2c9180836""#, r#"accountActivityItemId le "2c9180835""#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::In, r#"accountActivityItemId in ("2c9180835d2e5168015d32f890ca1581")"#, r#"accountActivityItemId in ("2c9180835d2e5168015d32f890ca158")"#),
    (&ACCOUNT_ACTIVITY_ITEM_ID, Op::Sw, r#"accountActivityItemId sw "2c9180835D""#, r#"accountActivityItemId sw "2c9180835d2e5168015d32f890ca15811""#),
    (&CREATED_FIELD, Op::Eq, "created eq 2020-06-01T14:00:00+02:00", "created eq 2020-06-01T12:00:00.001Z"),
    (&CREATED_FIELD, Op::Ne, "created ne 2020-06-01T12:00:01Z", "created ne 2020-06-01T12:00:00Z"),
    (&CREATED_FIELD, Op::Gt, "created gt 2018-12-18T23:05:55Z", "created gt 2020-06-01T12:00:00Z"),
    (&CREATED_FIELD, Op::Ge, "created ge 2020-06-01T12:00:00Z", "created ge 2020-06-01T12:00:00.000000001Z"),
    (&CREATED_FIELD, Op::Lt, "created lt 2020-06-01T12:00:00.5Z", "created lt 2020-06-01T07:00:00-05:00"),
    (&CREATED_FIELD, Op::Le, "created le 2020-06-01T07:00:00-05:00", "created le 2020-06-01T11:59:59.999Z"),
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
    for field in FILTERS.fields {
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
    for field in FILTERS.fields {
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
        for field in FILTERS.fields {
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
    let e =
        parse(r#"not accessRequestId eq "1" or accessRequestId eq "2" and accessRequestId eq "3""#);
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
        parse(r#"accessRequestId eq "1" and accessRequestId eq "2" and accessRequestId eq "3""#),
        and(and(ar_eq("1"), ar_eq("2")), ar_eq("3"))
    );
}

#[test]
fn parentheses_override_precedence_and_nest() {
    assert_eq!(
        parse(r#"accessRequestId eq "1" and (accessRequestId eq "2" or accessRequestId eq "3")"#),
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
            &ACCOUNT_ACTIVITY_ITEM_ID,
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
            &ACCESS_REQUEST_ID,
            Op::In,
            Value::List(vec!["a".into(), "b\"".into()])
        )
    );
    assert_eq!(
        parse(r#"accessRequestId in ("a")"#),
        cmp(&ACCESS_REQUEST_ID, Op::In, Value::List(vec!["a".into()]))
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
                &CREATED_FIELD,
                Op::Ge,
                Value::DateTime(dt("2018-12-18T23:05:55Z"))
            ),
            cmp(
                &CREATED_FIELD,
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
    assert!(!cmp(&CREATED_FIELD, Op::Sw, Value::DateTime(dt(CREATED))).matches(&row()));
    assert!(!cmp(&CREATED_FIELD, Op::Eq, s(CREATED)).matches(&row()));
    assert!(!cmp(&ACCESS_REQUEST_ID, Op::In, s(AR)).matches(&row()));
    assert!(!cmp(&ACCESS_REQUEST_ID, Op::Eq, Value::List(vec![AR.into()])).matches(&row()));
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
    let _ = crate::domain::collection::sorters::parse_sorters(
        input,
        crate::domain::access_requests::status::SORTERS,
    );
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

/// A schema with the postfix `isnull` and `sw` on a date-time, as the
/// completed-approvals fragment lists them.
const NULLABLE: FilterSchema = FilterSchema {
    fields: &[
        FieldSpec {
            name: "id",
            kind: ValueKind::Text,
            ops: &[Op::Eq, Op::IsNull],
        },
        FieldSpec {
            name: "modified",
            kind: ValueKind::DateTime,
            ops: &[Op::Gt, Op::Sw],
        },
    ],
};

struct Sparse {
    id: Option<&'static str>,
    modified: DateTime<Utc>,
}

impl Row for Sparse {
    fn value(&self, field: &str) -> Option<FieldValue<'_>> {
        match field {
            "id" => self.id.map(FieldValue::Text),
            "modified" => Some(FieldValue::DateTime(self.modified)),
            _ => None,
        }
    }
}

#[test]
fn isnull_is_postfix_and_true_for_an_absent_value() {
    let with = Sparse {
        id: Some("a1"),
        modified: dt("2026-11-20T09:30:00.250Z"),
    };
    let without = Sparse { id: None, ..with };
    let e = super::parse_filters("id isnull", &NULLABLE).unwrap();
    assert!(!e.matches(&with));
    assert!(e.matches(&without));
    let e = super::parse_filters(r#"not id isnull and id eq "A1""#, &NULLABLE).unwrap();
    assert!(e.matches(&with));
    assert!(!e.matches(&without));
    // It prints back as it parses.
    assert_eq!(e.to_string(), r#"not id isnull and id eq "A1""#);
    assert_eq!(super::parse_filters(&e.to_string(), &NULLABLE).unwrap(), e);
    // Only where a field lists it.
    let err = super::parse_filters("modified isnull", &NULLABLE).unwrap_err();
    assert!(err
        .message
        .contains("operator 'isnull' is not supported for field 'modified'"));
    // A value after it is not part of the comparison.
    let err = super::parse_filters(r#"id isnull "x""#, &NULLABLE).unwrap_err();
    assert!(err.message.contains("unexpected"), "{}", err.message);
}

#[test]
fn sw_on_a_date_time_matches_a_prefix_of_its_written_form() {
    let row = Sparse {
        id: None,
        modified: dt("2026-11-20T09:30:00.250Z"),
    };
    for (filter, expected) in [
        (r#"modified sw "2026-11""#, true),
        (r#"modified sw "2026-11-20t09""#, true),
        (r#"modified sw "2026-11-20T09:30:00.250Z""#, true),
        (r#"modified sw "2026-12""#, false),
        (
            r#"modified gt 2026-11-20T09:30:00Z and modified sw "2026""#,
            true,
        ),
    ] {
        let e = super::parse_filters(filter, &NULLABLE).unwrap();
        assert_eq!(e.matches(&row), expected, "{filter}");
        assert_eq!(super::parse_filters(&e.to_string(), &NULLABLE).unwrap(), e);
    }
    let err = super::parse_filters("modified sw 2026", &NULLABLE).unwrap_err();
    assert!(err.message.contains("double-quoted"), "{}", err.message);
}
