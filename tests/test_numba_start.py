"""numba's CPU target started without scipy.linalg: kernels unchanged, scipy usable."""

from __future__ import annotations

import subprocess
import sys


def test_kernels_run_and_scipy_linalg_stays_importable():
    code = """
import sys
import numpy as np
from ecgseg.numba_start import start_numba_without_blas
assert start_numba_without_blas()
assert "scipy.linalg" not in sys.modules
from ecgseg.recipes.paper import segment_paper
t = np.arange(72000) / 360.0
x = np.sin(2 * np.pi * 1.2 * t) ** 15
ours = segment_paper(x, 360.0)
assert "scipy.linalg" not in sys.modules
from ecgseg import kernels_numpy as ref  # imports scipy.signal, hence scipy.linalg
want = ref.segment_paper(x, 360.0)
assert len(ours.sample) > 0 and ours.beats.tobytes() == want.beats.tobytes()
import scipy.linalg
assert float(scipy.linalg.det(np.eye(2))) == 1.0
assert not start_numba_without_blas()  # once per process
"""
    subprocess.run([sys.executable, "-c", code], check=True)


def test_segment_command_never_imports_scipy_linalg(tmp_path, full_mirror):
    """A fresh ``ecg segment`` process (one worker) on a PhysioNet record imports no
    scipy.linalg, wfdb, pandas or torch (listed at exit). (The mini mirror's annotation
    files, written by wfdb, are read by wfdb: hence the full mirror.)"""
    mirror = full_mirror
    data = tmp_path / "data"
    (data / "physionet").mkdir(parents=True)
    (data / "physionet" / "mitdb").symlink_to(mirror / "mitdb")
    name = "100"
    code = f"""
import atexit, sys
def report():
    bad = [m for m in ("scipy.linalg", "wfdb", "pandas", "torch") if m in sys.modules]
    sys.stderr.write(f"IMPORTED {{bad}}\\n")
atexit.register(report)
sys.argv = ["ecg", "segment", "--db", "mitdb", "--records", {name!r}, "--data-dir",
            {str(data)!r}, "--out", {str(tmp_path / 'b.h5')!r}, "--workers", "1",
            "--quiet"]
from ecg_cli.main import main
main()
"""
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert (tmp_path / "b.h5").exists(), run.stderr
    assert "IMPORTED []" in run.stderr, run.stderr
