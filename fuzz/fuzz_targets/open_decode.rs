//! Open arbitrary bytes as an FST file (XDF or RSF), list it and decode every record,
//! through exactly the harness the robustness tests use.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = fst_testkit::open_and_decode(data);
});
