"""The player where learners meet it: in a real JupyterLab (light and dark theme, keys, the
explore sliders), in the classic Notebook interface (Notebook 7) and in a notebook exported to
HTML by nbconvert, in headless Chromium.

Needs what the browser test needs (Debian's `chromium` and `chromium-driver`, `selenium`) and
`jupyterlab`, `notebook`, `nbconvert` and `ipywidgets` (the `dev` extra). Without them the tests
are skipped, except on CI (CI=true), where anything missing is a failure. The Jupyter servers
listen on 127.0.0.1 only, with a token, in a temporary root; nothing is fetched from the network.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tinygrad_edu import Value
from tinygrad_edu.viz.player import MIN_TEXT_PX

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# the browser, the graphs and the text-size probe of the saved-file test, shared
shared = _load("tge_player_browser_shared", HERE / "test_player_browser.py")
browser = shared.browser  # the module-scoped headless Chromium fixture
SMALLEST_TEXT = shared.SMALLEST_TEXT

GRAPHS = """\
from tinygrad_edu import Value, nn, random
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.viz import explore, step_through
import numpy as np
"""
NEURON = """\
x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
x1w1 = x1 * w1; x1w1.label = "x1*w1"
x2w2 = x2 * w2; x2w2.label = "x2*w2"
s = x1w1 + x2w2; s.label = "x1*w1 + x2*w2"
n = s + b; n.label = "n"
o = n.tanh(); o.label = "o"
step_through(o)"""
MLP = """\
random.manual_seed(0)
model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
x = Tensor(np.array([[0.5, -1.0], [1.5, 2.0]]))
step_through((model(x) ** 2).mean())"""
EXPLORE = "explore(lambda a, b: (a * b).tanh(), a=2.0, b=-3.0)"


def _need(*modules: str) -> None:
    """Skip (fail on CI) unless the browser and every module in `modules` are there."""
    shared._browser_or_skip()
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        reason = f"the Jupyter test needs {', '.join(missing)} (pip install -e '.[dev]')"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason + "; on CI it must run")
        pytest.skip(reason)


def neuron_grads() -> dict[str, float]:
    """The gradients the neuron's player must show, from the engine itself."""
    x1, x2 = Value(2.0), Value(0.0)
    w1, w2 = Value(-3.0), Value(1.0)
    b = Value(6.8813735870195432)
    (x1 * w1 + x2 * w2 + b).tanh().backward()
    return {"x1": x1.grad, "x2": x2.grad, "w1": w1.grad, "w2": w2.grad, "b": b.grad}


def shown_grads(player) -> dict[str, float | None]:
    """The gradient table of a player as {input: value} (full precision, from data-value;
    None while unknown)."""
    from selenium.webdriver.common.by import By

    cells = {r.get_attribute("data-node"):
             r.find_element(By.CLASS_NAME, "tge-grad").get_attribute("data-value")
             for r in player.find_elements(By.CSS_SELECTOR, ".tge-grads tr[data-node]")}
    return {k: float(v) if v else None for k, v in cells.items()}


# contrast ratios (WCAG) of text against the colour actually behind it
CONTRAST = """
function rgb(c){return c.match(/[\\d.]+/g).slice(0,3).map(Number);}
function lum(c){var w=[0.2126,0.7152,0.0722];return c.map(function(v){v/=255;
  return v<=0.03928?v/12.92:Math.pow((v+0.055)/1.055,2.4);})
  .reduce(function(s,v,i){return s+v*w[i];},0);}
function behind(el){for(;el&&el.nodeType===1;el=el.parentElement){
  var m=getComputedStyle(el).backgroundColor.match(/[\\d.]+/g);
  if(m&&(m.length<4||+m[3]>0.5)){return getComputedStyle(el).backgroundColor;}}
  return 'rgb(255,255,255)';}
function ratio(el){var x=lum(rgb(getComputedStyle(el).color)),y=lum(rgb(behind(el)));
  return (Math.max(x,y)+0.05)/(Math.min(x,y)+0.05);}
var r=arguments[0], out={};
['.tge-explain','.tge-title','.tge-heading','.tge-grads th','.tge-grads td',
 '.tge-controls button','.tge-counter'].forEach(function(c){
  var els=r.querySelectorAll(c);
  out[c]=Math.min.apply(null,[].map.call(els,ratio));});
return out;"""

# every drawn node of a player inside its view, and the view and player inside `outer`
INSIDE = """
var p=arguments[0], outer=p.closest(arguments[1]).getBoundingClientRect();
var view=p.querySelector('.tge-view').getBoundingClientRect(), pr=p.getBoundingClientRect();
var out=[];
if(pr.right>outer.right+0.5||pr.left<outer.left-0.5){out.push('player '+pr.left+'..'+pr.right+
  ' outside '+outer.left+'..'+outer.right);}
if(view.right>pr.right+0.5){out.push('view '+view.right+' past the player '+pr.right);}
if(arguments[2]){p.querySelectorAll('g.tge-v,g.tge-o').forEach(function(g){
  var b=g.getBoundingClientRect();
  if(b.right>view.right+0.5||b.left<view.left-0.5||b.top<view.top-0.5||b.bottom>view.bottom+0.5){
    out.push(g.textContent+' at '+b.left+'..'+b.right+' outside the view '+view.left+'..'
      +view.right);}});}
return out;"""

# how many lines a player's legend takes (its keys' distinct tops)
LEGEND_LINES = """
var tops={};arguments[0].querySelectorAll('.tge-legend .tge-key').forEach(function(k){
  tops[Math.round(k.getBoundingClientRect().top)]=1;});
return Object.keys(tops).length;"""

CURRENT_IN_VIEW = """
var p=arguments[0], v=p.querySelector('.tge-view').getBoundingClientRect();
var c=p.querySelector('g.cur'); if(!c){return null;}
var b=c.getBoundingClientRect();
return b.left>=v.left-0.5&&b.right<=v.right+0.5&&b.top>=v.top-0.5&&b.bottom<=v.bottom+0.5;"""


def _severe(driver, seen: list) -> list:
    seen += [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return seen


# ---- JupyterLab ------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# no extension manager, news or update checks: nothing to fetch, no prompts
LAB_FLAGS = ["--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
             "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]


@contextlib.contextmanager
def _jupyter(root: Path, app: str, cells: list[str], flags: list[str]):
    """Run `python -m <app>` (jupyterlab or notebook) on 127.0.0.1 (random port, a token,
    `root` as its root and for its config, settings and kernels), serving players.ipynb made of
    `cells`; yield its base URL and token, stop it afterwards."""
    import nbformat

    home = {d: root / f".{d}" for d in ("config", "data", "runtime", "settings", "ws", "ipy")}
    for d in home.values():
        d.mkdir()
    kernel = home["data"] / "kernels" / "tge-python"  # this interpreter, whatever else exists
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "tinygrad_edu test kernel", "language": "python"}))
    news = home["settings"] / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)  # no "get notified about news?" prompt, no fetching of news
    (news / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "tge-python", "display_name": "tinygrad_edu test kernel",
                                 "language": "python"}
    nbformat.write(nb, root / "players.ipynb")

    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(REPO), *filter(None, [os.environ.get("PYTHONPATH")])]),
        JUPYTER_CONFIG_DIR=str(home["config"]), JUPYTER_DATA_DIR=str(home["data"]),
        JUPYTER_RUNTIME_DIR=str(home["runtime"]), JUPYTERLAB_SETTINGS_DIR=str(home["settings"]),
        JUPYTERLAB_WORKSPACES_DIR=str(home["ws"]), IPYTHONDIR=str(home["ipy"]))
    log = open(root / "server.log", "w")  # closed when the server has stopped
    server = subprocess.Popen([
        sys.executable, "-m", app, "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
        "--ServerApp.terminals_enabled=False", *flags],
        env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                req = urllib.request.Request(f"{base}/api/status",
                                             headers={"Authorization": f"token {token}"})
                urllib.request.urlopen(req, timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail(f"python -m {app} did not start:\n"
                                + (root / "server.log").read_text()[-3000:])
                time.sleep(0.25)
        yield base, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A real `jupyter lab` with one notebook of three cells: the neuron, a Tensor MLP, explore
    sliders."""
    _need("jupyterlab", "ipywidgets", "nbformat")
    with _jupyter(tmp_path_factory.mktemp("lab"), "jupyterlab", [GRAPHS + NEURON, MLP, EXPLORE],
                  [*LAB_FLAGS, "--LabApp.expose_app_in_browser=True"]) as (base, token):
        yield f"{base}/lab/tree/players.ipynb?token={token}"


def _wait(driver, condition, what: str, timeout: float = 90):
    """Wait for `condition(driver)` to be truthy (polling), failing with `what`."""
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.2).until(
        condition, message=f"waited {timeout:.0f} s for {what}")


PANEL = ("var a=window.jupyterapp; if(!a){return null;} var w=Array.from(a.shell.widgets('main'))"
         ".filter(function(w){return w.context&&w.context.path==='players.ipynb';})[0];")
PLAYERS = ".jp-OutputArea-output .tge-player"


def _run_all_cells(driver, url: str, outputs, what: str) -> None:
    """Open players.ipynb at `url` (Lab or Notebook 7, whose app is exposed as window.jupyterapp),
    wait for its kernel, run every cell and wait until `outputs(driver)` holds."""
    driver.get(url)
    _wait(driver, lambda d: d.execute_script(
        PANEL + "var k=w&&w.sessionContext.session&&w.sessionContext.session.kernel;"
        "return !!(k&&k.status==='idle');"), "the notebook open and its kernel idle")
    driver.execute_script(PANEL + "window.jupyterapp.shell.activateById(w.id);"
                          "return window.jupyterapp.commands.execute('notebook:run-all-cells');")
    _wait(driver, outputs, what)


def _the_neuron_reads_fits_and_steps(driver, neuron) -> None:
    """What the neuron's player must do in any Jupyter output area: readable text, the player
    and every node inside the output, a one-line legend, the right gradient table, keys and
    buttons that step it (and the keys it takes never reach Jupyter's shortcuts)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    smallest = driver.execute_script(SMALLEST_TEXT, neuron)
    assert smallest >= MIN_TEXT_PX - 0.01, f"the graph's text is {smallest:.1f} px"
    assert driver.execute_script(INSIDE, neuron, ".jp-OutputArea-output", True) == []
    assert driver.execute_script(LEGEND_LINES, neuron) == 1, "the legend is one line"
    assert shown_grads(neuron) == dict.fromkeys(["x1", "w1", "x2", "w2", "b"]), \
        "the gradient table: every input, none known at the first step"

    neuron.find_element(By.CLASS_NAME, "tge-heading").click()  # the player has the keys
    explain = neuron.find_element(By.CLASS_NAME, "tge-explain")
    first = explain.text
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    assert neuron.get_attribute("data-step") == "1", "the right arrow steps the player"
    assert explain.text != first and explain.text.startswith("x1*w1 = ")
    neuron.find_element(By.CLASS_NAME, "tge-next").click()
    assert neuron.get_attribute("data-step") == "2"
    ActionChains(driver).send_keys(Keys.ARROW_LEFT).perform()
    assert neuron.get_attribute("data-step") == "1"
    ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ARROW_RIGHT).key_up(
        Keys.CONTROL).perform()
    assert neuron.get_attribute("data-step") == "1", "a key with Ctrl is the host's, not a step"
    ActionChains(driver).send_keys(Keys.END).perform()
    assert neuron.get_attribute("data-step") == neuron.find_element(
        By.CLASS_NAME, "tge-slider").get_attribute("max")
    assert shown_grads(neuron) == neuron_grads()
    for _ in range(2):  # '0' fits the graph; '0 0' in command mode would restart the kernel
        ActionChains(driver).send_keys("0").perform()
    assert driver.find_elements(By.CSS_SELECTOR, ".jp-Dialog") == [], "no Jupyter dialog opened"
    assert driver.execute_script(PANEL + "return w.sessionContext.session.kernel.status") \
        == "idle", "the keys went to the player, not to Jupyter's shortcuts"


def test_the_player_in_jupyterlab_light_and_dark_with_keys_and_sliders(lab, browser):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    errors: list = []
    _severe(browser, errors)  # what earlier tests left in the log is theirs
    _run_all_cells(browser, lab, lambda d: len(d.find_elements(By.CSS_SELECTOR, PLAYERS)) == 3
                   and all(p.get_attribute("data-step") == "0"
                           for p in d.find_elements(By.CSS_SELECTOR, PLAYERS))
                   and len(d.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")) == 2,
                   "the three cells' outputs: two players and explore's sliders over a third")
    neuron, mlp, explored = browser.find_elements(By.CSS_SELECTOR, PLAYERS)
    assert not neuron.find_elements(By.XPATH, "ancestor::*[contains(@class,'jupyter-widgets')]")
    assert explored.find_elements(By.XPATH, "ancestor::*[contains(@class,'widget-output')]"), \
        "explore's player is inside its ipywidgets Output"

    # readable and whole at the default view, inside Lab's output area (file browser open)
    for player in (mlp, explored):
        smallest = browser.execute_script(SMALLEST_TEXT, player)
        assert smallest >= 11 and smallest >= MIN_TEXT_PX - 0.01, \
            f"the graph's text is {smallest:.1f} px at the default view in Lab"
    assert browser.execute_script(INSIDE, explored, ".jp-OutputArea-output", True) == []
    assert browser.execute_script(INSIDE, mlp, ".jp-OutputArea-output", False) == [], \
        "a graph too wide for the view pans inside the player; the player fits the output"

    # keys and buttons step it, in Lab's command mode, without triggering Lab's shortcuts
    _the_neuron_reads_fits_and_steps(browser, neuron)
    for _ in range(3):  # the MLP is wider than the view: the current node is kept in view
        mlp.find_element(By.CLASS_NAME, "tge-next").click()
        assert browser.execute_script(CURRENT_IN_VIEW, mlp) is True

    light = browser.execute_script(CONTRAST, neuron)
    assert min(light.values()) >= 4.5, f"contrast ratios under Lab's light theme: {light}"

    # Lab's dark theme: the players follow it, and every text stays readable
    browser.execute_script(
        "return window.jupyterapp.commands.execute('apputils:change-theme',"
        "{theme:'JupyterLab Dark'})")
    _wait(browser, lambda d: all("tge-dark" in p.get_attribute("class")
                                 for p in d.find_elements(By.CSS_SELECTOR, PLAYERS)),
          "the players to turn dark with Lab's theme", timeout=30)
    assert browser.execute_script("return document.body.dataset.jpThemeLight") == "false"
    dark = browser.execute_script(CONTRAST, neuron)
    assert min(dark.values()) >= 4.5, f"contrast ratios under Lab's dark theme: {dark}"

    # explore: a slider moved re-runs forward and backward; the new player shows the result
    before = explored.get_attribute("id")
    assert "a = 2.0, b = -3.0" in explored.find_element(By.CLASS_NAME, "tge-explain").text
    handle = browser.find_elements(By.CSS_SELECTOR, ".widget-slider .noUi-handle")[0]
    browser.execute_script("arguments[0].focus()", handle)
    ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()  # a: 2.0 -> 2.05
    _wait(browser, lambda d: d.execute_script(
        "var p=document.querySelectorAll(arguments[0])[2];"
        "return !!p&&p.id!==arguments[1]&&p.getAttribute('data-step')==='0';", PLAYERS, before),
        "the redrawn player after the slider moved", timeout=60)
    redrawn = browser.find_elements(By.CSS_SELECTOR, PLAYERS)[2]
    assert redrawn.find_element(By.CLASS_NAME, "tge-explain").text == "Inputs: a = 2.05, b = -3.0"
    redrawn.find_element(By.CLASS_NAME, "tge-last").click()
    a, b = Value(2.05), Value(-3.0)
    (a * b).tanh().backward()
    assert shown_grads(redrawn) == {"a": a.grad, "b": b.grad}
    assert "tge-dark" in redrawn.get_attribute("class"), "a redrawn player starts dark in Lab"

    assert _severe(browser, errors) == [], f"no console errors in Lab: {errors}"


# ---- Jupyter Notebook 7 (the classic interface, `jupyter notebook`) ---------------------------

@pytest.fixture(scope="module")
def classic(tmp_path_factory):
    """A real `jupyter notebook` (Notebook 7) serving one notebook: the neuron."""
    _need("notebook", "nbformat")
    with _jupyter(tmp_path_factory.mktemp("notebook"), "notebook", [GRAPHS + NEURON],
                  [*LAB_FLAGS, "--JupyterNotebookApp.expose_app_in_browser=True"]) as (base, token):
        yield f"{base}/notebooks/players.ipynb?token={token}"


# Notebook 7's own start-up error, before any cell runs (jupyter/notebook#7862: its shortcuts
# plugin reads the settings schema of a plugin not loaded yet); nothing of the player's
NOTEBOOKS_OWN = "(reading 'schema')"


def test_the_player_in_the_classic_notebook_interface(classic, browser):
    from selenium.webdriver.common.by import By

    errors: list = []
    _severe(browser, errors)  # what earlier tests left in the log is theirs
    _run_all_cells(browser, classic, lambda d: [p.get_attribute("data-step") for p in
                                                d.find_elements(By.CSS_SELECTOR, PLAYERS)]
                   == ["0"], "the neuron's player in the notebook's output area")
    assert browser.execute_script("return window.jupyterapp.name") == "Jupyter Notebook"
    (neuron,) = browser.find_elements(By.CSS_SELECTOR, PLAYERS)
    _the_neuron_reads_fits_and_steps(browser, neuron)
    errors = [e for e in _severe(browser, errors) if not (
        "/static/notebook/" in e["message"] and NOTEBOOKS_OWN in e["message"])]
    assert errors == [], f"no console errors in the notebook: {errors}"


# ---- nbconvert's HTML export ---------------------------------------------------------------

def test_the_player_in_a_notebook_exported_by_nbconvert_works_offline(browser, tmp_path):
    """A notebook executed by a real kernel, exported by nbconvert (its default 'lab'
    template, light and dark), opened with the network off: the same player."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    _need("nbconvert", "nbformat", "nbclient")
    import nbformat
    from nbconvert import HTMLExporter

    build = _load("tge_nb_build", REPO / "notebooks" / "build.py")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c)
                                         for c in (GRAPHS + NEURON, MLP)])
    build.execute(nb, fast=True, timeout=180)
    for cell in nb.cells:
        (output,) = cell.outputs
        assert set(output["data"]) == {"text/html", "text/plain"}, "a plain HTML output"
    pages = {}
    for theme in ("light", "dark"):
        body, _ = HTMLExporter(theme=theme).from_notebook_node(nb)
        pages[theme] = tmp_path / f"exported-{theme}.html"
        pages[theme].write_text(body, encoding="utf-8")
    # the template's own scripts (require.js, MathJax) come from the web: offline they fail,
    # and only they may
    theirs = set(re.findall(r'<script[^>]*\ssrc="(https?://[^"]+)"', body))

    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    try:
        for theme, page in pages.items():
            _severe(browser, [])
            browser.get(page.as_uri())
            # both players, once their scripts have run (a loaded machine can be slow to)
            players = _wait(browser, lambda d: (lambda ps: ps if len(ps) == 2 else None)(
                d.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output .tge-player")),
                f"both players of the {theme} export")
            assert [p.get_attribute("data-step") for p in players] == ["0", "0"]
            errors = [e for e in _severe(browser, []) if not any(u in e["message"]
                                                                 for u in theirs)]
            assert errors == [], f"no console errors from the players: {errors}"
            neuron, mlp = players
            for player in players:
                assert browser.execute_script(SMALLEST_TEXT, player) >= MIN_TEXT_PX - 0.01
                assert browser.execute_script(INSIDE, player, ".jp-OutputArea-output",
                                              player == neuron) == []
            assert ("tge-dark" in neuron.get_attribute("class")) == (theme == "dark")
            contrast = browser.execute_script(CONTRAST, neuron)
            assert min(contrast.values()) >= 4.5, f"{theme} export: contrast {contrast}"
            neuron.find_element(By.CLASS_NAME, "tge-heading").click()
            ActionChains(browser).send_keys(Keys.ARROW_RIGHT).perform()
            assert neuron.get_attribute("data-step") == "1"
            assert mlp.get_attribute("data-step") == "0", "each player keeps its own keys"
            ActionChains(browser).send_keys(Keys.END).perform()
            assert shown_grads(neuron) == neuron_grads()
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
