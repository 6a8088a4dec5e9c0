//! Reading the export: a CSV file, plain or gzip (by its `.gz` name or its magic bytes), with a
//! header row; fields may span lines inside quotes. Each row keeps the line it starts on, for
//! the reasons given for rejected rows.

use std::io::Read;
use std::path::Path;

use crate::mapping::Mapping;

/// The rows of a file, with the positions of the mapped columns.
pub struct Table {
    /// The file's header.
    pub header: csv::StringRecord,
    /// For each field of [`Mapping::columns`], its position in the header (None: an optional
    /// column the file lacks).
    pub positions: Vec<Option<usize>>,
    /// The rows: the line each starts on (1-based, the header is line 1) and its fields.
    pub rows: Vec<(u64, csv::StringRecord)>,
}

/// Why a file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The file cannot be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// Why.
        source: std::io::Error,
    },
    /// The CSV is malformed.
    #[error("{file}, line {line}: {message}")]
    Csv {
        /// The file.
        file: String,
        /// Where.
        line: u64,
        /// What.
        message: String,
    },
    /// A mapped column is not in the header.
    #[error("{file}: no column {column:?} (mapped to {field}); the columns found are: {found}")]
    MissingColumn {
        /// The file.
        file: String,
        /// The column the mapping names.
        column: String,
        /// The field it fills.
        field: &'static str,
        /// The header's columns, comma-separated.
        found: String,
    },
}

/// Reads `path` (plain or gzip CSV) for `mapping`.
pub fn read_file(path: &Path, mapping: &Mapping) -> Result<Table, ReadError> {
    let file = path.display().to_string();
    let io = |source| ReadError::Io { file: file.clone(), source };
    let mut bytes = Vec::new();
    std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes)).map_err(io)?;
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut plain = Vec::with_capacity(bytes.len() * 6);
        flate2::read::MultiGzDecoder::new(&bytes[..]).read_to_end(&mut plain).map_err(io)?;
        bytes = plain;
    }
    read_bytes(&file, &bytes, mapping)
}

/// Reads CSV text (`file` names it in errors).
pub fn read_bytes(file: &str, bytes: &[u8], mapping: &Mapping) -> Result<Table, ReadError> {
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(bytes);
    let csv_error = |e: csv::Error| ReadError::Csv {
        file: file.to_string(),
        line: e.position().map_or(0, |p| p.line()),
        message: match e.kind() {
            csv::ErrorKind::UnequalLengths { expected_len, len, .. } => {
                format!("{len} fields where the header has {expected_len}")
            }
            csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_string(),
            _ => e.to_string(),
        },
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    let mut positions = Vec::new();
    for (field, column) in mapping.columns() {
        match header.iter().position(|h| h.trim() == column) {
            Some(i) => positions.push(Some(i)),
            None if mapping.source.optional.iter().any(|o| o == column) => positions.push(None),
            None => {
                return Err(ReadError::MissingColumn {
                    file: file.to_string(),
                    column: column.to_string(),
                    field,
                    found: header.iter().collect::<Vec<_>>().join(", "),
                });
            }
        }
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, |p| p.line());
                rows.push((line, std::mem::take(&mut record)));
            }
            Err(e) => return Err(csv_error(e)),
        }
    }
    Ok(Table { header, positions, rows })
}
