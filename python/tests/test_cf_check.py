"""The netCDF that ``ds.to_netcdf()`` writes from our backend passes the CF checker
(``cfchecker``, the CF community's checker, over UDUNITS-2): no error on any fixture file;
warnings are allowed and printed (``pytest -s``) so that they stay visible.

The checker needs three tables. The standard name table comes from the copy the
``compliance-checker`` package ships (cfchecker would download it; tests run offline). Our
files use no area type and no region name, so those two tables are empty: any use of one
would be reported as an error, which is what we want.

cfchecker 4.1 knows CF up to 1.8; our files say ``CF-1.11``, so it is run with ``-v 1.8``
and its one complaint about the ``Conventions`` value it does not know (2.6.1) is set aside;
every other rule of 1.8 applies.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import xarray as xr

from conftest import RSF, XDF

pytest.importorskip("cfchecker")
compliance_checker = pytest.importorskip("compliance_checker")

STANDARD_NAMES = Path(compliance_checker.__file__).parent / "data" / "cf-standard-name-table.xml"

# Fixtures that do not reach the checker, and why.
NOT_WRITTEN = {
    # Complex fields (datyp 8): netCDF4 has no complex type unless auto_complex=True.
    "datyps.fst",
    # Names with a leading blank (' Q', as librmn stores them): netCDF refuses the name.
    "names.fst",
}

UNKNOWN_VERSION = "This netCDF file does not appear to contain CF Convention data."


def _tables(tmp: Path) -> list[str]:
    area = tmp / "area-types.xml"
    area.write_text('<?xml version="1.0"?>\n<area_type_table><version_number>0</version_number>'
                    "<date>2026-01-01</date></area_type_table>\n")
    regions = tmp / "regions.xml"
    regions.write_text('<?xml version="1.0"?>\n<standardized_region_list><version_number>0'
                       "</version_number><date>2026-01-01</date></standardized_region_list>\n")
    return ["-s", str(STANDARD_NAMES), "-a", str(area), "-r", str(regions)]


def _cfchecks() -> list[str]:
    exe = Path(sys.executable).with_name("cfchecks")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("cfchecks")
    if found is None:
        pytest.skip("cfchecks not installed")
    return [found]


def _fixtures():
    return sorted(p for p in list(XDF.glob("*.fst")) + list(RSF.glob("*.fst"))
                  if p.name not in NOT_WRITTEN)


def _check(nc: Path, tmp: Path) -> tuple[list[str], list[str]]:
    out = subprocess.run(_cfchecks() + _tables(tmp) + ["-v", "1.8", str(nc)],
                         capture_output=True, text=True, timeout=300)
    text = out.stdout + out.stderr
    assert "Traceback" not in text, text
    assert re.search(r"ERRORS detected: \d+", text), text
    # Each message follows the "Checking variable: NAME" line it belongs to.
    errors, warns, var = [], [], "(global)"
    for line in text.splitlines():
        if line.startswith("Checking variable:"):
            var = line.split(":", 1)[1].strip()
        elif line.startswith("ERROR:") and UNKNOWN_VERSION not in line:
            errors.append(f"{var}: {line}")
        elif line.startswith("WARN:"):
            warns.append(f"{var}: {line}")
    return errors, warns


@pytest.mark.parametrize("path", _fixtures(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_netcdf_export_passes_cfchecker(path, tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate-record notices of the odd fixtures
        ds = xr.open_dataset(path, engine="fst")
    assert ds.attrs["Conventions"] == "CF-1.11"
    nc = tmp_path / "out.nc"
    ds.to_netcdf(nc)
    errors, warns = _check(nc, tmp_path)
    for w in warns:
        print(f"{path.name}: {w}")
    assert not errors, "\n".join(errors)


def test_the_checker_reports_errors(tmp_path):
    """The parsing above sees the checker's errors: a made-up standard name is one."""
    ds = xr.Dataset({"t": ("x", [1.0, 2.0], {"standard_name": "not_a_cf_name", "units": "K"})},
                    coords={"x": ("x", [0.0, 1.0], {"units": "m"})},
                    attrs={"Conventions": "CF-1.8"})
    nc = tmp_path / "bad.nc"
    ds.to_netcdf(nc)
    errors, _ = _check(nc, tmp_path)
    assert any("not_a_cf_name" in e for e in errors), errors
