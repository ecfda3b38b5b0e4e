//! A small file of model levels with its vertical descriptors (`!!`, `HY`, `PT`), for the
//! CLI's tests.

use std::path::Path;

use fst_core::Container;

/// A file of model levels on an L grid: TT on two hybrid levels, UU on one sigma level, a
/// surface P0, a `!!` descriptor, GEM 3's `HY` and a `PT` field.
///
/// # Panics
/// When the file cannot be written: a test that needs it cannot go on.
#[allow(clippy::expect_used)] // test support: a failure to write is the test's failure
pub fn write_model_levels_file(path: &Path) {
    use fst_core::codec::SamplesRef;
    use fst_core::ip::{encode_ip, IpStyle, LevelKind};
    use fst_core::record::Datyp;
    use fst_core::vertical::{Vcode, VerticalDescriptor, VerticalLevel};
    use fst_core::write::{FstWriter, RecordKeys, WriteOptions};

    let hyb =
        |v| encode_ip(v, LevelKind::Hybrid, IpStyle::New).expect("writing the model-levels file");
    let mut w = FstWriter::create(path, WriteOptions::new(Container::Xdf))
        .expect("writing the model-levels file");
    let field = |nomvar: &str, ip1| RecordKeys {
        nomvar: nomvar.into(),
        ip1,
        grtyp: b'L',
        ig1: 100,
        ig2: 100,
        ig3: 9000,
        ig4: 0,
        ni: 3,
        nj: 2,
        nk: 1,
        ..RecordKeys::default()
    };
    let values = [250.0f32; 6];
    let sigma =
        encode_ip(0.5, LevelKind::Sigma, IpStyle::Old).expect("writing the model-levels file");
    for (nomvar, ip1) in [("TT", hyb(0.5)), ("TT", hyb(1.0)), ("UU", sigma), ("P0", 0)] {
        let keys = field(nomvar, ip1);
        w.write(&keys, SamplesRef::F32(&values), None, Datyp(5), 32)
            .expect("writing the model-levels file");
    }
    let mut d = VerticalDescriptor::new(Vcode::HYBRID);
    (d.ptop, d.pref, d.rcoef[0]) = (Some(1000.0), Some(80000.0), Some(1.6));
    d.momentum = [0.5, 1.0]
        .map(|h| VerticalLevel {
            ip1: hyb(h),
            a: 0.0,
            b: f64::from(h),
            c: 0.0,
        })
        .to_vec();
    w.write_vertical(&d, 0, 0)
        .expect("writing the model-levels file");
    let hy = RecordKeys {
        nomvar: "HY".into(),
        typvar: "X".into(),
        ip1: encode_ip(10.0, LevelKind::Pressure, IpStyle::New)
            .expect("writing the model-levels file"),
        grtyp: b'X',
        ig1: 800,
        ig2: 1600,
        ni: 1,
        nj: 1,
        nk: 1,
        ..RecordKeys::default()
    };
    w.write(&hy, SamplesRef::F32(&[0.0]), None, Datyp(5), 32)
        .expect("writing the model-levels file");
    // The model top of eta levels, a field.
    let pt = RecordKeys {
        nomvar: "PT".into(),
        ..field("PT", 0)
    };
    w.write(&pt, SamplesRef::F32(&[10.0; 6]), None, Datyp(5), 32)
        .expect("writing the model-levels file");
    w.close().expect("writing the model-levels file");
}
