//! `fst grid` (a record's grid: CRS, transform) and `fst coords` (its latitude/longitude
//! arrays as a `NumPy` `.npz`).

use std::io::Write;
use std::path::PathBuf;

use anyhow::{bail, Context};
use clap::Args;
use fst_core::{FstFile, Limits, OpenOptions, RecordIndex};
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
    // The grid is held to the limits the file is read with.
    let limits = Limits::DEFAULT;
    let file = FstFile::open_with(&src.file, OpenOptions::new().limits(limits))?;
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
    let grid = Grid::with_limits(
        &d,
        GridOptions {
            librmn_compat: src.librmn_compat,
        },
        &limits,
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

/// Write a record's latitude/longitude arrays, streamed into the archive: the only
/// per-point memory is the grid's own arrays, which `try_lat_lon` bounds by the limits.
pub(crate) fn run_coords(args: &CoordsArgs) -> anyhow::Result<()> {
    let src = &args.source;
    let grid = load(src)?;
    let (ni, nj) = grid.shape();
    let what = || format!("{}: record {}", src.file.display(), src.index);
    // A stored zip without zip64 holds members of at most 4 GiB: say so before computing.
    let member_bytes = (ni as u64).saturating_mul(nj as u64).saturating_mul(8);
    if member_bytes > u64::from(u32::MAX) - 4096 {
        bail!(
            "{}: {ni}x{nj} points make {member_bytes}-byte arrays, more than a .npz member \
             (4 GiB, no zip64) holds",
            what()
        );
    }
    let ll = grid.try_lat_lon().with_context(what)?;
    let shape = [nj as u64, ni as u64];
    let mut members = vec![];
    for (name, values) in [("lat.npy", &ll.lat), ("lon.npy", &ll.lon)] {
        let mut header = Vec::new();
        npy::write_header(&mut header, "<f8", &shape)?;
        members.push(Member {
            name,
            header,
            values,
        });
    }
    let cannot_write = || format!("cannot write {}", args.out.display());
    let file = std::fs::File::create(&args.out).with_context(cannot_write)?;
    let mut out = std::io::BufWriter::new(file);
    stored_zip(&members, &mut out).with_context(cannot_write)?;
    out.flush().with_context(cannot_write)?;
    Ok(())
}

/// One member of the archive: header bytes, then f64 values in little-endian order.
struct Member<'a> {
    name: &'a str,
    header: Vec<u8>,
    values: &'a [f64],
}

impl Member<'_> {
    /// The member's bytes, in pieces of at most 64 KiB, to `f`.
    fn each_piece(&self, mut f: impl FnMut(&[u8]) -> std::io::Result<()>) -> std::io::Result<()> {
        f(&self.header)?;
        let mut buf = vec![0u8; 8 << 13];
        for chunk in self.values.chunks(1 << 13) {
            for (d, v) in buf.chunks_exact_mut(8).zip(chunk) {
                d.copy_from_slice(&v.to_le_bytes());
            }
            f(buf.get(..8 * chunk.len()).unwrap_or_default())?;
        }
        Ok(())
    }

    fn size(&self) -> u64 {
        self.header.len() as u64 + 8 * self.values.len() as u64
    }

    fn crc(&self) -> u32 {
        let mut h = crc32fast::Hasher::new();
        // Hashing never fails.
        let _ = self.each_piece(|b| {
            h.update(b);
            Ok(())
        });
        h.finalize()
    }
}

/// Write a zip archive of uncompressed members (what `numpy.savez` writes), without zip64.
fn stored_zip(members: &[Member<'_>], out: &mut impl Write) -> anyhow::Result<()> {
    let mut written: u64 = 0;
    let mut central = Vec::new();
    for m in members {
        let size = u32::try_from(m.size()).context("array too large for a zip without zip64")?;
        let offset = u32::try_from(written).context("archive too large for a zip without zip64")?;
        let crc = m.crc();
        let name_len = u16::try_from(m.name.len()).context("member name too long")?;
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
        let mut local = 0x0403_4b50u32.to_le_bytes().to_vec();
        common(&mut local);
        local.extend_from_slice(m.name.as_bytes());
        out.write_all(&local)?;
        m.each_piece(|b| out.write_all(b))?;
        written += local.len() as u64 + m.size();
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        central.extend_from_slice(&20u16.to_le_bytes());
        common(&mut central);
        central.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
        central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(m.name.as_bytes());
    }
    let cd_offset = u32::try_from(written).context("archive too large for a zip without zip64")?;
    let cd_size = u32::try_from(central.len()).context("central directory too large")?;
    let n = u16::try_from(members.len()).context("too many members")?;
    out.write_all(&central)?;
    let mut end = 0x0605_4b50u32.to_le_bytes().to_vec();
    end.extend_from_slice(&[0u8; 4]); // disk numbers
    end.extend_from_slice(&n.to_le_bytes());
    end.extend_from_slice(&n.to_le_bytes());
    end.extend_from_slice(&cd_size.to_le_bytes());
    end.extend_from_slice(&cd_offset.to_le_bytes());
    end.extend_from_slice(&0u16.to_le_bytes());
    out.write_all(&end)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_check_value() {
        let m = Member {
            name: "x",
            header: b"123456789".to_vec(),
            values: &[],
        };
        assert_eq!(m.crc(), 0xCBF4_3926);
    }

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
        let values = vec![1.5f64; 9000];
        let members = [
            Member {
                name: "lat.npy",
                header: vec![1u8, 2, 3],
                values: &values,
            },
            Member {
                name: "lon.npy",
                header: vec![9u8; 70],
                values: &[],
            },
        ];
        let mut z = Vec::new();
        stored_zip(&members, &mut z).unwrap();
        let eocd = z.len() - 22;
        assert_eq!(u32_at(&z, eocd), 0x0605_4b50);
        assert_eq!(u16_at(&z, eocd + 10), 2);
        let (cd_size, mut cd) = (u32_at(&z, eocd + 12), u32_at(&z, eocd + 16));
        assert_eq!(cd + cd_size, eocd);
        for m in &members {
            let (name, mut data) = (m.name, m.header.clone());
            data.extend(m.values.iter().flat_map(|v| v.to_le_bytes()));
            let crc = {
                let mut h = crc32fast::Hasher::new();
                h.update(&data);
                h.finalize()
            };
            assert_eq!(u32_at(&z, cd), 0x0201_4b50);
            let n = u16_at(&z, cd + 28);
            assert_eq!(&z[cd + 46..cd + 46 + n], name.as_bytes());
            assert_eq!(u32_at(&z, cd + 16), crc as usize);
            let local = u32_at(&z, cd + 42);
            assert_eq!(u32_at(&z, local), 0x0403_4b50);
            let start = local + 30 + u16_at(&z, local + 26) + u16_at(&z, local + 28);
            assert_eq!(&z[start..start + data.len()], &data[..]);
            cd += 46 + n + u16_at(&z, cd + 30) + u16_at(&z, cd + 32);
        }
    }
}
