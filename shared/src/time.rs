//! Timestamps as the service writes them: RFC 3339, UTC, millisecond precision
//! (`2019-08-23T18:52:59.162Z`). A fixed width also makes them sort as strings,
//! which the storage keys rely on.

use chrono::{DateTime, SecondsFormat, Utc};

/// The length of a formatted timestamp (`2019-08-23T18:52:59.162Z`) of
/// years 0000 to 9999.
pub const WIDTH: usize = 24;

/// Formats a timestamp the way every response and storage key does.
pub fn format(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Parses any RFC 3339 date-time into UTC.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Serde adapter for `DateTime<Utc>` in the millisecond format.
pub mod millis {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        super::parse(&s).ok_or_else(|| D::Error::custom(format!("not an RFC 3339 date-time: {s}")))
    }
}

/// Serde adapter for `Option<DateTime<Utc>>` in the millisecond format.
pub mod millis_opt {
    use chrono::{DateTime, Utc};
    use serde::{de::Error, Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(s) => super::parse(&s)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("not an RFC 3339 date-time: {s}"))),
        }
    }
}
