//! Every datyp decoder on arbitrary payload words with arbitrary datyp, nbits and shape, and
//! encode → decode round trips of arbitrary finite values checked against each codec's error
//! bound. The case layout is documented on `fst_testkit::codec_case`, which the corpus replay
//! test of fst-testkit runs too.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    fst_testkit::codec_case(data);
});
