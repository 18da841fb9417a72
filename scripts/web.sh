#!/usr/bin/env bash
# web.sh [--native BNLAB] [--out DIR]: builds the browser lab, a static site in DIR (default build-web/site/):
#   - the engine compiled to WebAssembly: meson's build of this repository's meson.build with -Dweb=true and the
#     Emscripten cross file scripts/emscripten.cross, in build-web/ (the same sources as the native build; the
#     portable GEMM with SIMD128, no OpenBLAS, libxsmm or zlib) -> DIR/bnlab.js + DIR/bnlab.wasm;
#   - the page: web/build.py (when web/ exists) inlines the engine, web/'s files, the shipped MNIST subset and the
#     configs into DIR/index.html, expanding the page's experiments with the native bnlab (BNLAB, default build/bnlab,
#     built by scripts/setup.sh if missing).
# Installs Debian's emscripten first if missing (scripts/ensure-packages.sh). Safe to re-run: ninja rebuilds only what
# changed in the sources or meson.build. Prints the directory and the sizes at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build-web/site
native=build/bnlab
while [ $# -gt 0 ]; do
  case $1 in
    --out) out=${2:?--out needs a directory}; shift 2 ;;
    --native) native=${2:?--native needs the native bnlab}; shift 2 ;;
    *) echo "usage: bash scripts/web.sh [--native BNLAB] [--out DIR]" >&2; exit 2 ;;
  esac
done
bash scripts/ensure-packages.sh emscripten
# Emscripten's JavaScript optimizer loads acorn from node's module path: Debian's node-acorn lives in
# /usr/share/nodejs, which a node not built by Debian (e.g. NodeSource's, /usr/bin/node) does not search.
export NODE_PATH=/usr/share/nodejs${NODE_PATH:+:$NODE_PATH}
if [ ! -f build-web/build.ninja ]; then
  meson setup build-web --cross-file scripts/emscripten.cross -Dweb=true --buildtype=release >/dev/null
fi
ninja -C build-web >/dev/null
mkdir -p "$out"
for f in bnlab.js bnlab.wasm; do  # whole files or none: a copy under a temporary name, renamed
  cp build-web/$f "$out/$f.tmp$$" && mv -f "$out/$f.tmp$$" "$out/$f"
done
if [ -f web/build.py ]; then
  [ -x "$native" ] || { [ "$native" = build/bnlab ] && bash scripts/setup.sh >/dev/null; }
  python3 web/build.py --engine build-web/bnlab.js --wasm build-web/bnlab.wasm --bnlab "$native" --out "$out"
fi
echo "web: built $out ($(du -sh "$out" | cut -f1): $(cd "$out" && ls | tr '\n' ' '))"
