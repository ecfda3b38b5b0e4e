"""Date and ip helpers: against the fixture manifests, and against rpnpy (librmn 19.5) on
thousands of drawn values."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

import fstgis
from conftest import xdf_manifests

UTC = dt.timezone.utc
RNG_SEED = 20261205


def test_stamps_of_every_fixture_record():
    n = 0
    for _, m in xdf_manifests():
        for e in m["records"]:
            for key in ("datev", "dateo"):
                stamp = e["xtra1"] if key == "datev" else e["dateo"]
                text = e.get(f"{key}_iso")
                if text is None or text.startswith("0000"):
                    continue
                when = fstgis.cmc_to_datetime(stamp)
                assert when.strftime("%Y-%m-%dT%H:%M:%SZ") == text, (stamp, text)
                n += 1
    assert n > 1000


def test_datetime_round_trip_and_inputs():
    when = dt.datetime(2024, 6, 15, 12, tzinfo=UTC)
    assert fstgis.datetime_to_cmc(when) == 473930000
    # Naive values are UTC; other time zones are converted; numpy datetime64 and date work.
    assert fstgis.datetime_to_cmc(dt.datetime(2024, 6, 15, 12)) == 473930000
    est = dt.timezone(dt.timedelta(hours=-5))
    assert fstgis.datetime_to_cmc(dt.datetime(2024, 6, 15, 7, tzinfo=est)) == 473930000
    assert fstgis.datetime_to_cmc(np.datetime64("2024-06-15T12:00")) == 473930000
    assert fstgis.datetime_to_cmc(dt.date(2024, 6, 15)) == fstgis.datetime_to_cmc(
        dt.datetime(2024, 6, 15))
    assert fstgis.cmc_to_datetime(473930000) == when
    assert fstgis.cmc_to_datetime(0) is None and fstgis.cmc_to_datetime(-1) is None
    with pytest.raises(fstgis.UsageError):
        fstgis.cmc_to_datetime(99999999)  # month 99
    assert fstgis.forecast_hour(300, 12) == 1.0
    assert fstgis.incdatr(473930000, 6) == fstgis.datetime_to_cmc(dt.datetime(2024, 6, 15, 18))


def test_ip_helpers_basic():
    lv = fstgis.decode_ip(41_744_464)
    assert lv == (850.0, 2) and tuple(lv) == (850.0, 2, "mb") and str(lv) == "850 mb"
    value, kind, unit = lv
    assert (value, kind, unit) == (850.0, 2, "mb")
    assert fstgis.encode_ip(850, "mb") == 41_744_464
    assert fstgis.encode_ip(850, 2) == 41_744_464
    assert fstgis.encode_ip(0.995, "sg", style="old") == 11_950
    assert fstgis.decode_ip(11_950) == (np.float32(0.995).item(), 1)
    with pytest.raises(fstgis.InvalidIpError):
        fstgis.decode_ip(-5)
    with pytest.raises(ValueError):  # InvalidIpError is a ValueError
        fstgis.encode_ip(float("nan"), "mb")
    with pytest.raises(fstgis.UsageError):
        fstgis.encode_ip(1.0, 99)
    (l1, l2, lk), (t1, t2, tk), (_, _, k3) = fstgis.decode_ip_triple(41_744_464, 12, 0)
    assert (l1, l2, lk, t1, t2, tk, k3) == (850.0, 850.0, 2, 12.0, 12.0, 10, 3)


def _draw_datetimes(rng, n):
    years = rng.integers(1900, 2236, n)
    out = []
    for y in years:
        start = dt.datetime(int(y), 1, 1)
        seconds = int(rng.integers(0, 365 * 86400))
        t = start + dt.timedelta(seconds=seconds)
        if rng.random() < 0.5:
            t = t.replace(minute=0, second=0)  # whole hours: old-style stamps before 2000
        out.append(t)
    return out


def test_dates_against_rpnpy(oracle):
    rng = np.random.default_rng(RNG_SEED)
    times = _draw_datetimes(rng, 3000)
    stamps = [fstgis.datetime_to_cmc(t) for t in times]
    hours = [float(h) for h in rng.choice([-48, -6.5, -1, 0.25, 1, 3, 12, 240, 1e4], len(stamps))]
    code = """
out = {"stamps": [], "prints": [], "incdatr": []}
for (y, mo, d, h, mi, s) in data["fields"]:
    try:
        out["stamps"].append(rmn.newdate(rmn.NEWDATE_PRINT2STAMP, y * 10000 + mo * 100 + d,
                                         h * 1000000 + mi * 10000 + s * 100))
    except Exception:
        out["stamps"].append(None)
for stamp in data["stamps"]:
    try:
        out["prints"].append(list(rmn.newdate(rmn.NEWDATE_STAMP2PRINT, stamp)))
    except Exception:
        out["prints"].append(None)
for stamp, h in zip(data["stamps"], data["hours"]):
    try:
        out["incdatr"].append(rmn.incdatr(stamp, h))
    except Exception:
        out["incdatr"].append(None)
print(json.dumps(out))
"""
    fields = [[t.year, t.month, t.day, t.hour, t.minute, t.second] for t in times]
    got = oracle(code, {"fields": fields, "stamps": stamps, "hours": hours})
    assert got["stamps"] == stamps
    for stamp, printed in zip(stamps, got["prints"]):
        yyyymmdd, hhmmsshh = printed
        ours = fstgis.cmc_to_datetime(stamp)
        assert (ours.year * 10000 + ours.month * 100 + ours.day,
                ours.hour * 1000000 + ours.minute * 10000 + ours.second * 100) == (
                    yyyymmdd, hhmmsshh), stamp
    for stamp, h, theirs in zip(stamps, hours, got["incdatr"]):
        try:
            ours = fstgis.incdatr(stamp, h)
        except fstgis.UsageError:
            ours = None
        assert ours == theirs, (stamp, h)


def test_ips_against_rpnpy(oracle):
    rng = np.random.default_rng(RNG_SEED + 1)
    kinds = [0, 1, 2, 3, 4, 5, 6, 10, 15, 17, 21]
    # New-style words of every kind (random exponent and mantissa), old-style values, and
    # values to encode within each kind's range.
    words = [int(k << 24 | e << 20 | m) for k, e, m in zip(
        rng.choice(kinds, 3000), rng.integers(0, 16, 3000), rng.integers(0, 1 << 20, 3000))]
    words += [int(v) for v in rng.integers(0, 32768, 1500)]
    ranges = {0: (-2e4, 1e5), 1: (0, 1), 2: (0, 1100), 3: (-1e5, 1e6), 4: (-2e4, 1e5),
              5: (0, 1), 6: (1, 2e5), 10: (0, 1e5), 15: (0, 2e6), 21: (0, 1e6)}
    to_encode = []
    for k in rng.choice(list(ranges), 3000):
        lo, hi = ranges[int(k)]
        v = float(np.float32(rng.uniform(lo, hi)))
        if rng.random() < 0.3:
            v = float(round(v, 1))
        to_encode.append([v, int(k)])
    code = """
out = {"decoded": [], "encoded": []}
for ip in data["words"]:
    try:
        v, k = rmn.convertIp(rmn.CONVIP_DECODE, ip)
        # librmn's "invalid" answer is kind -1 (value -999999).
        out["decoded"].append([float(v), int(k)] if k != -1 else None)
    except Exception:
        out["decoded"].append(None)
for v, k in data["to_encode"]:
    try:
        out["encoded"].append(int(rmn.convertIp(rmn.CONVIP_ENCODE, v, k)))
    except Exception:
        out["encoded"].append(None)
print(json.dumps(out))
"""
    got = oracle(code, {"words": words, "to_encode": to_encode})
    decoded_checked = 0
    for ip, theirs in zip(words, got["decoded"]):
        try:
            lv = fstgis.decode_ip(ip, compat="19.5")
            ours = [np.float32(lv.value).item(), lv.kind]
        except fstgis.InvalidIpError:
            ours = None
        if theirs is not None and ours is not None:
            theirs = [np.float32(theirs[0]).item(), theirs[1]]
            decoded_checked += 1
        assert ours == theirs, ip
    assert decoded_checked > 3000
    assert sum(x is not None for x in got["encoded"]) > 2000
    for (v, k), theirs in zip(to_encode, got["encoded"]):
        try:
            ours = fstgis.encode_ip(v, k)
        except fstgis.InvalidIpError:
            ours = None
        assert ours == theirs, (v, k)
