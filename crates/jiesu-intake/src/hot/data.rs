//! Messages from CSV: the Teddy Cup 2020 C hot-message file (`id,user,subject,time,detail,
//! dislikes,likes`) or any file with those columns (`text` may stand for `detail`; `subject`,
//! `user`, `likes` and `dislikes` may be missing). Times are `YYYY/M/D H:MM:SS` or
//! `YYYY-MM-DD HH:MM:SS` (seconds optional), local time in Asia/Shanghai.
//!
//! A missing column is an error naming the columns found; a row that cannot be read (bad time,
//! bad count, wrong number of fields) is an error naming its line, so nothing is dropped silently.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;

use super::Message;

/// Why a message file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be opened or read.
    #[cfg(feature = "tools")]
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// The cause (shown in the message, not chained again).
        cause: std::io::Error,
    },
    /// A required column is missing.
    #[error("{name}: no column {missing} (columns found: {found}); needed: id, time, detail or text")]
    Columns {
        /// The file.
        name: String,
        /// The missing column.
        missing: &'static str,
        /// The header as read.
        found: String,
    },
    /// A row is malformed.
    #[error("{name}, line {line}: {why}")]
    Row {
        /// The file.
        name: String,
        /// Line number (1 = header).
        line: u64,
        /// What is wrong.
        why: String,
    },
    /// The file holds no message.
    #[error("{name}: no messages")]
    Empty {
        /// The file.
        name: String,
    },
}

/// Parses a local time in Asia/Shanghai.
pub fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let formats = ["%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M"];
    let naive = formats.iter().find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())?;
    Shanghai.from_local_datetime(&naive).earliest().map(|t| t.with_timezone(&Utc))
}

/// Reads messages from CSV text (see the module docs); `name` names the source in errors.
pub fn read_messages(reader: impl std::io::Read, name: &str) -> Result<Vec<Message>, DataError> {
    let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(reader);
    let row_err = |line: u64, why: String| DataError::Row { name: name.to_string(), line, why };
    let header: Vec<String> = csv
        .headers()
        .map_err(|e| row_err(1, e.to_string()))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_lowercase())
        .collect();
    let col = |names: &[&str]| names.iter().find_map(|n| header.iter().position(|h| h == n));
    let missing = |missing: &'static str| DataError::Columns {
        name: name.to_string(),
        missing,
        found: if header.is_empty() { "none".to_string() } else { header.join(", ") },
    };
    let id = col(&["id"]).ok_or_else(|| missing("id"))?;
    let time = col(&["time"]).ok_or_else(|| missing("time"))?;
    let text = col(&["detail", "text"]).ok_or_else(|| missing("detail"))?;
    let (subject, user, likes, dislikes) = (col(&["subject"]), col(&["user"]), col(&["likes"]), col(&["dislikes"]));
    let mut out = Vec::new();
    for record in csv.records() {
        let record = record.map_err(|e| row_err(e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: Option<usize>| i.and_then(|i| record.get(i)).unwrap_or("");
        let count = |i: Option<usize>, what: &str| -> Result<u32, DataError> {
            let v = field(i).trim();
            if v.is_empty() {
                return Ok(0);
            }
            v.parse().map_err(|_| row_err(line, format!("{what} is not a count: {v:?}")))
        };
        let raw_time = field(Some(time));
        let at = parse_time(raw_time).ok_or_else(|| {
            row_err(line, format!("time {raw_time:?} is not YYYY/M/D H:MM:SS or YYYY-MM-DD HH:MM:SS"))
        })?;
        let id = field(Some(id)).trim().to_string();
        if id.is_empty() {
            return Err(row_err(line, "empty id".to_string()));
        }
        out.push(Message {
            id,
            at,
            subject: field(subject).to_string(),
            text: field(Some(text)).to_string(),
            user: field(user).to_string(),
            likes: count(likes, "likes")?,
            dislikes: count(dislikes, "dislikes")?,
            places: Vec::new(),
        });
    }
    if out.is_empty() {
        return Err(DataError::Empty { name: name.to_string() });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn teddy_rows_are_read_with_both_time_formats() {
        let csv = "\u{feff}id,user,subject,time,detail,dislikes,likes\n\
                   1,A01,丽发新城搅拌站,2019/11/2 9:05:00,\"噪音,灰尘\",0,3\n\
                   2,A02,魅力之城油烟,2019-07-28 21:00:00,油烟扰民,1,\n";
        let m = read_messages(csv.as_bytes(), "t.csv").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].text, "噪音,灰尘");
        assert_eq!((m[0].likes, m[1].likes, m[1].dislikes), (3, 0, 1));
        assert_eq!(m[0].at.to_rfc3339(), "2019-11-02T01:05:00+00:00", "Asia/Shanghai is UTC+8");
    }

    #[test]
    fn a_missing_column_names_the_columns_found() {
        let e = read_messages("id,subject,when\n1,a,b\n".as_bytes(), "x.csv").unwrap_err().to_string();
        assert!(e.contains("no column time") && e.contains("id, subject, when"), "{e}");
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let e = read_messages("id,time,detail\n1,2019/1/1 1:00:00,a\n2,yesterday,b\n".as_bytes(), "x.csv")
            .unwrap_err()
            .to_string();
        assert!(e.contains("line 3") && e.contains("yesterday"), "{e}");
        let e = read_messages("id,time,detail\n".as_bytes(), "x.csv").unwrap_err().to_string();
        assert!(e.contains("no messages"), "{e}");
    }
}
