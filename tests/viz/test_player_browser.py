"""The HTML player in a real headless Chromium: offline, readable, keys, clicks, dark pages.

Needs Debian's `chromium` and `chromium-driver` and the `selenium` package. Without them the
test is skipped, except on CI (CI=true), where a missing browser is a failure.
"""

import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tinygrad_edu import Value, nn
from tinygrad_edu import random as tge_random
from tinygrad_edu.tensor import Tensor
from tinygrad_edu.viz import step_through
from tinygrad_edu.viz.player import MIN_TEXT_PX

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


@pytest.fixture(scope="module")
def browser():
    _browser_or_skip()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="tge-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-quic", f"--user-data-dir={profile}",
                 "--window-size=1280,900"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def open_page(browser, path):
    browser.get(path.as_uri())
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == [], f"no console errors: {errors}"
    from selenium.webdriver.common.by import By

    return browser.find_elements(By.CLASS_NAME, "tge-player")


SMALLEST_TEXT = """
var out=[];
arguments[0].querySelectorAll('svg text').forEach(function(t){
  if(!t.textContent){return;}
  var m=t.getScreenCTM(), fs=parseFloat(getComputedStyle(t).fontSize);
  out.push(fs*Math.hypot(m.a,m.b));
});
return Math.min.apply(null,out);"""


def micrograd_neuron():
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    s = x1w1 + x2w2
    s.label = "x1*w1 + x2*w2"
    n = s + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o


def tensor_mlp():
    tge_random.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 3), nn.Tanh(), nn.Linear(3, 1))
    x = Tensor(np.array([[0.5, -1.0], [1.5, 2.0]]))
    return (model(x) ** 2).mean()


def scalar_mlp_300_steps():
    from tinygrad_edu.nn.scalar import MLP

    tge_random.manual_seed(0)
    model = MLP(3, [4, 4, 1])
    data = [([2.0, 3.0, -1.0], 1.0), ([3.0, -1.0, 0.5], -1.0)]
    return sum(((model(x) - y) ** 2 for x, y in data), Value(0.0))


@pytest.mark.parametrize("build", [micrograd_neuron, tensor_mlp, scalar_mlp_300_steps])
def test_text_is_readable_at_the_default_view(browser, tmp_path, build):
    player = step_through(build())
    if build is scalar_mlp_300_steps:
        assert len(player) >= 300
    (root,) = open_page(browser, player.save_html(tmp_path / "p.html"))
    smallest = browser.execute_script(SMALLEST_TEXT, root)
    assert smallest >= 11, f"the graph's text is {smallest:.1f} px at the default view"
    assert smallest >= MIN_TEXT_PX - 0.01
    view = root.find_element("css selector", ".tge-view")
    assert view.size["width"] <= root.size["width"], "the graph stays inside the player"


def test_player_offline_next_keys_and_last_step_gradients(browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    a, b, c = Value(2.0, label="a"), Value(-3.0, label="b"), Value(10.0, label="c")
    L = (a * b + c).tanh() + a * a
    player = step_through(L)
    path = player.save_html(tmp_path / "steps.html")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0})
    try:
        (root,) = open_page(browser, path)
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    assert root.get_attribute("data-step") == "0", "the script ran and showed the first step"
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources == [], f"the page loads nothing else: {resources}"
    assert len(root.find_elements(By.CSS_SELECTOR, "svg g.tge-v")) == 8, "3 inputs, 5 ops"
    assert root.find_elements(By.CSS_SELECTOR, "svg .cur") == [], "no node is current yet"

    root.find_element(By.CLASS_NAME, "tge-next").click()
    assert root.get_attribute("data-step") == "1"
    assert root.find_element(By.CLASS_NAME, "tge-counter").text == f"step 2 / {len(player)}"
    assert root.find_element(By.CLASS_NAME, "tge-explain").text == player.frames[1].explanation
    assert len(root.find_elements(By.CSS_SELECTOR, "svg .cur")) == 2, "the op and its result"

    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert root.get_attribute("data-step") == "2", "the right arrow key steps too"
    body.send_keys(Keys.ARROW_LEFT)
    assert root.get_attribute("data-step") == "1"
    scale = "return +arguments[0].querySelector('.tge-cam').getAttribute('transform')" \
            ".match(/scale\\(([\\d.e-]+)/)[1]"
    before = browser.execute_script(scale, root)
    body.send_keys("+")
    assert browser.execute_script(scale, root) == pytest.approx(before * 1.25)
    body.send_keys("-")
    assert browser.execute_script(scale, root) == pytest.approx(before)

    body.send_keys(Keys.END)
    assert root.get_attribute("data-step") == str(len(player) - 1)
    rows = root.find_elements(By.CSS_SELECTOR, ".tge-grads tr[data-node]")
    shown = {r.get_attribute("data-node"):
             float(r.find_element(By.CLASS_NAME, "tge-grad").get_attribute("data-value"))
             for r in rows}
    assert shown == {"a": a.grad, "b": b.grad, "c": c.grad}
    drawn = [t.text for t in root.find_elements(By.CSS_SELECTOR, "svg text")]
    for leaf in (a, b, c):  # the picture of the last step has the gradients filled in too
        assert f"grad {leaf.grad:.4g}" in drawn
    body.send_keys(Keys.HOME)
    assert "grad ?" in [t.text for t in root.find_elements(By.CSS_SELECTOR, "svg text")]


def test_clicking_a_node_jumps_to_its_step(browser, tmp_path):
    from selenium.webdriver.common.by import By

    o = micrograd_neuron()
    player = step_through(o)
    _, data = player.player_data()
    (root,) = open_page(browser, player.save_html(tmp_path / "p.html"))
    (n_info,) = [(j, d) for j, d in enumerate(data["nodes"]) if d["n"] == "n" and not d["op"]]
    j, info = n_info
    target = root.find_element(By.CSS_SELECTOR, f'[data-key="{info["k"]}"] .tge-name')
    target.click()  # in the forward pass: n's forward step
    assert int(root.get_attribute("data-step")) == info["fw"]
    assert player.frames[info["fw"]].title.startswith("forward")
    assert player.frames[info["fw"]].explanation.startswith("n = ")
    root.find_element(By.CLASS_NAME, "tge-last").click()
    target.click()  # in the backward pass: the step where n passes its gradient on
    assert int(root.get_attribute("data-step")) == info["bk"]
    assert player.frames[info["bk"]].explanation.startswith("do/dn = ")


def test_hover_shows_full_precision_and_export_gives_the_frame_as_svg(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    o = micrograd_neuron()
    player = step_through(o)
    (root,) = open_page(browser, player.save_html(tmp_path / "p.html"))
    root.find_element(By.CLASS_NAME, "tge-last").click()
    box = [g for g in root.find_elements(By.CSS_SELECTOR, "g.tge-v")
           if g.find_element(By.CSS_SELECTOR, ".tge-name").text == "b"][0]
    ActionChains(browser).move_to_element(box.find_element(By.TAG_NAME, "rect")).perform()
    title = box.find_element(By.TAG_NAME, "title").get_attribute("textContent")
    b = o._parents[0]._parents[1]
    assert title == f"b\ndata = {b.data!r}\ngrad = {b.grad!r}"
    svg = browser.execute_script("return arguments[0].tgeExport()", root)
    assert svg.startswith("<svg") and "viewBox" in svg and "--tge-fg" in svg
    assert svg.count('class="tge-v leaf complete"') == 5, "the frame as it is shown"


def test_colours_work_on_a_dark_page(browser, tmp_path):
    player = step_through(micrograd_neuron())
    page = tmp_path / "dark.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head>'
                    '<body style="background:#111418;color:#d0d0d0">'
                    f"{player._repr_html_()}</body></html>", encoding="utf-8")
    (root,) = open_page(browser, page)
    assert "tge-dark" in root.get_attribute("class")
    contrast = browser.execute_script("""
    function rgb(c){return c.match(/[\\d.]+/g).slice(0,3).map(Number);}
    function lum(c){var w=[0.2126,0.7152,0.0722];return c.map(function(v){v/=255;
      return v<=0.03928?v/12.92:Math.pow((v+0.055)/1.055,2.4);})
      .reduce(function(s,v,i){return s+v*w[i];},0);}
    function ratio(a,b){var x=lum(rgb(a)),y=lum(rgb(b));
      return (Math.max(x,y)+0.05)/(Math.min(x,y)+0.05);}
    var r=arguments[0], ex=r.querySelector('.tge-explain'), t=r.querySelector('svg text');
    var box=r.querySelector('g.tge-v rect');
    return [ratio(getComputedStyle(ex).color,getComputedStyle(ex).backgroundColor),
            ratio(getComputedStyle(t).fill,getComputedStyle(box).fill),
            ratio(getComputedStyle(r).color,getComputedStyle(r).backgroundColor)];
    """, root)
    assert min(contrast) >= 4.5, f"contrast ratios {contrast}"


def test_two_players_on_one_page_work_apart(browser, tmp_path):
    """As in an exported notebook: each output's player keeps to itself."""
    from selenium.webdriver.common.by import By

    first, second = step_through(micrograd_neuron()), step_through(tensor_mlp())
    page = tmp_path / "two.html"
    page.write_text('<!DOCTYPE html><html><head><meta charset="utf-8"></head><body>'
                    f"{first._repr_html_()}<p>text</p>{second._repr_html_()}</body></html>",
                    encoding="utf-8")
    one, two = open_page(browser, page)
    two.find_element(By.CLASS_NAME, "tge-last").click()
    assert one.get_attribute("data-step") == "0"
    assert two.get_attribute("data-step") == str(len(second) - 1)


# where things are drawn, in the graph's own coordinates (the camera's zoom and pan undone):
# value boxes and ops by key, shut group boxes, the extent, and the ends of the shown edges
GEOMETRY = """
var r=arguments[0], cam=r.querySelector('.tge-cam'), inv=cam.getScreenCTM().inverse();
function box(el){var b=el.getBoundingClientRect();
  var p=new DOMPoint(b.left,b.top).matrixTransform(inv),
      q=new DOMPoint(b.right,b.bottom).matrixTransform(inv);
  return [p.x,p.y,q.x,q.y];}
function shown(el){return el.getClientRects().length>0;}
var items={}, shut=[], ends=[];
r.querySelectorAll('g.tge-v,g.tge-o').forEach(function(g){
  if(shown(g)){items[g.getAttribute('data-key')]=box(g.querySelector('rect,ellipse'));}});
r.querySelectorAll('g.tge-grp.tge-shut').forEach(function(g){
  if(shown(g)){shut.push(box(g.querySelector('rect')));}});
r.querySelectorAll('.tge-edge').forEach(function(e){if(!shown(e)){return;}
  var n=e.getTotalLength(), a=e.getPointAtLength(0), z=e.getPointAtLength(n);
  ends.push([a.x,a.y,z.x,z.y]);});
var all=[].concat(Object.keys(items).map(function(k){return items[k];}),shut);
var ext=[Math.min.apply(null,all.map(function(b){return b[0];})),
         Math.min.apply(null,all.map(function(b){return b[1];})),
         Math.max.apply(null,all.map(function(b){return b[2];})),
         Math.max.apply(null,all.map(function(b){return b[3];}))];
return {items:items, shut:shut, ends:ends, extent:ext};"""


def _overlap(a, b):
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


def _near(x, y, b, by=12.0):
    return b[0] - by <= x <= b[2] + by and b[1] - by <= y <= b[3] + by


def test_module_boxes_collapse_and_expand(browser, tmp_path):
    from selenium.webdriver.common.by import By

    player = step_through(scalar_mlp_300_steps())
    (root,) = open_page(browser, player.save_html(tmp_path / "p.html"))
    shown = "return [].filter.call(arguments[0].querySelectorAll('g.tge-v'), " \
            "function(g){return g.style.display!=='none';}).length"
    everything = browser.execute_script(shown, root)
    opened = browser.execute_script(GEOMETRY, root)
    root.find_element(By.CLASS_NAME, "tge-collapse").click()
    closed = root.find_elements(By.CSS_SELECTOR, "g.tge-grp.tge-shut")
    neurons = [g for g in player.layout().groups.values() if "Neuron" in g.title]
    assert len(closed) == len(neurons) == 4 + 4 + 1 + 4 + 4 + 1, "every neuron of both calls"
    assert browser.execute_script(shown, root) < everything / 4

    # the layout reflows: the neurons become small boxes, the rest closes up, edges follow
    shut = browser.execute_script(GEOMETRY, root)
    last = f"v{len(player.drawn) - 1}"  # the loss: drawn last, below the rest
    (x0, y0, x1, y1), (a0, b0, a1, b1) = opened["extent"], shut["extent"]
    assert (a1 - a0) * (b1 - b0) < 0.6 * (x1 - x0) * (y1 - y0), "the picture closes up"
    before, after = opened["items"][last], shut["items"][last]
    assert after[1] - b0 < 0.75 * (before[1] - y0), "the loss moves up, closer to the rest"
    for box in shut["shut"]:
        assert (box[3] - box[1]) < 3 * 22 + 1, "a shut neuron is a box of two lines"
        assert not any(_overlap(box, it) for it in shut["items"].values())
        assert sum(_overlap(box, other) for other in shut["shut"]) == 1, "only itself"
    boxes = list(shut["items"].values()) + shut["shut"]
    loose = [e for e in shut["ends"] if not any(_near(e[0], e[1], b) for b in boxes)
             or not any(_near(e[2], e[3], b) for b in boxes)]
    assert loose == [], f"every edge shown runs from a box to a box: {loose[:3]}"
    assert len(shut["ends"]) < len(opened["ends"]) / 3, "edges inside a shut box are hidden"

    hint = closed[0].find_element(By.CLASS_NAME, "tge-ghint")
    assert "nodes inside; click to open" in hint.get_attribute("textContent")
    title = closed[0].find_element(By.CLASS_NAME, "tge-gtitle")
    browser.execute_script("arguments[0].dispatchEvent(new MouseEvent('click',"
                           "{bubbles:true}))", title)
    assert len(root.find_elements(By.CSS_SELECTOR, "g.tge-grp.tge-shut")) == len(neurons) - 1
    one = browser.execute_script(GEOMETRY, root)
    assert not any(_overlap(b, it) for b in one["shut"] for it in one["items"].values()), \
        "an opened neuron pushes the others aside"
    root.find_element(By.CLASS_NAME, "tge-expand").click()
    assert browser.execute_script(shown, root) == everything
    again = browser.execute_script(GEOMETRY, root)
    assert again["items"].keys() == opened["items"].keys()
    assert all(again["items"][k] == pytest.approx(opened["items"][k], abs=0.05)
               for k in opened["items"]), "expanding puts everything back"
    root.find_element(By.CLASS_NAME, "tge-collapse").click()
    root.find_element(By.CLASS_NAME, "tge-next").click()  # the first op is inside a neuron
    assert len(root.find_elements(By.CSS_SELECTOR, "g.tge-grp.tge-shut.cur")) == 1


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
