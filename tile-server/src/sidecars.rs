//! Files of a data directory that are not data: names ignored quietly (hidden files, files
//! being written, editor temporaries, and the sidecars GDAL and QGIS write beside a dataset),
//! and the log of the other files that could not be opened, said once per file version
//! rather than on every catalog rebuild.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::source::FileVersion;

/// Name endings (lower case) of files that sit beside data without being data: GDAL's PAM
/// statistics (`.aux.xml`, written when QGIS computes a histogram), overviews, masks,
/// world files and projections, lock files, partial downloads and editor swap/backup files.
const SIDECAR_ENDINGS: [&str; 16] = [
    ".aux.xml",
    ".aux",
    ".ovr",
    ".msk",
    ".prj",
    ".wld",
    ".lock",
    ".lck",
    ".tmp",
    ".part",
    ".crdownload",
    ".swp",
    ".swo",
    ".swx",
    ".bak",
    ".orig",
];

/// Whether a directory entry named `name` is skipped without a word: hidden (`.x`, which
/// includes Emacs' `.#x` locks), an editor backup (`x~`, Emacs' `#x#`), or a sidecar.
/// Writers that write under such a name and rename into place are never seen half-written.
#[must_use]
pub fn ignored(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.starts_with('.')
        || name.ends_with('~')
        || (name.len() > 1 && name.starts_with('#') && name.ends_with('#'))
        || SIDECAR_ENDINGS.iter().any(|e| lower.ends_with(e))
}

/// Remembers which version of each skipped file was last reported, so that a rebuild (every
/// watcher event and the periodic rescan) does not repeat the warning for a file that has
/// not changed.
#[derive(Debug, Default)]
pub struct SkipLog {
    reported: Mutex<HashMap<PathBuf, Option<FileVersion>>>,
}

impl SkipLog {
    /// Warn about the skipped files of one rebuild whose current version has not been
    /// reported yet; forget the files no longer skipped (so a file that becomes unreadable
    /// again is reported again). Returns the paths warned about.
    pub fn report(&self, skipped: &[(PathBuf, String)]) -> Vec<PathBuf> {
        let mut seen = self
            .reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        seen.retain(|p, _| skipped.iter().any(|(s, _)| s == p));
        let mut out = Vec::new();
        for (p, why) in skipped {
            let version = FileVersion::of(p).ok();
            if seen.get(p) != Some(&version) {
                tracing::warn!("skipped {}: {why}", p.display());
                seen.insert(p.clone(), version);
                out.push(p.clone());
            }
        }
        out
    }

    /// Whether `path` is currently remembered as reported.
    #[must_use]
    pub fn knows(&self, path: &Path) -> bool {
        self.reported
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains_key(path)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn sidecars_and_temporaries_are_ignored() {
        for n in [
            "run.fst.aux.xml",
            "RUN.FST.AUX.XML",
            "run.fst.ovr",
            "run.fst.msk",
            "run.fst.lock",
            ".hidden",
            ".#run.fst",
            "#run.fst#",
            "run.fst~",
            "run.fst.swp",
            "run.fst.part",
            "run.fst.tmp",
        ] {
            assert!(ignored(n), "{n}");
        }
        for n in ["2026112012_000", "run.fst", "notes.txt", "#", "aux.xml.fst"] {
            assert!(!ignored(n), "{n}");
        }
    }

    #[test]
    fn a_skip_is_logged_once_per_file_version() {
        let dir = std::env::temp_dir().join(format!("fstgis-skiplog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let a = dir.join("a.txt");
        let b = dir.join("b.txt");
        std::fs::write(&a, b"not fst").unwrap();
        std::fs::write(&b, b"not fst either").unwrap();
        let log = SkipLog::default();
        let both = vec![(a.clone(), "no".to_string()), (b.clone(), "no".to_string())];
        assert_eq!(log.report(&both), vec![a.clone(), b.clone()]);
        // The next rebuilds see the same versions: nothing new to say.
        assert!(log.report(&both).is_empty());
        assert!(log.report(&both).is_empty());
        // A new version (another size) of one file is reported again, alone.
        std::fs::write(&a, b"still not an fst file").unwrap();
        assert_eq!(log.report(&both), vec![a.clone()]);
        // A file that stops being skipped is forgotten; skipped again, it is reported again.
        assert!(log.report(&both[1..]).is_empty());
        assert!(!log.knows(&a));
        assert_eq!(log.report(&both), vec![a.clone()]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
