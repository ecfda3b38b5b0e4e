//! Files of a data directory that are not data: names ignored quietly (hidden files, files
//! being written, editor temporaries, and the sidecars GDAL and QGIS write beside a dataset).
//! Any other file that cannot be opened is logged by the catalog build, once per file
//! version (`source::build_snapshot`).

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
}
