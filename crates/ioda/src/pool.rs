//! io-pool file sets: one logical dataset written as `name_0000.nc4`, `name_0001.nc4`, ...

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Splits `dir/name_0003.nc4` into (`dir/name`, 3, `nc4`); `None` if the name has no
/// four-digit member suffix or is the reader's intermediate `*_prep_file_info*` file.
fn split_member_name(path: &Path) -> Option<(PathBuf, u32, String)> {
    let file_name = path.file_name()?.to_str()?;
    if file_name.contains("_prep_file_info") {
        return None;
    }
    let (stem, extension) = file_name.rsplit_once('.')?;
    let (base, digits) = stem.rsplit_once('_')?;
    if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) || base.is_empty() {
        return None;
    }
    let index = digits.parse().ok()?;
    Some((path.with_file_name(base), index, extension.to_owned()))
}

fn member_path(base: &Path, index: usize, extension: &str) -> PathBuf {
    let mut name = base
        .file_name()
        .map(std::ffi::OsStr::to_os_string)
        .unwrap_or_default();
    name.push(format!("_{index:04}.{extension}"));
    base.with_file_name(name)
}

/// The files of the dataset `path` names, in member order.
///
/// * `dir/name_NNNN.ext` (any member) → every `dir/name_0000.ext`, `_0001`, ... up to the
///   first gap;
/// * `dir/name.ext` that does not exist while `dir/name_0000.ext` does → that set;
/// * anything else → `[path]`.
pub fn io_pool_members(path: &Path, max_members: usize) -> Result<Vec<PathBuf>> {
    let (base, extension) = if let Some((base, _, extension)) = split_member_name(path) {
        (base, extension)
    } else {
        let Some((stem, extension)) = path
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.rsplit_once('.'))
        else {
            return Ok(vec![path.to_owned()]);
        };
        let base = path.with_file_name(stem);
        if path.exists() || !member_path(&base, 0, extension).exists() {
            return Ok(vec![path.to_owned()]);
        }
        (base, extension.to_owned())
    };
    let mut members = Vec::new();
    loop {
        let candidate = member_path(&base, members.len(), &extension);
        if !candidate.is_file() {
            break;
        }
        if members.len() >= max_members {
            return Err(Error::Limit {
                path: path.to_owned(),
                variable: None,
                what: "io-pool set members",
                found: members.len() as u64 + 1,
                limit: max_members as u64,
            });
        }
        members.push(candidate);
    }
    if members.is_empty() || !members.iter().any(|m| m == path) && path.exists() {
        // A member name whose set does not start at 0000 is read alone.
        return Ok(vec![path.to_owned()]);
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn member_names() {
        let (base, index, ext) = split_member_name(Path::new("/d/sondes_out_0002.nc4")).unwrap();
        assert_eq!(
            (base, index, ext.as_str()),
            (PathBuf::from("/d/sondes_out"), 2, "nc4")
        );
        assert!(split_member_name(Path::new("/d/sondes_prep_file_info_0000.nc4")).is_none());
        assert!(split_member_name(Path::new("/d/sondes_out.nc4")).is_none());
        assert!(split_member_name(Path::new("/d/sondes_out_12.nc4")).is_none());
        assert_eq!(
            member_path(Path::new("/d/a"), 11, "nc4"),
            PathBuf::from("/d/a_0011.nc4")
        );
    }
}
