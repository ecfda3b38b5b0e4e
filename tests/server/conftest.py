"""Fixtures: a real fst-tile-server process on a free port, serving the bundled sample."""
import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "tile-server" / "sample" / "sample.fst"
GRIDS = ROOT / "crates" / "fst-core" / "tests" / "fixtures" / "xdf" / "grids.fst"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = Path(os.environ.get("FST_TILE_SERVER", TARGET / "release" / "fst-tile-server"))
FST = Path(os.environ.get("FST_CLI", TARGET / "release" / "fst"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(data, log):
    """A server process on `data` (a file or directory); returns (process, base URL)."""
    port = free_port()
    with open(log, "w") as fh:
        proc = subprocess.Popen([str(BIN), "--data", str(data), "--listen", f"127.0.0.1:{port}"],
                                stdout=fh, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=1) as r:
                if json.load(r)["layers"] > 0:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        proc.kill()
        raise RuntimeError("server did not start: " + Path(log).read_text())
    return proc, base


@contextlib.contextmanager
def serving(data, log):
    """A server process on `data` for the block; yields its base URL."""
    proc, base = start_server(data, log)
    try:
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    with serving(SAMPLE, tmp_path_factory.mktemp("server") / "server.log") as base:
        yield base


@pytest.fixture(scope="session")
def grids_server(tmp_path_factory):
    """A server on fst-core's grid fixture (written by librmn, with its values and grid
    coordinates in grids.json / grids.bin)."""
    with serving(GRIDS, tmp_path_factory.mktemp("grids") / "server.log") as base:
        yield base


def fst_values(record_index):
    """Decoded values of a record through fst-core (the `fst dump` CLI), shape (nj, ni)."""
    import numpy as np
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "v.npy"
        subprocess.run([str(FST), "dump", str(SAMPLE), "--index", str(record_index), "--out", str(out)], check=True)
        a = np.load(out)
    return a.reshape(a.shape[-2], a.shape[-1])


def fst_records():
    out = subprocess.run([str(FST), "ls", "--json", str(SAMPLE)], check=True, capture_output=True, text=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]
