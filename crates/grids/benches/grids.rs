//! Criterion benchmarks: lat/lon generation per grid type (2,000,000 points, the grids of
//! `bench_librmn.py`'s `bench_synthetic`) and the bulk inverse `index_of_many` for one
//! 256×256 tile of points (the tile renderer's hot path, issue 3).
//! `bench/grids_vs_librmn.sh` prints the same figures beside librmn's.
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "support/defs.rs"]
mod defs;

use criterion::{criterion_group, criterion_main, Criterion};
use grids::{Grid, GridOptions};

fn lat_lon(c: &mut Criterion) {
    let mut g = c.benchmark_group("lat_lon_2M");
    g.sample_size(10);
    for (name, d) in defs::bench_grids() {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        let (ni, nj) = grid.shape();
        let (mut lat, mut lon) = (vec![0.0; ni * nj], vec![0.0; ni * nj]);
        g.bench_function(name, |b| {
            b.iter(|| grid.lat_lon_into(&mut lat, &mut lon).unwrap());
        });
    }
    g.finish();
}

fn index_of_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("index_of_many_256x256");
    for (name, d) in defs::bench_grids() {
        let grid = Grid::new(&d, GridOptions::default()).unwrap();
        let ll = grid.lat_lon();
        let (qlon, qlat) = defs::tile_points(&ll.lat, &ll.lon);
        let (mut oi, mut oj) = (vec![0.0; qlon.len()], vec![0.0; qlon.len()]);
        g.bench_function(name, |b| {
            b.iter(|| grid.index_of_many(&qlon, &qlat, &mut oi, &mut oj).unwrap());
        });
    }
    g.finish();
}

criterion_group!(benches, lat_lon, index_of_many);
criterion_main!(benches);
