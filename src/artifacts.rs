//! Artifact retention: `drydock artifacts prune` keeps the newest N run folders and
//! then removes the oldest until the total is under a size budget, reporting every
//! folder's size. A run folder is one drydock wrote: it holds a `report.json` (a run
//! or a soak), a `sweep.json` (a sweep) or a `gate.json` (a gate and its evidence)
//! whose content is drydock's (a JSON object with the keys drydock writes there, so a
//! folder with some other tool's `report.json` is never taken for one), directly in
//! the artifacts folder or one level down (`artifacts/sweeps/<name>/`,
//! `artifacts/gates/<name>/`). Nothing else is ever touched, whatever folder is
//! named. "Newest" is the modification time of the run's `report.json` (of a sweep's
//! `runs.jsonl`, which grows as runs finish; of a gate's `gate.json`). This is an operator
//! command on real files, so it reads file times; nothing here feeds a simulation.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use thiserror::Error;

/// A run folder and its size.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFolder {
    /// The folder.
    pub path: PathBuf,
    /// Bytes of all files below it.
    pub bytes: u64,
    /// True when prune removed it.
    pub removed: bool,
}

/// What prune did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// Every run folder, newest first.
    pub folders: Vec<RunFolder>,
}

impl PruneReport {
    /// Bytes kept.
    pub fn kept_bytes(&self) -> u64 {
        self.folders.iter().filter(|folder| !folder.removed).map(|folder| folder.bytes).sum()
    }

    /// Bytes removed.
    pub fn removed_bytes(&self) -> u64 {
        self.folders.iter().filter(|folder| folder.removed).map(|folder| folder.bytes).sum()
    }
}

/// Failure while pruning.
#[derive(Debug, Error)]
#[error("cannot prune {path}: {source}; check the folder exists and is writable")]
pub struct PruneError {
    /// The path.
    pub path: PathBuf,
    /// The cause.
    #[source]
    pub source: std::io::Error,
}

/// Keeps the newest `keep` run folders in `dir`, then removes the oldest of those
/// until they total at most `max_bytes`. With `dry_run`, reports without removing.
pub fn prune(dir: &Path, keep: usize, max_bytes: u64, dry_run: bool) -> Result<PruneReport, PruneError> {
    let error = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PruneError { path, source }
    };
    let mut folders = Vec::new();
    for path in run_folders(dir).map_err(error(dir))? {
        let bytes = size_of(&path).map_err(error(&path))?;
        folders.push((newest_time(&path), path, bytes));
    }
    // Newest first; ties broken by name so the order is stable.
    folders.sort_by(|left, right| right.0.cmp(&left.0).then_with(|| left.1.cmp(&right.1)));
    let mut report =
        PruneReport { folders: folders.into_iter().map(|(_, path, bytes)| RunFolder { path, bytes, removed: false }).collect() };
    let mut kept_bytes = 0u64;
    for (index, folder) in report.folders.iter_mut().enumerate() {
        let over_budget = kept_bytes + folder.bytes > max_bytes;
        if index >= keep || (over_budget && index > 0) {
            folder.removed = true;
            if !dry_run {
                std::fs::remove_dir_all(&folder.path).map_err(error(&folder.path))?;
            }
        } else {
            kept_bytes += folder.bytes;
        }
    }
    Ok(report)
}

/// Files that mark a folder as one drydock wrote, with keys of the JSON object each
/// holds that drydock always writes: a run's or soak's report, a sweep's spec, a
/// gate's verdict.
const RUN_MARKERS: [(&str, [&str; 2]); 3] =
    [("report.json", ["fingerprint", "drydock_version"]), ("sweep.json", ["sweep", "params"]), ("gate.json", ["gate", "drydock_version"])];

/// Marker files larger than this are not drydock's (a day's report is ~100 kB).
const MARKER_BYTES_MAX: u64 = 64 * 1024 * 1024;

fn is_run_folder(path: &Path) -> bool {
    path.is_dir() && RUN_MARKERS.iter().any(|(marker, keys)| is_drydock_marker(&path.join(marker), keys))
}

/// True when `path` is a file holding a JSON object with every one of `keys`.
fn is_drydock_marker(path: &Path, keys: &[&str]) -> bool {
    let small_file = std::fs::metadata(path).is_ok_and(|metadata| metadata.is_file() && metadata.len() <= MARKER_BYTES_MAX);
    let object = small_file
        .then(|| std::fs::read(path).ok())
        .flatten()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok());
    object.is_some_and(|object| keys.iter().all(|key| object.contains_key(*key)))
}

/// Run folders directly in `dir` or one level down, in name order.
fn run_folders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for path in sorted_subfolders(dir)? {
        if is_run_folder(&path) {
            found.push(path);
        } else {
            found.extend(sorted_subfolders(&path)?.into_iter().filter(|inner| is_run_folder(inner)));
        }
    }
    Ok(found)
}

fn sorted_subfolders(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut folders = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() && !std::fs::symlink_metadata(&path)?.is_symlink() {
            folders.push(path);
        }
    }
    folders.sort();
    Ok(folders)
}

fn newest_time(folder: &Path) -> SystemTime {
    let target = ["report.json", "runs.jsonl", "sweep.json", "gate.json"].iter().map(|name| folder.join(name)).find(|path| path.is_file());
    let target = target.unwrap_or_else(|| folder.to_path_buf());
    std::fs::metadata(target).and_then(|metadata| metadata.modified()).unwrap_or(SystemTime::UNIX_EPOCH)
}

fn size_of(path: &Path) -> std::io::Result<u64> {
    let metadata = std::fs::symlink_metadata(path)?;
    if !metadata.is_dir() {
        return Ok(metadata.len());
    }
    let mut total = 0;
    for entry in std::fs::read_dir(path)? {
        total += size_of(&entry?.path())?;
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    /// The keys of a run's report that mark it as drydock's (the rest left out).
    const REPORT: &str = r#"{"scenario": "calm", "fingerprint": "ab12", "drydock_version": "0.1.0"}"#;

    fn run_folder(dir: &Path, name: &str, age_s: u64, bytes: usize) {
        let folder = dir.join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join("fills.csv"), vec![b'x'; bytes]).unwrap();
        std::fs::write(folder.join("report.json"), REPORT).unwrap();
        let report = std::fs::File::options().write(true).open(folder.join("report.json")).unwrap();
        report.set_modified(SystemTime::now() - Duration::from_secs(age_s)).unwrap();
    }

    #[test]
    fn keeps_the_newest_n_then_fits_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        for (index, name) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            run_folder(dir.path(), name, 100 * (index as u64 + 1), 1_000);
        }
        let report = prune(dir.path(), 3, u64::MAX, false).unwrap();
        let kept: Vec<String> = report
            .folders
            .iter()
            .filter(|folder| !folder.removed)
            .map(|folder| folder.path.file_name().unwrap().to_string_lossy().to_string())
            .collect();
        assert_eq!(kept, ["a", "b", "c"], "the three newest stay");
        assert!(!dir.path().join("d").exists() && !dir.path().join("e").exists());
        assert_eq!(report.removed_bytes(), 2_000 + 2 * REPORT.len() as u64);
        let report = prune(dir.path(), 10, 2_500 + 2 * REPORT.len() as u64, true).unwrap();
        assert_eq!(report.folders.iter().filter(|folder| folder.removed).count(), 1, "the oldest goes to fit 2.5 kB");
        assert!(dir.path().join("c").exists(), "a dry run removes nothing");
    }

    #[test]
    fn only_folders_drydock_wrote_are_candidates() {
        let dir = tempfile::tempdir().unwrap();
        run_folder(dir.path(), "calm-1001", 100, 1_000);
        // A sweep's folder one level down, and folders that are not drydock's.
        let sweep = dir.path().join("sweeps/spread");
        std::fs::create_dir_all(&sweep).unwrap();
        std::fs::write(sweep.join("sweep.json"), r#"{"sweep": {"name": "spread"}, "params": []}"#).unwrap();
        std::fs::write(sweep.join("runs.jsonl"), "").unwrap();
        let gate = dir.path().join("gates/promotion");
        std::fs::create_dir_all(gate.join("catalogue/calm")).unwrap();
        std::fs::write(gate.join("gate.json"), r#"{"gate": "promotion", "drydock_version": "0.1.0"}"#).unwrap();
        // Other tools' files of the same names: a coverage report, an empty file,
        // text that is not JSON, a JSON list; never candidates.
        for (folder, name, content) in [
            ("coverage", "report.json", r#"{"totals": {"percent_covered": 81.2}}"#),
            ("empty", "report.json", ""),
            ("text", "gate.json", "not json"),
            ("nested/list", "sweep.json", "[1, 2]"),
        ] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
            std::fs::write(dir.path().join(folder).join(name), content).unwrap();
        }
        std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
        std::fs::write(dir.path().join("src/main.rs"), "fn main() {}").unwrap();
        std::fs::create_dir_all(dir.path().join("notes")).unwrap();
        let report = prune(dir.path(), 0, u64::MAX, false).unwrap();
        let mut removed: Vec<&Path> = report.folders.iter().map(|folder| folder.path.as_path()).collect();
        removed.sort();
        assert_eq!(removed, [dir.path().join("calm-1001").as_path(), gate.as_path(), sweep.as_path()]);
        assert!(!sweep.exists() && !gate.exists() && !dir.path().join("calm-1001").exists());
        assert!(dir.path().join("src/main.rs").exists() && dir.path().join("notes").exists() && dir.path().join("sweeps").exists());
        for kept in ["coverage/report.json", "empty/report.json", "text/gate.json", "nested/list/sweep.json"] {
            assert!(dir.path().join(kept).exists(), "{kept} is not drydock's and stays");
        }
    }
}
