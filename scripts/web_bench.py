#!/usr/bin/env python3
"""Steps per second of the paper's network (configs/fig1.json's variants: configs/mnist-bn.json, mnist-nobn.json;
784-100-100-100-10 sigmoid, batch 60, the test set evaluated every 50 steps as fig1.json sets) in the WebAssembly
build — in headless Chromium and in node — against the native build, measured in one run, interleaved, so that the
ratios hold on a loaded machine.

usage: python3 scripts/web_bench.py [--steps N] [--rounds R] [--site DIR] [--bnlab BNLAB]
  (after `bash scripts/web.sh`; DIR default build-web/site, BNLAB default build/bnlab, N 1000, R 2)

Every engine trains the same config for N steps and writes the same metrics.csv, whose seconds column (wall clock
since the run started) gives the rate the same way for all: (last step - 50) / (its seconds - seconds at step 50),
the first 50 steps left out as warm-up (the JIT's tiers, caches). Native: `bnlab train` with the default backend
(auto), with OpenBLAS (BNLAB_GEMM=openblas) and with the portable GEMM (BNLAB_GEMM=portable). WebAssembly: tests/wasm_run.js under node, and the same C API
driven in Chromium over its DevTools protocol on a pipe (scripts/devtools.py), the module instantiated
from the bytes as the page does, the subset gunzipped by the browser's DecompressionStream. Each round runs every
engine once per variant; the best round counts (least disturbed by other processes). Prints one line per engine and
variant and the ratios to native (auto: libxsmm where it has AVX-512 kernels, else OpenBLAS; and OpenBLAS itself).
"""
import argparse
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

from devtools import Chromium  # scripts/devtools.py: the DevTools client tests/web_drive.py uses too

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ["mnist-bn", "mnist-nobn"]


def rate(csv_text):
    rows = [r.split(",") for r in csv_text.strip().split("\n")[1:]]
    pts = [(int(r[0]), float(r[7])) for r in rows if int(r[0]) >= 50]
    (s0, t0), (s1, t1) = pts[0], pts[-1]
    return (s1 - s0) / (t1 - t0)


def sets(steps):
    return ["train.steps=%d" % steps, "train.eval_every=50", "log.progress=never", "train.checkpoint.final=false"]


def native(bnlab, variant, steps, tmp, env_gemm):
    out = os.path.join(tmp, "native-%s-%s" % (env_gemm or "auto", variant))
    argv = [bnlab, "train", "configs/%s.json" % variant, "--out", out, "--force"]
    for s in sets(steps):
        argv += ["--set", s]
    env = dict(os.environ)
    env.pop("BNLAB_GEMM", None)
    if env_gemm:
        env["BNLAB_GEMM"] = env_gemm
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "environment.json")) as f:
        target = json.load(f)["gemm_target"]
    with open(os.path.join(out, "metrics.csv")) as f:
        return rate(f.read()), target


def node(site, variant, steps, tmp):
    out = os.path.join(tmp, "node-" + variant)
    subprocess.run(["node", os.path.join(ROOT, "tests", "wasm_run.js"), "train", site, ROOT, "configs/%s.json" % variant,
                    json.dumps(sets(steps)), out, "50"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.csv")) as f:
        return rate(f.read())


# In the page (@NAME@: values filled in as JSON): the engine from its JavaScript text and wasm bytes, the inputs into its file system (the .gz files
# gunzipped by DecompressionStream), then the run stepped 50 at a time; returns metrics.csv.
PAGE_RUN = r"""
(async () => {
  if (!self.createBnlab) (0, eval)(@ENGINE@);
  const b64 = (s) => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
  const M = await createBnlab({wasmBinary: b64(@WASM@)});
  const put = (path, bytes) => {
    const p = M._malloc(bytes.length || 1);
    M.HEAPU8.set(bytes, p);
    const rc = M.ccall('bnlab_web_put_file', 'number', ['string', 'number', 'number'], [path, p, bytes.length]);
    M._free(p);
    if (rc !== 0) throw new Error(M.ccall('bnlab_web_error', 'string', [], []));
  };
  for (const [path, text] of Object.entries(@TEXTS@)) put(path, new TextEncoder().encode(text));
  for (const [path, gz] of Object.entries(@GZ@)) {
    const s = new Blob([b64(gz)]).stream().pipeThrough(new DecompressionStream('gzip'));
    put(path, new Uint8Array(await new Response(s).arrayBuffer()));
  }
  const h = M.ccall('bnlab_web_new', 'number', ['string', 'string', 'string'], [@CONFIG@, @SETS@, null]);
  if (h < 0) throw new Error(M.ccall('bnlab_web_error', 'string', [], []));
  while (M.ccall('bnlab_web_status', 'number', ['number'], [h]) === 0)
    if (M.ccall('bnlab_web_step', 'number', ['number', 'number'], [h, 50]) < 0)
      throw new Error(M.ccall('bnlab_web_error', 'string', [], []));
  const p = M.ccall('bnlab_web_file', 'number', ['number', 'string', 'number'], [h, 'metrics.csv', 0]);
  return M.UTF8ToString(p);
})()
"""


def chromium_run(browser, site, variant, steps):
    with open(os.path.join(site, "bnlab.js")) as f:
        engine = f.read()
    with open(os.path.join(site, "bnlab.wasm"), "rb") as f:
        wasm = base64.b64encode(f.read()).decode()
    config = "configs/%s.json" % variant
    with open(os.path.join(ROOT, config)) as f:
        texts = {config: f.read()}
    gz = {}
    d = os.path.join(ROOT, "datasets", "mnist-subset")
    for name in sorted(os.listdir(d)):
        if name.endswith(".gz"):
            with open(os.path.join(d, name), "rb") as f:
                gz["datasets/mnist-subset/" + name] = base64.b64encode(f.read()).decode()
    values = {"ENGINE": engine, "WASM": wasm, "TEXTS": texts, "GZ": gz, "CONFIG": config, "SETS": json.dumps(sets(steps))}
    expr = re.sub(r"@([A-Z]+)@", lambda m: json.dumps(values[m.group(1)]), PAGE_RUN)  # one pass: values are not rescanned
    return rate(browser.evaluate(expr))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--site", default=os.path.join(ROOT, "build-web", "site"))
    ap.add_argument("--bnlab", default=os.path.join(ROOT, "build", "bnlab"))
    a = ap.parse_args()
    exe = shutil.which("chromium")
    if not exe:
        sys.exit("web_bench: chromium is missing: bash scripts/ensure-packages.sh chromium")
    tmp = tempfile.mkdtemp(prefix="bnlab-web-bench-")
    browser = Chromium(exe)
    version = browser.call("Browser.getVersion", browser=True)["product"]
    best = {}
    targets = {}
    try:
        for r in range(a.rounds):
            for v in VARIANTS:
                runs = [("native (auto)", lambda: native(a.bnlab, v, a.steps, tmp, None)),
                        ("native (openblas)", lambda: native(a.bnlab, v, a.steps, tmp, "openblas")),
                        ("native (portable)", lambda: native(a.bnlab, v, a.steps, tmp, "portable")),
                        ("wasm in chromium", lambda: (chromium_run(browser, a.site, v, a.steps), "wasm-simd128")),
                        ("wasm in node", lambda: (node(a.site, v, a.steps, tmp), "wasm-simd128"))]
                for name, fn in runs:
                    sps, target = fn()
                    targets[name] = target
                    best[(name, v)] = max(best.get((name, v), 0.0), sps)
                    print("round %d %-10s %-18s %7.1f steps/s" % (r + 1, v, name, sps), file=sys.stderr)
    finally:
        browser.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print("Steps per second, the paper's network (configs/mnist-bn.json, mnist-nobn.json; %d steps, the test set every 50;"
          " best of %d rounds; %s; node %s):" % (a.steps, a.rounds, version,
                                                  subprocess.run(["node", "--version"], capture_output=True,
                                                                 text=True).stdout.strip()))
    for v in VARIANTS:
        auto, blas = best[("native (auto)", v)], best[("native (openblas)", v)]
        for name in ["native (auto)", "native (openblas)", "native (portable)", "wasm in chromium", "wasm in node"]:
            x = best[(name, v)]
            print("  %-10s %-18s %-14s %8.1f steps/s  %.2fx native (auto), %.2fx native (openblas)" % (
                v, name, targets[name], x, x / auto, x / blas))


if __name__ == "__main__":
    main()
