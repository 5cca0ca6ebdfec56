"""Time from request to a ready recording page of ``ecg app`` for 30-minute MIT-BIH records.

Usage::

    PYTHONPATH=. python -m benchmarks.app_speed [--checkpoint runs/NAME/best.pt]
        [--records 100,208,119,203,233] [--mirror URL]

Starts ``python -m ecg_cli.main app`` on a free loopback port, opens
``/?record=mitdb/1.0.0/<record>`` in headless Chromium (Selenium) and measures until the
page is ready: the beat and class counts shown, both charts drawn and the script run
finished. The records are downloaded beforehand (download time is not page time).

* ``cold``: the first request after the server started (it imports torch, numba's
  cache, the model);
* ``warm``: each further record, a new browser session on the running server, the
  record never analysed before (read, segment, classify, draw: what a user waits for);
* ``cached``: a record already analysed, opened again in a new session.

Goal (issue 18): warm within 3 s on this 2-core machine. Without ``--checkpoint`` a tiny
model is trained first on the real Kaggle rows in ``../shared/kaggle`` (the weights do
not change the speed). Without ``--mirror`` the ``../shared`` PhysioNet mirror is served
on 127.0.0.1. The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ECG_SHARED_DIR", ROOT.parent / "shared"))
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1700")


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(directory)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def tiny_checkpoint(folder: Path) -> Path:
    from ecgnet.data import load_data
    from ecgnet.train import TrainConfig, train
    from ecgseg.kaggle_csv import write_kaggle_csv

    rows = load_data(SHARED / "kaggle" / "mitbih_test_known_rows.csv")
    csv = write_kaggle_csv(folder / "rows.csv", rows.beats[:400], rows.labels[:400])
    result = train(TrainConfig(data=[str(csv)], out=str(folder / "runs"), name="tiny",
                               batch_size=32, max_iters=10, progress=False, threads=1))
    return result.run_dir / "best.pt"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='ecg-bench-chromium-')}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def page_ready(driver) -> bool:
    from selenium.webdriver.common.by import By

    labels = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[data-testid=stMetricLabel]")]
    charts = driver.find_elements(By.CSS_SELECTOR, "[data-testid=stVegaLiteChart] canvas, "
                                                   "[data-testid=stVegaLiteChart] svg.marks")
    running = driver.find_elements(By.CSS_SELECTOR, "[data-testid=stStatusWidget]")
    return "beats" in labels and len(charts) >= 2 and not running


def time_page(url: str, timeout: float = 300) -> float:
    """Seconds from the request to a ready recording page, in a new browser session."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser()
    try:
        t0 = time.perf_counter()
        driver.get(url)
        WebDriverWait(driver, timeout, poll_frequency=0.05).until(page_ready)
        return time.perf_counter() - t0
    finally:
        driver.quit()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--checkpoint", type=Path)
    ap.add_argument("--records", default="100,208,119,203,233")
    ap.add_argument("--mirror")
    args = ap.parse_args(argv)
    records = [r.strip() for r in args.records.split(",") if r.strip()]
    work = Path(tempfile.mkdtemp(prefix="ecg-app-speed-"))
    server = None
    proc = None
    try:
        mirror = args.mirror
        if mirror is None:
            server, mirror = serve(SHARED / "physionet" / "files")
        from ecgseg.download import download_database

        data = work / "data"
        download_database("mitdb", records=records, data_dir=data, mirror=mirror, progress=False)
        checkpoint = args.checkpoint or tiny_checkpoint(work)
        runs = Path(checkpoint).resolve().parent
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        proc = subprocess.Popen([sys.executable, "-m", "ecg_cli.main", "app", "--port", str(port),
                                 "--data-dir", str(data), "--runs-dir", str(runs)],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        for _ in range(300):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}/?record=mitdb/1.0.0/"
        cold = time_page(base + records[0])
        warm = [time_page(base + r) for r in records[1:]]
        cached = time_page(base + records[0])
        load = os.getloadavg()
        print(f"ecg app, recording page ready after the request (30-min MIT-BIH records, "
              f"headless Chromium; load average {load[0]:.1f}, {os.cpu_count()} cores):")
        print(f"  cold (first request, server just started) {records[0]}: {cold:.2f} s")
        for r, t in zip(records[1:], warm):
            print(f"  warm, new record {r}: {t:.2f} s")
        if warm:
            print(f"  warm median: {statistics.median(warm):.2f} s (goal: 3 s)")
        print(f"  cached, {records[0]} again in a new session: {cached:.2f} s")
    finally:
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        if server is not None:
            server.shutdown()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
