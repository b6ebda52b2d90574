//! Files the tool writes (saved plans, exported YAML) are written whole or not at all: the
//! text goes to a temporary file in the same folder, which is then renamed over the target.
//! A rename replaces a symbolic link or hard link at the target instead of writing through
//! it, and a reader never sees half a file. An interrupt that exits the process at once
//! first waits for the write in progress ([`block_writes`]), so no temporary file is left.

use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Held while a file is being written; an exiting interrupt takes it to wait for the write.
static WRITING: Mutex<()> = Mutex::new(());

/// Writes `text` to `path` through a temporary file in the same folder and a rename.
pub fn write(path: &Path, text: &str) -> std::io::Result<()> {
    let _writing = block_writes();
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)?;
    file.write_all(text.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Waits until no file is being written and keeps new writes from starting while the guard
/// lives: taken by [`write`] itself and by an interrupt before it exits the process.
pub fn block_writes() -> MutexGuard<'static, ()> {
    WRITING.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_replaces_the_file_and_leaves_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        write(&path, "one").unwrap();
        write(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symbolic_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("out.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        write(&link, "exported").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!link.symlink_metadata().unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "exported");
    }

    #[test]
    fn a_hard_link_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let link = dir.path().join("out.yaml");
        std::fs::hard_link(&target, &link).unwrap();
        write(&link, "exported").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "exported");
    }

    #[test]
    fn a_missing_folder_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write(&dir.path().join("no/such/file"), "x").is_err());
    }
}
