"""The HTML player in a real headless Chromium: offline, Next steps forward, the end shows .grad.

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package. Without them the
test is skipped, except on CI (CI=true), where a missing browser is a failure.
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz import step_through
from tinygrad_edu.viz.stepper import CURRENT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def _browser_or_skip():
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the selenium package (pip install selenium)")
    if missing:
        reason = "browser test needs " + ", ".join(missing) + \
            " (apt-get install chromium chromium-driver)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; on CI it must run")
        pytest.skip(reason)


@pytest.fixture
def browser():
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", f"--user-data-dir={profile}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def visible_frame(driver):
    from selenium.webdriver.common.by import By

    frames = [f for f in driver.find_elements(By.CLASS_NAME, "tge-frame") if f.is_displayed()]
    assert len(frames) == 1, "exactly one frame is shown at a time"
    return frames[0]


def test_player_offline_next_and_last_step_gradients(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh() + a * a
    player = step_through(L)
    path = player.save_html(tmp_path / "steps.html")

    # the network is off for the page: any request it tried would fail
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    browser.get(path.as_uri())
    root = browser.find_element(By.CLASS_NAME, "tge-player")
    assert root.get_attribute("data-step") == "0", "the script ran and showed the first step"
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == [], f"the page loads nothing else: {resources}"
    svg_box = browser.find_element(By.CLASS_NAME, "tge-svg")
    assert len(svg_box.find_elements(By.CSS_SELECTOR, "svg g.node")) > 5, "the graph is drawn"
    assert CURRENT not in svg_box.get_attribute("innerHTML"), "no node is current yet"

    browser.find_element(By.CLASS_NAME, "tge-next").click()
    assert root.get_attribute("data-step") == "1"
    counter = browser.find_element(By.CLASS_NAME, "tge-counter").text
    assert counter == f"step 2 / {len(player)}"
    explanation = visible_frame(browser).find_element(By.CLASS_NAME, "tge-explain").text
    assert explanation == player.frames[1].explanation
    assert CURRENT in svg_box.get_attribute("innerHTML"), "the first op is highlighted"

    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_RIGHT)
    assert root.get_attribute("data-step") == "2", "the right arrow key steps too"
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ARROW_LEFT)
    assert root.get_attribute("data-step") == "1"

    for _ in range(len(player)):  # Next stops at the last step
        browser.find_element(By.CLASS_NAME, "tge-next").click()
    assert root.get_attribute("data-step") == str(len(player) - 1)
    rows = visible_frame(browser).find_elements(By.CSS_SELECTOR, "tr[data-node]")
    shown = {r.get_attribute("data-node"):
             float(r.find_element(By.CLASS_NAME, "tge-grad").get_attribute("data-value"))
             for r in rows}
    assert shown == {"a": a.grad, "b": b.grad, "c": c.grad}
    texts = {r.get_attribute("data-node"): r.find_element(By.CLASS_NAME, "tge-grad").text
             for r in rows}
    assert texts["a"] == f"{a.grad:.4g}"
    drawn = [t.text for t in svg_box.find_elements(By.CSS_SELECTOR, "text")]
    for leaf in (a, b, c):  # the picture of the last step has the gradients filled in too
        assert f"grad {leaf.grad:.4g}" in drawn
    assert CURRENT not in svg_box.get_attribute("innerHTML")

    browser.find_element(By.CLASS_NAME, "tge-first").click()  # and back to the start
    assert "grad ?" in [t.text for t in svg_box.find_elements(By.CSS_SELECTOR, "text")]


def test_without_a_browser_it_skips_locally_and_fails_on_ci(monkeypatch, tmp_path):
    import sys

    module = sys.modules[__name__]
    monkeypatch.setattr(module, "CHROMIUM", str(tmp_path / "no-chromium"))
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match="no-chromium"):
        _browser_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="on CI it must run"):
        _browser_or_skip()
