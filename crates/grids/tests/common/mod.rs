//! Fixture loading shared by the integration tests: descriptors straight from the librmn
//! manifests (grids.json + grids.bin), without the FST reader.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::panic)]

use std::path::PathBuf;
use std::sync::Arc;

use grids::{GridDescriptor, Positional};
use serde_json::Value;

pub fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fst-core/tests/fixtures/xdf")
}

pub struct Manifest {
    pub json: Value,
    pub blob: Vec<u8>,
}

impl Manifest {
    pub fn load(name: &str) -> Manifest {
        Manifest::load_path(&fixture_dir().join(format!("{name}.json")))
    }

    /// A manifest (`…/name.json`, with its blob `…/name.bin` when there is one).
    pub fn load_path(path: &std::path::Path) -> Manifest {
        let json: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        let blob = std::fs::read(path.with_extension("bin")).unwrap_or_default();
        Manifest { json, blob }
    }

    /// An f32 blob as f64 values.
    pub fn blob_f64(&self, r: &Value) -> Vec<f64> {
        let off = r["offset"].as_u64().unwrap() as usize;
        let nb = r["nbytes"].as_u64().unwrap() as usize;
        match r["dtype"].as_str().unwrap() {
            "f32" => self.blob[off..off + nb]
                .chunks_exact(4)
                .map(|c| f64::from(f32::from_le_bytes(c.try_into().unwrap())))
                .collect(),
            "f64" => self.blob[off..off + nb]
                .chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
            d => panic!("dtype {d}"),
        }
    }

    pub fn record(&self, idx: u64) -> &Value {
        self.json["records"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["index"] == idx)
            .unwrap()
    }

    /// (key, descriptor, manifest grid entry) for every grid.
    pub fn grids(&self) -> Vec<(String, GridDescriptor, Value)> {
        let mut out = vec![];
        for (key, g) in self.json["grids"].as_object().unwrap() {
            let grtyp = g["grtyp"].as_str().unwrap().as_bytes()[0];
            let u = |k: &str| g[k].as_u64().unwrap() as u32;
            let ig = [u("ig1"), u("ig2"), u("ig3"), u("ig4")];
            let positional = g.get("ref").map(|r| {
                let recs = &r["records"];
                let gr = r["grref"].as_str().unwrap().as_bytes()[0];
                let igr =
                    ["ig1ref", "ig2ref", "ig3ref", "ig4ref"].map(|k| r[k].as_u64().unwrap() as u32);
                let data = |name: &str| -> Arc<[f64]> {
                    match recs.get(name) {
                        Some(i) => self
                            .blob_f64(&self.record(i.as_u64().unwrap())["data"])
                            .into(),
                        None => Arc::from(Vec::new()),
                    }
                };
                if grtyp == b'U' {
                    Positional {
                        grtyp: gr,
                        ig: igr,
                        x: data("^>"),
                        y: Arc::from(Vec::new()),
                    }
                } else {
                    Positional {
                        grtyp: gr,
                        ig: igr,
                        x: data(">>"),
                        y: data("^^"),
                    }
                }
            });
            out.push((
                key.clone(),
                GridDescriptor {
                    grtyp,
                    ni: u("ni"),
                    nj: u("nj"),
                    ig,
                    positional,
                },
                g.clone(),
            ));
        }
        out
    }
}

/// Great-circle-ish error in degrees: |Δlat| and |Δlon|·cos(lat), the larger.
pub fn err_deg(lat_a: f64, lon_a: f64, lat_b: f64, lon_b: f64) -> f64 {
    let mut dl = (lon_a - lon_b).rem_euclid(360.0);
    if dl > 180.0 {
        dl = 360.0 - dl;
    }
    let c = lat_b
        .to_radians()
        .cos()
        .abs()
        .max(lat_a.to_radians().cos().abs());
    (lat_a - lat_b).abs().max(dl * c)
}
