//! Reading labelled messages from CSV.
//!
//! Accepted layouts (UTF-8, header row, a `label` column in every case):
//!
//! * `text_segmented` — whitespace-separated tokens (pre-segmented; the training file);
//! * `text` — raw Chinese text;
//! * `subject` and `detail` — a raw message's subject and body (`sample_raw_labeled.csv`),
//!   joined with a newline into one raw text (subject first, as in the training data).
//!
//! Rows whose label or text is empty are skipped.

use std::path::Path;

use super::ClassifyError;

/// Reads `(text, label)` samples and whether the text is pre-segmented.
pub fn read_labeled_csv(path: impl AsRef<Path>) -> Result<(Vec<(String, String)>, bool), ClassifyError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|e| ClassifyError::Io { path: shown.clone(), source: e })?;
    read_labeled(file, &shown)
}

/// Like [`read_labeled_csv`], from any reader; `name` is used in error messages.
pub fn read_labeled(reader: impl std::io::Read, name: &str) -> Result<(Vec<(String, String)>, bool), ClassifyError> {
    let err = |msg: String| ClassifyError::Data { path: name.to_string(), msg };
    let mut rdr = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers: Vec<String> = rdr
        .headers()
        .map_err(|e| err(format!("cannot read the header row: {e}")))?
        .iter()
        .map(|h| h.trim_start_matches('\u{feff}').trim().to_string())
        .collect();
    let col = |name: &str| headers.iter().position(|h| h == name);
    let label = col("label").ok_or_else(|| err(format!("no `label` column (columns: {})", headers.join(","))))?;
    enum Text {
        One(usize),
        Two(usize, usize),
    }
    let (text, pre) = if let Some(i) = col("text_segmented") {
        (Text::One(i), true)
    } else if let Some(i) = col("text") {
        (Text::One(i), false)
    } else if let (Some(s), Some(d)) = (col("subject"), col("detail")) {
        (Text::Two(s, d), false)
    } else {
        return Err(err(format!(
            "no text column: need `text_segmented`, `text`, or `subject` and `detail` (columns: {})",
            headers.join(",")
        )));
    };
    let mut out = Vec::new();
    for (line, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| err(format!("record {}: {e}", line + 1)))?;
        let get = |i: usize| rec.get(i).unwrap_or("").trim();
        let l = get(label);
        let t = match text {
            Text::One(i) => get(i).to_string(),
            Text::Two(s, d) => {
                let (s, d) = (get(s), get(d));
                if s.is_empty() { d.to_string() } else { format!("{s}\n{d}") }
            }
        };
        if !l.is_empty() && !t.is_empty() {
            out.push((t, l.to_string()));
        }
    }
    Ok((out, pre))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts() {
        let (s, pre) = read_labeled("text_segmented,label\n小区 路灯,城乡建设\n".as_bytes(), "a").unwrap();
        assert!(pre);
        assert_eq!(s, vec![("小区 路灯".to_string(), "城乡建设".to_string())]);
        let (s, pre) = read_labeled("\u{feff}label,text\n教育文体,学校收费\n".as_bytes(), "b").unwrap();
        assert!(!pre);
        assert_eq!(s[0].0, "学校收费");
        let (s, pre) = read_labeled("id,subject,detail,label\n1,标题,正文,环境保护\n2,,,x\n".as_bytes(), "c").unwrap();
        assert!(!pre);
        assert_eq!(s, vec![("标题\n正文".to_string(), "环境保护".to_string())]);
    }

    #[test]
    fn missing_columns_are_explained() {
        let e = read_labeled("text,lab\na,b\n".as_bytes(), "f.csv").unwrap_err().to_string();
        assert!(e.contains("f.csv") && e.contains("label"), "{e}");
        let e = read_labeled("body,label\na,b\n".as_bytes(), "f.csv").unwrap_err().to_string();
        assert!(e.contains("text_segmented"), "{e}");
    }
}
