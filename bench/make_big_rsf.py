#!/usr/bin/env python3
"""Write a large RSF ("FST24") file for the metadata-listing benchmark.

    bench/make_big_rsf.py [--from-xdf XDF] [--per-segment N] [--records N] [OUT]

OUT defaults to bench/out/big_rsf.fst, the file bench/metadata_vs_librmn.sh picks up.

* With an XDF file (default: bench/out/big/big.fst, written by librmn with
  `bench/make_fixtures.py --big`), every live record of it is copied into RSF: the same 16 key
  words (they are identical in both containers), the same payload words (byte-swapped, as RSF
  stores little-endian words). The two files then hold the same records, so their listing
  times compare directly.
* Without one, the small records of tests/fixtures/rsf/rsf_basic.fst are repeated, each with
  its own ip2, up to --records.

Records are written in write sessions of --per-segment records (default 10 000), the way
repeated librmn sessions append segments: the empty segment 0, then per session
`SOS | records | VDIR | EOS`, laid out as docs/rsf-layout.md describes (the same layout as the
Rust test-kit writer crates/fst-core/tests/support/rsf_writer.rs, which reproduces a librmn
sample byte for byte). Standard library only.
"""

import argparse
import os
import struct
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def pair(v):
    """A 64-bit value as two little-endian u32, high word first."""
    return struct.pack('<II', v >> 32, v & 0xFFFFFFFF)


def sor(rt, rlm, rl, rlmd, dul):
    return struct.pack('<I', rt | rlm << 8 | 0xFE << 24) + pair(rl) + struct.pack('<I', rlmd | dul << 24)


def eor(rt, rlm, rl):
    return pair(rl) + struct.pack('<I', rt | rlm << 8 | 0xFF << 24)


def sos(seg, sseg, vdir, vdirs):
    return (sor(3, 0, 72, 19, 0) + b'RSF0STDF' + struct.pack('<I', 0xDEADBEEF)
            + pair(seg) + pair(sseg) + pair(vdir) + pair(vdirs) + eor(3, 0, 72))


def eos(rlm, seg, sseg, vdir, vdirs):
    return (sor(4, rlm, 68, rlm, 0) + struct.pack('<II', 0xBEBEFADA, 0xCAFEFADE)
            + pair(seg) + pair(sseg) + pair(vdir) + pair(vdirs) + eor(4, rlm, 68))


def record_meta(keys):
    """The 19 search words of a version-1 record without JSON: meta0, reserved, FST reserved, keys."""
    return struct.pack('<III', 0x00010101, 0, 0x01130000) + struct.pack('<16I', *keys)


def write_rsf(out, records, per_segment):
    """records: iterable of (keys: 16 ints, payload: bytes of little-endian words)."""
    with open(out, 'wb') as f:
        f.write(sos(72, 140, 0, 0) + eos(0, 72, 140, 0, 0))
        base = 140
        batch = []

        def flush():
            nonlocal base, batch
            if not batch:
                return
            body = bytearray(sos(0, 0, 0, 0))
            entries = bytearray()
            for meta, payload in batch:
                wa = len(body)
                rl = 16 + len(meta) + len(payload) + 12
                r = len(meta) // 4
                body += sor(1, r, rl, r, 4) + meta + payload + eor(1, r, rl)
                entries += pair(wa) + pair(rl) + pair(0) + struct.pack('<II', r << 16 | r, 0) + meta
            vdir = len(body)
            vdirs = 16 + 4 + len(entries) + 12
            body += sor(6, 1, vdirs, 0, 0) + struct.pack('<I', len(batch)) + entries + eor(6, 1, vdirs)
            seg = len(body)
            body += eos(19, seg, seg + 68, vdir, vdirs)
            body[0:72] = sos(seg, seg + 68, vdir, vdirs)
            f.write(body)
            base += len(body)
            batch = []

        n = 0
        for keys, payload in records:
            batch.append((record_meta(keys), payload))
            n += 1
            if len(batch) == per_segment:
                flush()
        flush()
    return n


def xdf_records(path):
    """(keys, little-endian payload) of every live record of an XDF standard file."""
    data = open(path, 'rb').read()
    be = lambda at: struct.unpack_from('>I', data, at)[0]
    if data[8:16] != b'XDF0STDR':
        sys.exit('%s: not an XDF standard file' % path)
    nbd = be(28)
    page = 27
    for _ in range(nbd):
        at = (page - 1) * 8
        nent = be(at + 20)
        for slot in range(nent):
            e = at + 32 + slot * 72
            w0 = be(e)
            idtyp, lng = w0 >> 24, w0 & 0xFFFFFF
            if idtyp == 0 or idtyp & 0x7E == 0x7E:
                continue
            keys = struct.unpack_from('>16I', data, e + 8)
            start = (be(e + 4) - 1) * 8
            words = struct.unpack_from('>%dI' % (2 * lng - 20), data, start + 80)
            yield keys, struct.pack('<%dI' % len(words), *words)
        page = be(at + 16)
        if page == 0:
            break


def repeated_records(count):
    """The '>>' and '^^' records of rsf_basic.fst, repeated with ip2 = running number."""
    sample = open(os.path.join(REPO, 'crates/fst-core/tests/fixtures/rsf/rsf_basic.fst'), 'rb').read()
    bases = []
    for at in (212, 524):
        r = (struct.unpack_from('<I', sample, at)[0] >> 8) & 0xFFFF
        rl = struct.unpack_from('<I', sample, at + 8)[0]
        keys = list(struct.unpack_from('<16I', sample, at + 16 + 12))
        bases.append((keys, sample[at + 16 + 4 * r:at + rl - 12]))
    for n in range(count):
        keys, payload = bases[n % 2]
        keys = list(keys)
        keys[13] = (n & 0x0FFFFFFF) << 4 | (keys[13] & 0xF)
        yield keys, payload


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('out', nargs='?', default=os.path.join(REPO, 'bench/out/big_rsf.fst'))
    ap.add_argument('--from-xdf', default=os.path.join(REPO, 'bench/out/big/big.fst'))
    ap.add_argument('--records', type=int, default=100_000)
    ap.add_argument('--per-segment', type=int, default=10_000)
    a = ap.parse_args()
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    if a.from_xdf and os.path.exists(a.from_xdf):
        source = 'the records of %s' % a.from_xdf
        records = xdf_records(a.from_xdf)
    else:
        source = 'rsf_basic.fst records repeated'
        records = repeated_records(a.records)
    n = write_rsf(a.out, records, a.per_segment)
    print('%s: %d records (%s), %d per segment, %d bytes' % (a.out, n, source, a.per_segment, os.path.getsize(a.out)))


if __name__ == '__main__':
    main()
