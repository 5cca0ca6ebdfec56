"""``ecg app`` in a real browser: headless Chromium driven by Selenium.

The test starts ``python -m ecg_cli.main app`` on a free loopback port with an empty data
folder, opens the recording page on MIT-BIH 208 (downloaded by the app from the mirror
served on 127.0.0.1) with the default pretrained model (no ``?model=``: what a user gets
right after install), checks the beat and class counts shown against the API's
``predict`` with that model, clicks through every page and saves a screenshot of each (paths printed).

Without Chromium, chromedriver or selenium the test skips; ``ECG_REQUIRE_BROWSER=1``
(set by ``.ci/run``) turns that skip into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from pathlib import Path

import pytest

from ecgnet.predict import predict

from .app_helpers import (app_dirs, free_port, kaggle_rows, start_app,  # noqa: F401
                          stop_group, wait_healthy)
from .net_helpers import small_rows, write_h5

CHROMIUM = os.environ.get("ECG_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("ECG_CHROMEDRIVER", "/usr/bin/chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--window-size=1400,1700")
RECORD = "mitdb/1.0.0/208"
PAGES = ("Beat", "Data set", "Runs", "Kaggle check")


def require_browser() -> None:
    """Skip without a browser, unless ECG_REQUIRE_BROWSER=1 forbids it."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not shutil.which(p)]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package")
    if not missing:
        return
    message = (f"browser test needs {', '.join(missing)} (apt-get install chromium "
               "chromium-driver; pip install -e '.[app]')")
    if os.environ.get("ECG_REQUIRE_BROWSER") == "1":
        pytest.fail(message + "; ECG_REQUIRE_BROWSER=1 forbids skipping", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def browser():
    require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="ecg-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def wait_for(driver, condition, timeout: float = 120, what: str = ""):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25).until(
        condition, message=f"timed out waiting for {what}")


def shown_metrics(driver) -> dict:
    from selenium.webdriver.common.by import By

    out = {}
    for m in driver.find_elements(By.CSS_SELECTOR, "[data-testid=stMetric]"):
        label = m.find_element(By.CSS_SELECTOR, "[data-testid=stMetricLabel]").text.strip()
        value = m.find_element(By.CSS_SELECTOR, "[data-testid=stMetricValue]").text.strip()
        out[label] = value
    return out


def charts_drawn(driver) -> int:
    """Vega-Lite charts that have rendered their canvas or SVG."""
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR,
                                    "[data-testid=stVegaLiteChart] canvas, "
                                    "[data-testid=stVegaLiteChart] svg.marks"))


def page_idle(driver) -> bool:
    """Streamlit has finished running the script: no 'running' status widget and no stale
    element of the previous run left (Streamlit greys those out until the run ends; the
    status widget shows only after a delay, so a page can look idle while they remain)."""
    from selenium.webdriver.common.by import By

    return not driver.find_elements(By.CSS_SELECTOR, "[data-testid=stStatusWidget], "
                                                     "[data-stale=true]")


def code_blocks_drawn(driver) -> bool:
    """Every code block shows its text (Streamlit highlights them in a chunk loaded on
    first use, and the block stays empty until it has arrived)."""
    from selenium.webdriver.common.by import By

    return all(c.text.strip() for c in driver.find_elements(By.CSS_SELECTOR,
                                                            "[data-testid=stCode]"))


def selectbox_texts(driver) -> str:
    """What the select boxes show (their text, and the value of their input fields)."""
    from selenium.webdriver.common.by import By

    out = []
    for box in driver.find_elements(By.CSS_SELECTOR, "[data-testid=stSelectbox]"):
        out.append(box.get_attribute("textContent") or "")
        out += [i.get_attribute("value") or "" for i in box.find_elements(By.TAG_NAME, "input")]
    return "\n".join(out)


def go_to(driver, page: str) -> None:
    from selenium.webdriver.common.by import By

    radio = driver.find_element(By.CSS_SELECTOR, "[data-testid=stSidebar]")
    label = next(el for el in radio.find_elements(By.CSS_SELECTOR, "label")
                 if el.text.strip() == page)
    label.click()


def test_app_in_a_real_browser(on_full_mirror, browser, app_dirs, kaggle_rows, mirror_url, tmp_path_factory):
    from selenium.webdriver.common.by import By

    shots = tmp_path_factory.mktemp("app-screenshots")
    data = tmp_path_factory.mktemp("browser-data")  # no record: the app downloads 208
    idx = small_rows(kaggle_rows.beats, kaggle_rows.labels, 40)  # for the data set page
    (data / "beats").mkdir()
    write_h5(data / "beats" / "small.h5", kaggle_rows.beats[idx], kaggle_rows.labels[idx],
             ["100", "101"])
    port = free_port()
    proc = start_app(port, data, app_dirs["runs"], mirror_url)
    try:
        wait_healthy(port, proc)
        url = f"http://127.0.0.1:{port}/?record={RECORD}"
        t0 = time.perf_counter()
        browser.get(url)
        wait_for(browser, lambda d: "beats" in shown_metrics(d) and charts_drawn(d) >= 2,
                 what="the recording page's metrics and charts")
        ready_s = time.perf_counter() - t0
        wait_for(browser, page_idle, what="the script run to finish")
        time.sleep(1.0)  # let Vega finish drawing before the screenshot
        path = shots / "1-recording.png"
        browser.save_screenshot(str(path))
        print(f"\nscreenshot: {path} (page ready {ready_s:.1f} s after the request, cold "
              "server)")

        from ecgnet.pretrained import DEFAULT_MODEL, weights_path

        pred = predict(weights_path(DEFAULT_MODEL), RECORD, data_dir=data)
        shown = shown_metrics(browser)
        assert int(shown["beats"]) == len(pred) > (500 if on_full_mirror else 200)  # shipped: 255
        counts = pred.summary()["predicted"]
        assert {c: int(shown[c]) for c in counts} == counts
        headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "h4")]
        assert pred.summary_lines()[0] in headings
        assert f"pretrained: {DEFAULT_MODEL} (default)" in selectbox_texts(browser)
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=stException]")
        assert (data / "physionet" / "mitdb" / "1.0.0" / "208.dat").is_file()

        # a click in the signal chart selects the nearest beat for the beat page
        from selenium.webdriver.common.action_chains import ActionChains

        chart = max(browser.find_elements(By.CSS_SELECTOR, "[data-testid=stVegaLiteChart]"),
                    key=lambda el: el.size["height"])
        ActionChains(browser).move_to_element_with_offset(chart, -100, 0).click().perform()
        wait_for(browser, lambda d: "Selected beat" in d.find_element(
            By.CSS_SELECTOR, "[data-testid=stMain]").text, what="the clicked beat's note")
        note = browser.find_element(By.CSS_SELECTOR, "[data-testid=stMain]").text
        picked = int(re.search(r"Selected beat (\d+) at ([\d.]+) s", note).group(1))
        assert 0 <= picked < len(pred) and pred.time_s[picked] < 10  # in the first window
        wait_for(browser, page_idle, what="the script run after the click")
        time.sleep(1.0)
        path = shots / "1b-recording-beat-clicked.png"
        browser.save_screenshot(str(path))
        print(f"screenshot: {path}")

        expected = {"Beat": f"Beat {picked} of 208", "Data set": "200 labelled beats", "Runs": "tiny",
                    "Kaggle check": "mitdb-kaggle.h5 is missing"}
        for i, page in enumerate(PAGES, start=2):
            go_to(browser, page)
            wait_for(browser, lambda d: expected[page] in d.find_element(
                By.CSS_SELECTOR, "[data-testid=stMain]").text, what=f"the {page} page")
            wait_for(browser, page_idle, what=f"the {page} page's script run")
            wait_for(browser, code_blocks_drawn, what=f"the {page} page's code blocks")
            time.sleep(1.0)
            path = shots / f"{i}-{page.lower().replace(' ', '-')}.png"
            browser.save_screenshot(str(path))
            print(f"screenshot: {path}")
            assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=stException]")
            if page == "Data set":  # the provenance is shown, not an empty box
                code = browser.find_element(By.CSS_SELECTOR, "[data-testid=stCode]").text
                assert '"recipe": "kaggle"' in code, code
        go_to(browser, "Beat")
        wait_for(browser, lambda d: charts_drawn(d) >= 2, what="the beat and probability charts")
        # the default model (kachuee-rrmd, Kaggle recipe) is explained, at its beats' 120 Hz
        main = browser.find_element(By.CSS_SELECTOR, "[data-testid=stMain]").text
        assert "kaggle recipe: resampled to 120 Hz" in main and "360 Hz" not in main
        assert "record's median beat held fixed" in main and "No attribution" not in main
    finally:
        stop_group(proc)
    assert proc.returncode is not None
    copy_to = os.environ.get("ECG_APP_SCREENSHOTS")
    if copy_to:  # keep the artefacts beyond pytest's tmp folders
        shutil.copytree(shots, copy_to, dirs_exist_ok=True)
    assert len(list(Path(shots).glob("*.png"))) == 2 + len(PAGES)
