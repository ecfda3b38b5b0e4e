//! `fst grid` (a record's grid: CRS, transform) and `fst coords` (its latitude/longitude
//! arrays as a `NumPy` `.npz`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use fst_core::{FstFile, RecordIndex};
use grids::{Grid, GridOptions};

use crate::npy;

/// Options shared by `grid` and `coords`.
#[derive(Args, Debug, Clone)]
pub(crate) struct GridSource {
    /// The file.
    file: PathBuf,
    /// The record's position in directory order (as `fst ls` shows it).
    #[arg(long)]
    index: u32,
    /// Reproduce librmn's documented quirks (U rotations quantised to 1/40°, Z-on-L negative
    /// `>>` wrapped before scaling) instead of the exact geometry.
    #[arg(long)]
    librmn_compat: bool,
}

/// `fst grid FILE --index N [--json]`.
#[derive(Args, Debug, Clone)]
pub(crate) struct GridArgs {
    #[command(flatten)]
    source: GridSource,
    /// Print one JSON object: `grtyp`, `ni`, `nj`, `proj`, `wkt`, `geotransform` (GDAL order,
    /// or null), `ref_grtyp` (or null); U grids add `subgrids` (and have null
    /// `proj`/`wkt`/`geotransform`).
    #[arg(long)]
    json: bool,
}

/// `fst coords FILE --index N --out F.npz`.
#[derive(Args, Debug, Clone)]
pub(crate) struct CoordsArgs {
    #[command(flatten)]
    source: GridSource,
    /// Output `.npz` with float64 arrays `lat` and `lon`, shape (nj, ni), i fastest (U grids:
    /// (2·`nj_sub`, ni), Yin rows then Yang rows, as in the record).
    #[arg(long)]
    out: PathBuf,
}

fn load(src: &GridSource) -> anyhow::Result<Grid> {
    let file = FstFile::open(&src.file)?;
    let Some(rec) = file.record(RecordIndex(src.index)) else {
        bail!(
            "{}: no record {} (the file has {})",
            src.file.display(),
            src.index,
            file.records().len()
        );
    };
    let d = grids::fst::descriptor_from_record(&file, rec)
        .with_context(|| format!("{}: record {}", src.file.display(), src.index))?;
    let grid = Grid::new(
        &d,
        GridOptions {
            librmn_compat: src.librmn_compat,
        },
    )
    .with_context(|| format!("{}: record {}", src.file.display(), src.index))?;
    Ok(grid)
}

/// Print a record's grid.
pub(crate) fn run_grid(args: &GridArgs) -> anyhow::Result<()> {
    let grid = load(&args.source)?;
    let (ni, nj) = grid.shape();
    let gt = |g: Option<grids::GeoTransform>| g.map(|g| g.to_gdal().to_vec());
    let (proj, wkt, subgrids) = if grid.subgrid_count() > 1 {
        let mut subs = vec![];
        for k in 0..grid.subgrid_count() {
            let crs = grid.subgrid_crs(k)?;
            subs.push(serde_json::json!({
                "name": if k == 0 { "yin" } else { "yang" },
                "rows": [k * nj / 2, (k + 1) * nj / 2],
                "proj": crs.proj,
                "wkt": crs.wkt,
                "geotransform": gt(grid.subgrid_geotransform(k)),
            }));
        }
        (None, None, Some(subs))
    } else {
        let crs = grid.crs()?;
        (Some(crs.proj), Some(crs.wkt), None)
    };
    let mut out = std::io::stdout().lock();
    if args.json {
        let mut v = serde_json::json!({
            "grtyp": grid.grtyp().to_string(),
            "ni": ni,
            "nj": nj,
            "proj": proj,
            "wkt": wkt,
            "geotransform": gt(grid.geotransform()),
            "ref_grtyp": grid.ref_grtyp().map(|c| c.to_string()),
        });
        if let (Some(subs), Some(obj)) = (subgrids, v.as_object_mut()) {
            obj.insert("subgrids".into(), serde_json::Value::Array(subs));
        }
        writeln!(out, "{v}")?;
    } else {
        writeln!(
            out,
            "grid type   {}{}",
            grid.grtyp(),
            grid.ref_grtyp()
                .map(|r| format!(" (on {r})"))
                .unwrap_or_default()
        )?;
        writeln!(out, "shape       {ni} x {nj}")?;
        match (&proj, &subgrids) {
            (Some(p), _) => writeln!(out, "proj        {p}")?,
            (None, Some(subs)) => {
                for s in subs {
                    writeln!(
                        out,
                        "proj ({})  {}",
                        s["name"].as_str().unwrap_or("?"),
                        s["proj"].as_str().unwrap_or("?")
                    )?;
                }
            }
            _ => {}
        }
        for k in 0..grid.subgrid_count() {
            let label = if grid.subgrid_count() > 1 {
                format!(" ({k})")
            } else {
                String::new()
            };
            match grid.subgrid_geotransform(k) {
                Some(g) => writeln!(
                    out,
                    "transform{label}   x = {} + i·{}, y = {} + j·{} (point centres, 0-based)",
                    g.x0, g.dx, g.y0, g.dy
                )?,
                None => writeln!(
                    out,
                    "transform{label}   none (not regular in its CRS: use `fst coords`)"
                )?,
            }
        }
    }
    Ok(())
}

/// Write a record's latitude/longitude arrays.
pub(crate) fn run_coords(args: &CoordsArgs) -> anyhow::Result<()> {
    let grid = load(&args.source)?;
    let (ni, nj) = grid.shape();
    let ll = grid.lat_lon();
    let shape = [nj as u64, ni as u64];
    let mut members = vec![];
    for (name, values) in [("lat.npy", &ll.lat), ("lon.npy", &ll.lon)] {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut buf = Vec::new();
        npy::write_array(&mut buf, "<f8", &shape, &bytes)?;
        members.push((name, buf));
    }
    let zip = stored_zip(&members)?;
    std::fs::write(&args.out, zip)
        .with_context(|| format!("cannot write {}", args.out.display()))?;
    Ok(())
}

/// A zip archive of uncompressed members (what `numpy.savez` writes), without zip64.
fn stored_zip(members: &[(&str, Vec<u8>)]) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, data) in members {
        let size = u32::try_from(data.len()).context("array too large for a zip without zip64")?;
        let offset =
            u32::try_from(out.len()).context("archive too large for a zip without zip64")?;
        let crc = crc32fast::hash(data);
        let name_len = u16::try_from(name.len()).context("member name too long")?;
        // Version 2.0, no flags, stored, time 00:00, date 1980-01-01.
        let common = |v: &mut Vec<u8>| {
            v.extend_from_slice(&20u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
            v.extend_from_slice(&0x21u16.to_le_bytes());
            v.extend_from_slice(&crc.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&size.to_le_bytes());
            v.extend_from_slice(&name_len.to_le_bytes());
            v.extend_from_slice(&0u16.to_le_bytes());
        };
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        common(&mut out);
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(data);
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        central.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(name.as_bytes());
    }
    let cd_offset =
        u32::try_from(out.len()).context("archive too large for a zip without zip64")?;
    let cd_size = u32::try_from(central.len()).context("central directory too large")?;
    let n = u16::try_from(members.len()).context("too many members")?;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // disk numbers
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u16_at(b: &[u8], o: usize) -> usize {
        usize::from(u16::from_le_bytes([b[o], b[o + 1]]))
    }

    fn u32_at(b: &[u8], o: usize) -> usize {
        u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]) as usize
    }

    /// Walk the archive the way a zip reader does: end record → central directory → local
    /// headers → data.
    #[test]
    fn stored_zip_is_readable() {
        let members = [("lat.npy", vec![1u8, 2, 3]), ("lon.npy", vec![9u8; 70])];
        let z = stored_zip(&members).unwrap();
        let eocd = z.len() - 22;
        assert_eq!(u32_at(&z, eocd), 0x0605_4b50);
        assert_eq!(u16_at(&z, eocd + 10), 2);
        let (cd_size, mut cd) = (u32_at(&z, eocd + 12), u32_at(&z, eocd + 16));
        assert_eq!(cd + cd_size, eocd);
        for (name, data) in &members {
            assert_eq!(u32_at(&z, cd), 0x0201_4b50);
            let n = u16_at(&z, cd + 28);
            assert_eq!(&z[cd + 46..cd + 46 + n], name.as_bytes());
            assert_eq!(u32_at(&z, cd + 16), crc32fast::hash(data) as usize);
            let local = u32_at(&z, cd + 42);
            assert_eq!(u32_at(&z, local), 0x0403_4b50);
            let start = local + 30 + u16_at(&z, local + 26) + u16_at(&z, local + 28);
            assert_eq!(&z[start..start + data.len()], &data[..]);
            cd += 46 + n + u16_at(&z, cd + 30) + u16_at(&z, cd + 32);
        }
    }
}
