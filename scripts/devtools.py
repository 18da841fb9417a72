"""Headless Chromium driven over its DevTools protocol on a pipe (--remote-debugging-pipe: file descriptors 3 and 4,
NUL-separated JSON; Python's standard library only): the one client of scripts/web_bench.py and tests/web_drive.py.

    b = Chromium(exe, args=["--window-size=1400,1000"], on_event=f)  # attached to its page
    b.call("Page.navigate", {"url": url}); b.evaluate("document.title"); b.close()

call() returns a command's result; the events that arrive meanwhile go to on_event (a dict each: "method",
"params"). A protocol error, a script that throws in evaluate(), or a Chromium that closes its pipe raise
DevToolsError with a line saying what.
"""
import json
import os
import shutil
import subprocess
import tempfile


class DevToolsError(RuntimeError):
    pass


class Chromium:
    def __init__(self, exe, args=(), on_event=None):
        r3, w3 = os.pipe()
        r4, w4 = os.pipe()
        self.profile = tempfile.mkdtemp(prefix="bnlab-chromium-profile-")
        self.on_event = on_event

        def fds():
            os.dup2(r3, 3)
            os.dup2(w4, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--user-data-dir=" + self.profile, "--remote-debugging-pipe"] + list(args) +
            ["about:blank"],
            pass_fds=(3, 4), preexec_fn=fds, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(r3)
        os.close(w4)
        self.w, self.r, self.buf, self.n, self.sid = w3, r4, b"", 0, None
        page = [t for t in self.call("Target.getTargets")["targetInfos"] if t["type"] == "page"][0]
        self.sid = self.call("Target.attachToTarget", {"targetId": page["targetId"], "flatten": True})["sessionId"]

    def recv(self):
        while b"\0" not in self.buf:
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                raise DevToolsError("chromium closed its pipe")
            self.buf += chunk
        m, self.buf = self.buf.split(b"\0", 1)
        return json.loads(m)

    def call(self, method, params=None, browser=False):
        """Sends a command to the page (browser: to the browser) and returns its result."""
        self.n += 1
        msg = {"id": self.n, "method": method, "params": params or {}}
        if self.sid and not browser:
            msg["sessionId"] = self.sid
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        while True:
            m = self.recv()
            if m.get("id") == self.n:
                if "error" in m:
                    raise DevToolsError("%s: %s" % (method, m["error"]))
                return m["result"]
            if self.on_event:
                self.on_event(m)

    def evaluate(self, expr):
        """The value of a JavaScript expression in the page (a promise awaited)."""
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True, "awaitPromise": True})
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            raise DevToolsError("page script failed: %s: %s %s" % (expr[:80], d.get("text", ""),
                                                                   d.get("exception", {}).get("description", "")))
        return r["result"].get("value")

    def close(self):
        if self.proc.returncode is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)
