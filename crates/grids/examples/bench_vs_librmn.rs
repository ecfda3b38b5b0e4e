//! Times lat/lon generation (2,000,000 points) and the bulk inverse (one 256×256 tile) for the
//! grids of `bench_librmn.py`'s `bench_synthetic`, and prints JSON lines. The script
//! `bench/grids_vs_librmn.sh` runs librmn next to it and prints the ratios.
#![allow(clippy::unwrap_used, clippy::print_stdout, missing_docs)]

#[path = "../benches/support/defs.rs"]
mod defs;

use std::time::Instant;

use grids::{Grid, GridOptions};

fn best<F: FnMut()>(repeat: usize, mut f: F) -> f64 {
    (0..repeat)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let repeat: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(7);
    for (name, d) in defs::bench_grids() {
        // Like librmn's define + gdll: build the grid and compute into fresh arrays.
        let fresh = best(repeat, || {
            let g = Grid::new(&d, GridOptions::default()).unwrap();
            let ll = g.lat_lon();
            std::hint::black_box(&ll.lat[0]);
        });
        // Into re-used buffers (what a caller with its own buffers pays).
        let g = Grid::new(&d, GridOptions::default()).unwrap();
        let (ni, nj) = g.shape();
        let (mut lat, mut lon) = (vec![0.0; ni * nj], vec![0.0; ni * nj]);
        let into = best(repeat, || g.lat_lon_into(&mut lat, &mut lon).unwrap());
        let (qlon, qlat) = defs::tile_points(&lat, &lon);
        let (mut oi, mut oj) = (vec![0.0; qlon.len()], vec![0.0; qlon.len()]);
        let inv = best(repeat * 3, || {
            g.index_of_many(&qlon, &qlat, &mut oi, &mut oj).unwrap();
        });
        let inside = oi.iter().filter(|v| !v.is_nan()).count();
        println!(
            "{{\"grid\": \"{name}\", \"points\": {}, \"lat_lon_fresh_s\": {fresh:.6}, \
             \"lat_lon_into_s\": {into:.6}, \"index_of_many_65536_s\": {inv:.6}, \"inside\": {inside}}}",
            ni * nj
        );
    }
}
