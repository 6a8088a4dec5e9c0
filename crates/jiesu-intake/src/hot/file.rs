//! Reading a message file from disk (offline tools: the `jiesu hot` command and the tests).

use super::Message;
use super::data::{DataError, read_messages};

/// Reads the message file at `path` (see [`super::data`] for the format).
pub fn load(path: impl AsRef<std::path::Path>) -> Result<Vec<Message>, DataError> {
    let path = path.as_ref();
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|cause| DataError::Io { path: shown.clone(), cause })?;
    read_messages(std::io::BufReader::new(file), &shown)
}
