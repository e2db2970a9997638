//! Timestamps as the service writes them: RFC 3339, UTC, millisecond precision
//! (`2019-08-23T18:52:59.162Z`). A fixed width also makes them sort as strings,
//! which the storage keys rely on.

use chrono::{DateTime, SecondsFormat, Utc};

/// The length of a formatted timestamp (`2019-08-23T18:52:59.162Z`) of
/// years 0000 to 9999.
pub const WIDTH: usize = 24;

/// Formats a timestamp the way every response and storage key does.
pub fn format(t: &DateTime<Utc>) -> String {
    with_millis(t, str::to_owned)
}

/// Hands `t`, written as [`format`] writes it, to `f`: from a buffer on
/// the stack, so that serialising a timestamp allocates nothing.
fn with_millis<R>(t: &DateTime<Utc>, f: impl FnOnce(&str) -> R) -> R {
    let mut buf = Rfc3339::default();
    match buf.write(t, Fraction::Millis) {
        Some(text) => f(text),
        None => f(&t.to_rfc3339_opts(SecondsFormat::Millis, true)),
    }
}

/// How many digits of the second a timestamp is written with.
#[derive(Clone, Copy)]
enum Fraction {
    /// Always three (`SecondsFormat::Millis`).
    Millis,
    /// As few as hold it exactly: none, 3, 6 or 9 (`SecondsFormat::AutoSi`,
    /// what chrono's own `Serialize` writes).
    Auto,
}

/// A timestamp written without `core::fmt`, which is most of the cost of a
/// record's JSON: the same bytes as chrono's RFC 3339 writer for years 0 to
/// 9999 outside a leap second, and nothing otherwise (the caller falls
/// back to chrono).
#[derive(Default)]
struct Rfc3339 {
    bytes: [u8; 30],
}

impl Rfc3339 {
    fn write(&mut self, t: &DateTime<Utc>, fraction: Fraction) -> Option<&str> {
        // 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
        const FIRST: i64 = -62_167_219_200;
        const LAST: i64 = 253_402_300_799;
        let secs = t.timestamp();
        let nano = t.timestamp_subsec_nanos();
        if !(FIRST..=LAST).contains(&secs) || nano >= 1_000_000_000 {
            return None;
        }
        let (year, month, day) = civil_date(secs.div_euclid(86_400));
        let second_of_day = secs.rem_euclid(86_400) as u32;
        let b = &mut self.bytes;
        let mut put = |at: usize, width: usize, mut n: u32| {
            for i in (at..at + width).rev() {
                b[i] = b'0' + (n % 10) as u8;
                n /= 10;
            }
        };
        put(0, 4, year);
        put(5, 2, month);
        put(8, 2, day);
        put(11, 2, second_of_day / 3600);
        put(14, 2, second_of_day / 60 % 60);
        put(17, 2, second_of_day % 60);
        let digits = match fraction {
            Fraction::Millis => 3,
            Fraction::Auto if nano == 0 => 0,
            Fraction::Auto if nano.is_multiple_of(1_000_000) => 3,
            Fraction::Auto if nano.is_multiple_of(1_000) => 6,
            Fraction::Auto => 9,
        };
        if digits > 0 {
            put(20, digits, nano / 10u32.pow(9 - digits as u32));
        }
        let b = &mut self.bytes;
        b[4] = b'-';
        b[7] = b'-';
        b[10] = b'T';
        b[13] = b':';
        b[16] = b':';
        b[19] = b'.';
        let end = if digits > 0 { 20 + digits } else { 19 };
        b[end] = b'Z';
        std::str::from_utf8(&b[..=end]).ok()
    }
}

/// The proleptic Gregorian (year, month, day) of a day counted from
/// 1970-01-01, for years 0 to 9999 (H. Hinnant's `civil_from_days`: eras
/// of 400 years, each year counted from March so that the leap day ends
/// it).
fn civil_date(days: i64) -> (u32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year as u32, month as u32, day as u32)
}

/// Serde adapter for `DateTime<Utc>` as chrono's own `Serialize` writes it
/// (RFC 3339, `Z`, as many fraction digits as the value has), for stored
/// records: byte for byte the same JSON, without chrono's formatter.
pub mod rfc3339 {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        let mut buf = super::Rfc3339::default();
        match buf.write(t, super::Fraction::Auto) {
            Some(text) => s.serialize_str(text),
            None => t.serialize(s),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        DateTime::<Utc>::deserialize(d)
    }
}

/// [`rfc3339`] for `Option<DateTime<Utc>>`.
pub mod rfc3339_opt {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => super::rfc3339::serialize(t, s),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        Option::<DateTime<Utc>>::deserialize(d)
    }
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
        super::with_millis(t, |text| s.serialize_str(text))
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
            Some(t) => super::with_millis(t, |text| s.serialize_str(text)),
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDate, TimeZone};

    /// Timestamps at every fraction width, the ends of the fast writer's
    /// range, and outside it (years past 9999, before 0, a leap second).
    fn samples() -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..5_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % 400_000_000_000) as i64 - 62_000_000_000;
            let nano = match seed % 5 {
                0 => 0,
                1 => (seed >> 20) as u32 % 1000 * 1_000_000,
                2 => (seed >> 20) as u32 % 1_000_000 * 1_000,
                _ => (seed >> 20) as u32 % 1_000_000_000,
            };
            out.extend(Utc.timestamp_opt(secs, nano).single());
        }
        for (y, mo, d, h, mi, s, n) in [
            (0, 1, 1, 0, 0, 0, 0),
            (9999, 12, 31, 23, 59, 59, 999_999_999),
            (10_000, 1, 1, 0, 0, 0, 1_000_000),
            (-1, 12, 31, 23, 59, 59, 0),
            (2016, 12, 31, 23, 59, 59, 1_500_000_000),
            (2026, 12, 7, 19, 48, 56, 162_000_000),
        ] {
            let t = NaiveDate::from_ymd_opt(y, mo, d)
                .and_then(|date| date.and_hms_nano_opt(h, mi, s, n))
                .expect("a valid date-time");
            out.push(Utc.from_utc_datetime(&t));
        }
        out
    }

    #[test]
    fn format_writes_what_chrono_writes_with_milliseconds() {
        #[derive(serde::Serialize)]
        struct Answered {
            #[serde(with = "millis")]
            at: DateTime<Utc>,
            #[serde(with = "millis_opt")]
            maybe: Option<DateTime<Utc>>,
        }
        for t in samples() {
            let chrono = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(format(&t), chrono, "{t:?}");
            let answered = serde_json::to_string(&Answered {
                at: t,
                maybe: Some(t),
            })
            .unwrap();
            assert_eq!(
                answered,
                format!(r#"{{"at":"{chrono}","maybe":"{chrono}"}}"#)
            );
        }
    }

    #[test]
    fn records_serialise_timestamps_as_chronos_serialize_does() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Stored {
            #[serde(with = "rfc3339")]
            at: DateTime<Utc>,
            #[serde(with = "rfc3339_opt")]
            maybe: Option<DateTime<Utc>>,
        }
        #[derive(serde::Serialize)]
        struct Chrono {
            at: DateTime<Utc>,
            maybe: Option<DateTime<Utc>>,
        }
        for t in samples() {
            let ours = serde_json::to_string(&Stored {
                at: t,
                maybe: Some(t),
            })
            .unwrap();
            let theirs = serde_json::to_string(&Chrono {
                at: t,
                maybe: Some(t),
            })
            .unwrap();
            assert_eq!(ours, theirs);
            let back: Stored = serde_json::from_str(&ours).unwrap();
            assert_eq!((back.at, back.maybe), (t, Some(t)), "{ours}");
        }
        let none = serde_json::to_string(&Stored {
            at: DateTime::UNIX_EPOCH,
            maybe: None,
        })
        .unwrap();
        assert_eq!(none, r#"{"at":"1970-01-01T00:00:00Z","maybe":null}"#);
    }
}
