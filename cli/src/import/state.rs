//! Where an interrupted import stopped: the byte offset and line of the next row, the counts
//! so far, and which file it was (size and modification time), so a changed file starts over.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::run::Summary;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportState {
    /// `customers` or `events` and the tenant: another import of the same file starts over.
    pub job: String,
    pub file_len: u64,
    pub file_modified_ms: i64,
    /// Byte offset and line of the next row to read.
    pub byte: u64,
    pub line: u64,
    pub record: u64,
    pub summary: Summary,
}

pub fn path_for(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".import-state");
    PathBuf::from(name)
}

/// The state of an earlier run of this `job` on this very file, if there is one.
pub fn load(file: &Path, job: &str, len: u64, modified_ms: i64) -> Option<ImportState> {
    let raw = std::fs::read(path_for(file)).ok()?;
    let s: ImportState = serde_json::from_slice(&raw).ok()?;
    (s.job == job && s.file_len == len && s.file_modified_ms == modified_ms).then_some(s)
}

/// Saves the state (written aside and renamed, so a crash leaves the old or the new one).
pub fn save(file: &Path, s: &ImportState) -> std::io::Result<()> {
    let path = path_for(file);
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, serde_json::to_vec(s).unwrap_or_default())?;
    std::fs::rename(tmp, path)
}

pub fn clear(file: &Path) {
    let _ = std::fs::remove_file(path_for(file));
}
