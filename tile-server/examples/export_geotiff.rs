//! Benchmark helper: write one FST record as a raw north-up float32 raster plus a GDAL VRT
//! (native CRS from grids, geotransform), so that `MapServer` and titiler can serve the very
//! same field from a `GeoTIFF` (`gdal_translate OUT.vrt OUT.tif`).
//!
//!     cargo run --release -p tile-server --example export_geotiff -- FILE NOMVAR OUT_PREFIX

use std::io::Write as _;

use tile_server::source::{decode_values, descriptor_of, FileVersion, OpenFile};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let [_, file, nomvar, out] = args.as_slice() else {
        return Err("usage: export_geotiff FILE NOMVAR OUT_PREFIX".into());
    };
    let path = std::path::PathBuf::from(file);
    let fst = fst_core::FstFile::open(&path)?;
    let rec = fst
        .records()
        .iter()
        .find(|r| r.nomvar.trimmed() == nomvar)
        .ok_or("no such record")?
        .clone();
    let grid = grids::Grid::new(&descriptor_of(&fst, &rec)?, grids::GridOptions::default())?;
    let gt = grid
        .geotransform()
        .ok_or("grid is not regular in its CRS")?;
    let proj = grid.proj_string()?;
    let of = OpenFile {
        path: path.clone(),
        version: FileVersion::of(&path)?,
        fst,
    };
    let v = decode_values(&of, &rec)?;
    let (ni, nj) = (rec.ni as usize, rec.nj as usize);
    // North up: GDAL line 0 is the record's last row.
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(ni * nj * 4)?;
    for j in (0..nj).rev() {
        for x in &v[j * ni..(j + 1) * ni] {
            bytes.extend_from_slice(&x.to_le_bytes());
        }
    }
    std::fs::write(format!("{out}.bin"), bytes)?;
    let g = gt.to_gdal();
    // Flip: origin at the top edge, negative dy.
    let top = g[3] + g[5] * nj as f64;
    let bin = std::path::Path::new(&format!("{out}.bin"))
        .file_name()
        .ok_or("bad out")?
        .to_string_lossy()
        .into_owned();
    let mut f = std::fs::File::create(format!("{out}.vrt"))?;
    write!(
        f,
        "<VRTDataset rasterXSize=\"{ni}\" rasterYSize=\"{nj}\">\n  <SRS>{proj}</SRS>\n  \
         <GeoTransform>{}, {}, 0, {top}, 0, {}</GeoTransform>\n  \
         <VRTRasterBand dataType=\"Float32\" band=\"1\" subClass=\"VRTRawRasterBand\">\n    \
         <SourceFilename relativeToVRT=\"1\">{bin}</SourceFilename>\n    <ImageOffset>0</ImageOffset>\n    \
         <PixelOffset>4</PixelOffset>\n    <LineOffset>{}</LineOffset>\n    <ByteOrder>LSB</ByteOrder>\n  </VRTRasterBand>\n</VRTDataset>\n",
        g[0],
        g[1],
        -g[5],
        ni * 4
    )?;
    println!("{proj}");
    Ok(())
}
