//! `predictions.jsonl`: one line per finished instance, the format the SWE-bench harness reads
//! with `--predictions_path`. Each line goes out in one write, so an interrupted run leaves
//! whole lines, and `--resume` skips exactly the instances that have one.

use std::collections::HashMap;
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub const FILE_NAME: &str = "predictions.jsonl";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    pub instance_id: String,
    pub model_name_or_path: String,
    /// The winner's unified diff; `""` when the instance has no winner.
    pub model_patch: String,
}

/// The predictions file of a run, open for appending.
pub struct Predictions {
    path: PathBuf,
    file: std::fs::File,
}

impl Predictions {
    /// Opens (or creates) the file; `fresh` empties it first. A last line without its newline
    /// (a write cut by a crash) is dropped, so the next append starts a line of its own.
    pub fn open(dir: &Path, fresh: bool) -> Result<Predictions, String> {
        let path = dir.join(FILE_NAME);
        let fail = |e: std::io::Error| format!("failed to open {}: {e}", path.display());
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(fresh)
            .open(&path)
            .map_err(fail)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(fail)?;
        let whole = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        if whole < bytes.len() {
            file.set_len(whole as u64).map_err(fail)?;
        }
        file.seek(std::io::SeekFrom::End(0)).map_err(fail)?;
        Ok(Predictions { path, file })
    }

    pub fn append(&mut self, prediction: &Prediction) -> Result<(), String> {
        let mut line = serde_json::to_string(prediction).map_err(|e| e.to_string())?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.flush())
            .map_err(|e| format!("failed to append to {}: {e}", self.path.display()))
    }
}

/// The predictions already written, by instance id. Lines that do not parse (a torn last line)
/// are left out: their instances run again.
pub fn read_predictions(dir: &Path) -> Result<HashMap<String, Prediction>, String> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(HashMap::new()),
        Err(e) => return Err(format!("failed to read {}: {e}", path.display())),
    };
    Ok(text
        .lines()
        .filter_map(|line| serde_json::from_str::<Prediction>(line).ok())
        .map(|p| (p.instance_id.clone(), p))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prediction(id: &str, patch: &str) -> Prediction {
        Prediction {
            instance_id: id.into(),
            model_name_or_path: "swiss".into(),
            model_patch: patch.into(),
        }
    }

    #[test]
    fn appends_round_trip_and_a_torn_line_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = Predictions::open(dir.path(), true).unwrap();
        file.append(&prediction("a", "diff --git a/x b/x\n"))
            .unwrap();
        drop(file);
        std::fs::OpenOptions::new()
            .append(true)
            .open(dir.path().join(FILE_NAME))
            .unwrap()
            .write_all(b"{\"instance_id\": \"b\", \"model_")
            .unwrap();
        let mut file = Predictions::open(dir.path(), false).unwrap();
        file.append(&prediction("c", "")).unwrap();
        let read = read_predictions(dir.path()).unwrap();
        assert_eq!(read.len(), 2);
        assert_eq!(read["a"], prediction("a", "diff --git a/x b/x\n"));
        assert_eq!(read["c"].model_patch, "");
        let text = std::fs::read_to_string(dir.path().join(FILE_NAME)).unwrap();
        assert_eq!(text.lines().count(), 2);
    }

    #[test]
    fn a_fresh_file_forgets_earlier_runs() {
        let dir = tempfile::tempdir().unwrap();
        Predictions::open(dir.path(), true)
            .unwrap()
            .append(&prediction("a", ""))
            .unwrap();
        Predictions::open(dir.path(), true).unwrap();
        assert!(read_predictions(dir.path()).unwrap().is_empty());
    }
}
