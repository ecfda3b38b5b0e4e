//! Benchmark helper: time each stage of the tile pipeline (locate, sample, colour, PNG) on the
//! first field of a file, over the tiles of zoom levels ZMIN..=ZMAX (default 4–6) that
//! intersect it.
//!
//!     cargo run --release -p tile-server --example render_timing -- FILE [STYLE [ZMIN ZMAX]]

use std::time::Instant;

use tile_server::config::Config;
use tile_server::render::{self, tile_bbox, OutputCrs};
use tile_server::source::decode_slice;
use tile_server::styles::StyleOverrides;
use tile_server::AppState;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).ok_or("usage: render_timing FILE [STYLE]")?;
    let mut c = Config::with_data(vec![file.into()]);
    c.watch.enabled = false;
    let state = AppState::new(c)?;
    let snap = state.snapshot();
    let layer = snap.layers.values().next().ok_or("no layer")?;
    let style = state
        .styles
        .get(args.get(2).map_or("temperature", String::as_str))
        .ok_or("no style")?
        .clone();
    let field = decode_slice(&layer.slices[0])?;
    let cm = style.color_map(&StyleOverrides::default());
    let mut t = [0.0f64; 4];
    let mut n = 0;
    let zoom = |k: usize, d: u8| args.get(k).and_then(|a| a.parse().ok()).unwrap_or(d);
    let (zmin, zmax) = (zoom(3, 4), zoom(4, 6));
    for z in zmin..=zmax {
        let m = 1u32 << z;
        for x in 0..m {
            for y in 0..m {
                let bbox = tile_bbox(z, x, y);
                let t0 = Instant::now();
                let px = render::locate(&layer.grid, OutputCrs::WebMercator, bbox, 256, 256)?;
                if px.i.iter().all(|v| v.is_nan()) {
                    continue;
                }
                let t1 = Instant::now();
                let v = render::sample_field(&px, &field, style.sampling);
                let t2 = Instant::now();
                let rgba = render::colorize(&px, &v, &cm);
                let t3 = Instant::now();
                let png = render::encode_png(&rgba, 256, 256)?;
                let t4 = Instant::now();
                std::hint::black_box(png);
                for (k, (a, b)) in [(t0, t1), (t1, t2), (t2, t3), (t3, t4)].iter().enumerate() {
                    t[k] += (*b - *a).as_secs_f64() * 1e3;
                }
                n += 1;
            }
        }
    }
    let n = f64::from(n);
    println!(
        "{n} tiles: locate {:.3} ms, sample {:.3} ms, colour {:.3} ms, png {:.3} ms per tile",
        t[0] / n,
        t[1] / n,
        t[2] / n,
        t[3] / n
    );
    Ok(())
}
