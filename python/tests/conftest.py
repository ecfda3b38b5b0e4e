"""Shared fixtures of the fstgis Python tests: the librmn-written fixture files and the
oracle (rpnpy over librmn 19.5, in its own venv because it needs numpy < 2)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "crates" / "fst-core" / "tests" / "fixtures"
XDF = FIXTURES / "xdf"
RSF = FIXTURES / "rsf"


def xdf_manifests():
    """(fst path, manifest) of every XDF fixture written by librmn 19.5."""
    out = []
    for p in sorted(XDF.glob("*.json")):
        if p.stem == "datyp_nbits_map":
            continue
        m = json.loads(p.read_text())
        out.append((XDF / m["file"], m))
    assert len(out) >= 8, f"expected the XDF fixture set in {XDF}"
    return out


def rsf_manifests():
    """(fst path, manifest) of every RSF/XDF fixture written by the newest librmn."""
    out = []
    for p in sorted(RSF.glob("*.manifest.json")):
        m = json.loads(p.read_text())
        out.append((RSF / m["file"], m))
    assert len(out) >= 4, f"expected the RSF fixture set in {RSF}"
    return out


def oracle_python():
    py = os.environ.get("ORACLE_PY")
    if not py:
        default = ROOT / ".venv-oracle" / "bin" / "python"
        py = str(default) if default.exists() else None
    return py


@pytest.fixture(scope="session")
def oracle():
    """Run a Python snippet in the oracle venv (rpnpy + librmn 19.5): it reads JSON from
    stdin and prints JSON. Skips when the oracle is not available (FSTGIS_NO_ORACLE=1)."""
    py = oracle_python()
    if py is None or os.environ.get("FSTGIS_NO_ORACLE") == "1":
        pytest.skip("no oracle venv (bench/oracle-env.sh creates it)")

    def run(code: str, payload):
        prelude = (
            "import warnings, json, sys; warnings.simplefilter('ignore')\n"
            "import fstd2nc_deps\n"
            "from rpnpy.librmn import all as rmn\n"
            "rmn.fstopt(rmn.FSTOP_MSGLVL, rmn.FSTOPI_MSG_CATAST)\n"
            "data = json.load(sys.stdin)\n"
        )
        proc = subprocess.run(
            [py, "-c", prelude + code],
            input=json.dumps(payload),
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        return json.loads(proc.stdout.strip().splitlines()[-1])

    return run
