//! Ctrl-C and SIGTERM (a shell, cron or a container stopping the run): the files and folders the CLI has made and
//! not finished, an output's temporary file and the private runtime folder, are removed before it exits with 130,
//! so an interrupted catalogue run leaves nothing of its own behind. Finished outputs stay.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::failure::EXIT_INTERRUPTED;

/// What to remove if the run is stopped now.
static UNFINISHED: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Installs the handler; without one (the platform refuses), a stop leaves things as the default signal would.
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        let unfinished = UNFINISHED.lock().map(|paths| paths.clone()).unwrap_or_default();
        for path in unfinished {
            let _ = if path.is_dir() { std::fs::remove_dir_all(&path) } else { std::fs::remove_file(&path) };
        }
        std::process::exit(i32::from(EXIT_INTERRUPTED));
    });
}

/// Keeps `path` on the list to remove until the guard is dropped (the file renamed into place, or removed).
pub fn unfinished(path: &Path) -> Unfinished {
    if let Ok(mut paths) = UNFINISHED.lock() {
        paths.push(path.to_path_buf());
    }
    Unfinished(path.to_path_buf())
}

pub struct Unfinished(PathBuf);

impl Drop for Unfinished {
    fn drop(&mut self) {
        if let Ok(mut paths) = UNFINISHED.lock() {
            paths.retain(|path| path != &self.0);
        }
    }
}
