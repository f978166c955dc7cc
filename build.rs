//! Stamps the build with its code version: BLAKE3 over the source that decides a
//! run's results — the engine's, the dock's and the harness's Rust files, the
//! manifests and `Cargo.lock` — as `DRYDOCK_CODE_VERSION` (16 hex digits). The same
//! source gives the same code version on any machine, profile or compiler flags
//! (which do not change results); any edit gives another. Sweep records carry it,
//! so a resumed sweep never reuses runs of other code and a comparison knows which
//! code made each side. Outside the workspace (the engine's and dock's sources not
//! beside this package) it is `unknown`.

use std::path::{Path, PathBuf};

/// Folders whose `.rs` files are hashed, and single files, relative to this package.
const SOURCE_FOLDERS: [&str; 3] = ["engine/src", "sim/src", "src"];
const SOURCE_FILES: [&str; 4] = ["Cargo.toml", "Cargo.lock", "engine/Cargo.toml", "sim/Cargo.toml"];

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    for path in SOURCE_FOLDERS.iter().chain(&SOURCE_FILES) {
        println!("cargo:rerun-if-changed={path}");
    }
    let version = code_version(&root).unwrap_or_else(|| "unknown".to_string());
    println!("cargo:rustc-env=DRYDOCK_CODE_VERSION={version}");
}

/// The hash of every source file, in sorted path order, each as its path (with `/`)
/// and its bytes; `None` when a folder or file is missing.
fn code_version(root: &Path) -> Option<String> {
    let mut files: Vec<PathBuf> = SOURCE_FILES.iter().map(PathBuf::from).collect();
    for folder in SOURCE_FOLDERS {
        rust_files(root, Path::new(folder), &mut files)?;
    }
    files.sort();
    let mut hasher = blake3::Hasher::new();
    for file in &files {
        let bytes = std::fs::read(root.join(file)).ok()?;
        let name = file.components().map(|part| part.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
        hasher.update(&(name.len() as u64).to_le_bytes());
        hasher.update(name.as_bytes());
        hasher.update(&(bytes.len() as u64).to_le_bytes());
        hasher.update(&bytes);
    }
    Some(hasher.finalize().to_hex()[..16].to_string())
}

/// Appends the `.rs` files under `root/folder` (relative to `root`).
fn rust_files(root: &Path, folder: &Path, files: &mut Vec<PathBuf>) -> Option<()> {
    for entry in std::fs::read_dir(root.join(folder)).ok()? {
        let relative = folder.join(entry.ok()?.file_name());
        if root.join(&relative).is_dir() {
            rust_files(root, &relative, files)?;
        } else if relative.extension().is_some_and(|extension| extension == "rs") {
            files.push(relative);
        }
    }
    Some(())
}
