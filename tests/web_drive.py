#!/usr/bin/env python3
"""Drives the browser lab (web/, built by scripts/web.sh) in headless Chromium as a student would, for
tests/test_web.sh: clicks its buttons, types into its config editor, and writes what the page shows into OUT for the
test's checks. Chromium is driven over its DevTools protocol on a pipe (scripts/devtools.py, the client
scripts/web_bench.py uses too). Real time, not virtual time: the page trains in Web Workers.

usage: web_drive.py CHROMIUM URL OUT SCENARIO
  SCENARIO full:  check that it loads; type bad configs into the first variant's editor (OUT/typed-K.json,
                  OUT/error-K.txt; its config path and --set lines: OUT/typed-config.json); train the quick pair with
                  pause, step and resume (OUT/controls.json); read every variant's metrics table
                  (OUT/page-VARIANT.csv) and the report's histograms (OUT/hist.json); download the logs (.tar) and
                  each variant's checkpoint (OUT/downloads/; the command the card then shows to evaluate it
                  natively: OUT/ckpt-cmd-VARIANT.txt); a screenshot (OUT/page.png)
  SCENARIO load:  it loads, and with seed 2 one Step trains one step of each variant (OUT/controls.json)
Always: OUT/console.txt (console errors and uncaught exceptions, one a line), OUT/command.txt (the page's command
line). Exits 1 (with a line saying why) if the page does not get as far as the scenario needs.
"""
import base64
import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "scripts"))
from devtools import Chromium, DevToolsError  # noqa: E402  scripts/devtools.py: the one DevTools client

CHROMIUM, URL, OUT, SCENARIO = sys.argv[1:5]
os.makedirs(os.path.join(OUT, "downloads"), exist_ok=True)
console = []


class Browser(Chromium):
    """The page's tab (scripts/devtools.py) with the console's errors collected and downloads into OUT/downloads."""

    def __init__(self):
        super().__init__(CHROMIUM, ["--window-size=1400,1000"], on_event=self.event)
        for d in ("Runtime.enable", "Log.enable", "Page.enable"):
            self.call(d)
        self.call("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": os.path.join(OUT, "downloads")},
                  browser=True)

    def event(self, m):
        p = m.get("params", {})
        if m.get("method") == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            console.append("exception: %s %s" % (d.get("text", ""), d.get("exception", {}).get("description", "")))
        elif m.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            console.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])))
        elif m.get("method") == "Log.entryAdded" and p["entry"]["level"] == "error":
            if "favicon" not in p["entry"].get("url", ""):
                console.append("log: %s %s" % (p["entry"]["text"], p["entry"].get("url", "")))

    def js(self, expr):
        try:
            return self.evaluate(expr)
        except DevToolsError as e:
            raise SystemExit(str(e))

    def pump(self, seconds):
        """Lets time pass while reading events (console messages)."""
        end = time.time() + seconds
        while time.time() < end:
            self.js("1")
            time.sleep(0.1)

    def wait(self, expr, timeout, what):
        end = time.time() + timeout
        while time.time() < end:
            v = self.js(expr)
            if v:
                return v
            time.sleep(0.2)
        st = (self.js("document.body.getAttribute('data-state')"), self.js("document.getElementById('status').textContent"))
        self.finish()
        raise SystemExit("timed out after %d s waiting for %s (state %s, status %r)" % (timeout, what, st[0], st[1]))

    def click(self, sel):
        self.js("document.querySelector(%s).click()" % json.dumps(sel))

    def type_into(self, sel, text):
        """Replaces a textarea's text by typing: focus, select all, insert the text (input events as from a keyboard)."""
        self.js("(function(){var t=document.querySelector(%s); t.closest('details').open=true; t.focus(); t.select();})()" % json.dumps(sel))
        self.call("Input.insertText", {"text": text})

    def finish(self):
        if self.proc.returncode is not None:
            return
        with open(os.path.join(OUT, "console.txt"), "w") as f:
            f.write("".join(c + "\n" for c in console))
        self.close()


def write(name, text):
    with open(os.path.join(OUT, name), "w") as f:
        f.write(text)


def scenario(b):
    t0 = time.time()
    b.call("Page.navigate", {"url": URL})
    b.wait("document.body && document.body.getAttribute('data-state') === 'idle'", 90, "the page to load its engine")
    t_load = time.time() - t0
    write("command.txt", b.js("document.getElementById('command').textContent") + "\n")
    STATE = "document.body.getAttribute('data-state')"

    def nvar():
        return b.js("document.querySelectorAll('#variants .card').length")

    STEPS = "Array.prototype.map.call(document.querySelectorAll('#variants .card'), function(c){return +c.getAttribute('data-step')})"

    if SCENARIO == "load":  # with seed 2: the runs' config.json and the command line say so
        b.js("(function(s){s.value='2'; s.dispatchEvent(new Event('change'));})(document.getElementById('seed'))")
        b.click("#step")
        b.wait(STATE + " === 'paused' && " + STEPS + ".every(function(s){return s === 1})", 90, "one step of each variant")
        write("controls.json", json.dumps({
            "after_step": b.js(STEPS), "version": b.js("document.getElementById('version').textContent"),
            "command": b.js("document.getElementById('command').textContent"),
            "seeds": b.js("Array.prototype.map.call(document.querySelectorAll('#variants .card'), function(c){"
                          "return JSON.parse(bnlabPage.files(c.getAttribute('data-variant'))['config.json']).seed})")}))
        return

    # Bad configs typed into the first variant's editor: its error line, as the CLI prints it.
    first = "#variants .card:first-child "
    orig = b.js("document.querySelector('%stextarea[data-role=json]').value" % first)
    bad = [orig.rstrip().rstrip("}"),                                                # JSON cut short
           orig.replace('"units": 100', '"units": "a hundred"', 1),                   # a wrong type at a JSON path
           orig.replace('"lr": 0.5', '"lr": 0.5, "learning_rate": 1', 1)]             # an unknown key
    prev = ""
    for k, text in enumerate(bad):
        b.type_into(first + "textarea[data-role=json]", text)
        err = b.wait("(function(t){return t !== %s && t})(document.querySelector('%spre[data-role=error]').textContent)"
                     % (json.dumps(prev), first), 20, "an error for typed config %d" % k)
        prev = err
        write("typed-%d.json" % k, text)
        write("error-%d.txt" % k, err + "\n")
    b.type_into(first + "textarea[data-role=json]", orig)
    b.wait("document.querySelector('%spre[data-role=error]').textContent === ''" % first, 20, "the error to clear")
    write("typed-config.json", json.dumps(b.js("(function(c){return {config: c.getAttribute('data-config'), "
                                               "sets: c.querySelector('textarea[data-role=sets]').value}})"
                                               "(document.querySelector('%s'))" % first.strip())))

    # The quick pair: Step +1 starts both runs paused after one step; Train resumes them to the end.
    b.click("#step")
    b.wait(STATE + " === 'paused' && " + STEPS + ".join() === " + json.dumps(",".join("1" for _ in range(nvar()))), 90,
           "Step +1 to start each variant with one step")
    first_step = b.js(STEPS)
    t0 = time.time()
    HEIGHTS = "Array.prototype.map.call(document.querySelectorAll('svg.hist'), function(s){return s.getAttribute('data-heights')}).join('|')"
    hist_step1 = b.wait("document.querySelectorAll('svg.hist').length && " + HEIGHTS, 20, "the histograms after one step")
    b.click("#train")
    b.wait(STATE + " === 'done'", 600, "the runs to finish")
    done = b.js(STEPS)
    controls = {"first_step": first_step, "done": done, "seconds_load": round(t_load, 2),
                "seconds_train": round(time.time() - t0, 2)}
    b.pump(2.0)  # the last report

    # The numbers the page shows: each variant's metrics table.
    for v in b.js("Array.prototype.map.call(document.querySelectorAll('table.numbers'), function(t){return t.getAttribute('data-variant')})"):
        rows = b.js("Array.prototype.map.call(document.querySelectorAll('table.numbers[data-variant=\"%s\"] tr'), "
                    "function(r){return Array.prototype.map.call(r.children, function(c){return c.textContent}).join(',')})" % v)
        write("page-%s.csv" % v, "\n".join(rows) + "\n")

    # The report's histograms (its own script's slider): the first frame against the last, and while training.
    hist = b.js("""(function(){
      var s = document.getElementById('slider');
      function heights(){ return Array.prototype.map.call(document.querySelectorAll('svg.hist'), function(x){return x.getAttribute('data-heights')}).join('|'); }
      s.value = 0; s.dispatchEvent(new Event('input')); var a = heights();
      s.value = s.max; s.dispatchEvent(new Event('input')); var z = heights();
      return {panels: document.querySelectorAll('svg.hist').length, frames: +s.max + 1, first: a, last: z};
    })()""")
    hist["step1"] = hist_step1
    hist["done"] = b.js(HEIGHTS)
    write("hist.json", json.dumps(hist))
    write("report.json", json.dumps(b.js("""(function(){
      return {reports: +document.body.getAttribute('data-reports'),
              curves: document.querySelectorAll('#slot-curves svg.figure[data-kind=accuracy], #slot-curves svg.figure[data-kind=loss]').length,
              percentiles: document.querySelectorAll('#slot-percentiles svg.figure[data-kind=percentiles]').length,
              layers: document.querySelectorAll('#slot-layers svg.figure[data-kind=layers]').length,
              colours: Array.prototype.map.call(document.querySelectorAll('#variants .card'), function(c){
                return c.getAttribute('data-variant') + '=' + getComputedStyle(c.querySelector('h3')).color})};
    })()""")))

    # The projector view: the curves one per row, wider than side by side.
    W = "document.querySelector('#slot-curves svg.figure[data-kind=accuracy]').getBoundingClientRect().width"
    w0 = b.js(W)
    b.click("#big")
    b.pump(0.5)
    w1 = b.js(W)
    b.click("#big")
    write("projector.json", json.dumps({"normal": w0, "projector": w1}))

    # Downloads: the logs, then each variant's checkpoint.
    b.click("#logs")
    for k in range(b.js("document.querySelectorAll('#variants .card').length")):
        b.click("#variants .card:nth-child(%d) button.small" % (k + 1))
        b.pump(0.5)
    end = time.time() + 30
    want = 1 + b.js("document.querySelectorAll('#variants .card').length")
    while time.time() < end:
        got = [f for f in os.listdir(os.path.join(OUT, "downloads")) if not f.endswith(".crdownload")]
        if len(got) >= want:
            break
        b.pump(0.3)
    # What each card says to run natively on its checkpoint.
    for c in b.js("Array.prototype.map.call(document.querySelectorAll('#variants .card'), function(c){"
                  "return [c.getAttribute('data-variant'), c.querySelector('[data-role=ckpt-cmd]').textContent]})"):
        write("ckpt-cmd-%s.txt" % c[0], c[1] + "\n")

    # Pause, step and resume on a long run (the Fig. 1 pair, 10,000 steps): a paused run does not move, Step +1 adds
    # one step to each variant, Resume goes on.
    b.call("Emulation.setDeviceMetricsOverride", {"width": 1400, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    b.js("window.scrollTo(0, 0)")
    shot = b.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                             "clip": {"x": 0, "y": 0, "width": 1400, "height": 2600, "scale": 1}})
    with open(os.path.join(OUT, "page.png"), "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    b.click("#reset")
    b.js("(function(s){s.value='fig1'; s.dispatchEvent(new Event('change'));})(document.getElementById('experiment'))")
    b.wait(STATE + " === 'idle' && document.getElementById('experiment').value === 'fig1'", 20, "the Fig. 1 pair")
    b.click("#train")
    b.wait(STATE + " === 'running' && Math.min.apply(null, " + STEPS + ") >= 200", 120, "200 steps of each variant")
    b.click("#train")  # pause
    # Paused when every worker has said so (it finishes the chunk of steps it is in first).
    b.wait(STATE + " === 'paused' && Array.prototype.every.call(document.querySelectorAll('#variants .card'), "
           "function(c){return c.getAttribute('data-running') === 'no'})", 30, "every worker to pause")
    b.pump(0.5)
    controls["paused"] = b.js(STEPS)
    b.pump(1.5)
    controls["paused_later"] = still = b.js(STEPS)
    b.click("#step")
    b.wait(STEPS + ".join() === " + json.dumps(",".join(str(s + 1) for s in still)), 20, "Step +1 to add one step to each variant")
    controls["stepped"] = b.js(STEPS)
    b.click("#train")  # resume
    b.pump(2.0)
    controls["resumed"] = b.js(STEPS)
    controls["resumed_state"] = b.js(STATE)
    b.click("#train")
    b.wait(STATE + " === 'paused'", 10, "pause")
    write("controls.json", json.dumps(controls))


b = Browser()
try:
    scenario(b)
except DevToolsError as e:
    raise SystemExit(str(e))
finally:
    b.finish()
