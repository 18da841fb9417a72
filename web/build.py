#!/usr/bin/env python3
"""Assembles the browser lab into one self-contained page: OUT/index.html.

usage: python3 web/build.py --engine BNLAB_JS [--wasm BNLAB_WASM] --bnlab BUILD/bnlab --out OUT_DIR

Everything the page needs is inlined, so that it opens from file:// (Chromium fetches no .wasm and starts no Worker
from a file:// URL, but runs a Worker from a Blob URL of JavaScript text it already has) and from any static server:
- the engine: emscripten's build of the C engine (src/web/web.h; factory createBnlab), its JavaScript kept as text in
  <script type="text/plain" id="engine-js"> — the page evaluates it once and starts each Worker from it — and its
  .wasm as base64 in <script type="text/plain" id="engine-wasm">, handed to createBnlab({wasmBinary}) (without
  --wasm: a single-file build, the wasm already inside the JavaScript);
- the page's own files (web/index.html, web/page.css, web/app.js, web/worker.js, web/tar.js) and the report's
  (src/view/page/report.css: the same look as `bnlab report`);
- the shipped MNIST subset (datasets/mnist-subset/*.gz, base64; the page gunzips them with DecompressionStream);
- every config under configs/ (text, as shipped: the page writes them into the engine's in-memory file system at the
  same relative paths, so errors name them as `build/bnlab` does from the repository's top directory);
- the experiments of web/experiments.json, expanded by the native `bnlab check SPEC` into each variant's config file
  and overrides — exactly the runs `build/bnlab compare` makes (no second reading of the spec format here).
Writes OUT/index.html.tmp and renames it: a failed build leaves no half page.
"""
import argparse
import base64
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WEB = os.path.join(ROOT, "web")
DATA = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
        "t10k-labels-idx1-ubyte.gz"]


def fail(msg):
    print("web/build.py: error: " + msg, file=sys.stderr)
    sys.exit(1)


def read(path, mode="r"):
    try:
        with open(path, mode) as f:
            return f.read()
    except OSError as e:
        fail("%s: %s" % (path, e.strerror))


def rel(path):
    """A config path as bnlab check prints it (absolute, or relative to the working directory) -> relative to ROOT."""
    p = os.path.relpath(os.path.abspath(path), ROOT)
    if p.startswith(".."):
        fail("%s is not inside the repository %s" % (path, ROOT))
    return p


def check_spec(bnlab, spec, sets):
    """`bnlab check SPEC --set ...`: the expanded spec (its JSON, before the closing summary line)."""
    argv = [bnlab, "check", spec]
    for s in sets:
        argv += ["--set", s]
    r = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        fail("%s: %s" % (" ".join(argv), r.stderr.strip()))
    text = r.stdout[:r.stdout.rindex("\n}") + 2]
    return json.loads(text)


def experiment(bnlab, e):
    sets = e.get("set", [])
    if "spec" in e:
        spec = check_spec(bnlab, e["spec"], sets)
        variants = [{"name": v["name"], "config": rel(v["config"]), "set": v.get("overrides", [])}
                    for v in spec["variants"]]
        targets = spec.get("targets", [0.8, 0.9, 0.95])
        cmd = "build/bnlab compare %s" % e["spec"]
    else:
        variants = []
        for c in e["configs"]:
            j = json.loads(read(os.path.join(ROOT, c)))
            variants.append({"name": j["name"], "config": c, "set": list(sets)})
        targets = [0.8, 0.9, 0.95]
        cmd = "build/bnlab compare " + " ".join(e["configs"])
    if "only" in e:
        keep = [v for v in variants if v["name"] in e["only"]]
        if len(keep) != len(e["only"]):
            fail("%s: \"only\" names a variant the spec does not have: %s" % (e["id"], e["only"]))
        variants = keep
        cmd = None  # a subset of a spec's runs: no single command line makes just these (e["command"] says so)
    # The page's --set, shown as the command line that makes the same runs natively.
    if cmd:
        cmd += " --seeds 1" + "".join(" --set %s" % s for s in sets)
    return {"id": e["id"], "title": e["title"], "look": e["look"], "variants": variants, "targets": targets,
            "set": sets, "command": cmd, "note": e.get("command")}


def inline_script(text, what):
    if "</script" in text.lower():
        fail("%s contains \"</script\": it cannot be inlined into a <script> element" % what)
    return text


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--engine", required=True)
    ap.add_argument("--wasm")
    ap.add_argument("--bnlab", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    bnlab = os.path.abspath(a.bnlab)
    ex = json.loads(read(os.path.join(WEB, "experiments.json")))
    catalog = {"experiments": [experiment(bnlab, e) for e in ex["experiments"]], "configs": {}}
    for name in sorted(os.listdir(os.path.join(ROOT, "configs"))):
        if name.endswith(".json"):
            catalog["configs"]["configs/" + name] = read(os.path.join(ROOT, "configs", name))
    page = read(os.path.join(WEB, "index.html"))
    parts = {
        "REPORT_CSS": read(os.path.join(ROOT, "src", "view", "page", "report.css")),
        "PAGE_CSS": read(os.path.join(WEB, "page.css")),
        "CATALOG": inline_script(json.dumps(catalog, ensure_ascii=False).replace("<", "\\u003c"), "the catalog"),
        "ENGINE": inline_script(read(a.engine), a.engine),
        "WASM": base64.b64encode(read(a.wasm, "rb")).decode() if a.wasm else "",
        "DATA": "\n".join('<script type="text/plain" class="dataset" data-path="datasets/mnist-subset/%s">%s</script>'
                          % (f, base64.b64encode(read(os.path.join(ROOT, "datasets", "mnist-subset", f), "rb")).decode())
                          for f in DATA),
        "TAR_JS": inline_script(read(os.path.join(WEB, "tar.js")), "web/tar.js"),
        "WORKER_JS": inline_script(read(os.path.join(WEB, "worker.js")), "web/worker.js"),
        "APP_JS": inline_script(read(os.path.join(WEB, "app.js")), "web/app.js"),
    }
    for k, v in parts.items():
        mark = "<!--@%s@-->" % k
        if page.count(mark) != 1:
            fail("web/index.html: expected one %s" % mark)
        page = page.replace(mark, v)
    os.makedirs(a.out, exist_ok=True)
    out = os.path.join(a.out, "index.html")
    with open(out + ".tmp", "w") as f:
        f.write(page)
    os.replace(out + ".tmp", out)
    print("web: %s (%.1f MB): %d experiments" % (out, len(page.encode()) / 1e6, len(catalog["experiments"])))


if __name__ == "__main__":
    main()
