#!/usr/bin/env bash
# Builds llama.cpp's llama-server, llama-bench and llama-batched-bench from the llama.cpp that
# the `llama-cpp-python` sdist on PyPI vendors (vendor/llama.cpp), into PREFIX/bin.
#
#   build-llama.sh SDIST PREFIX CMAKE
#
# CPU only, tuned for this machine (GGML_NATIVE). AMX is off: ggml's AMX kernels die with
# SIGILL on these VMs even where the CPU flags advertise AMX. No network at build time: no web
# UI download, no libcurl, no OpenSSL.
set -euo pipefail
sdist=$1 prefix=$2 cmake=$3
work=$(mktemp -d "${prefix%/}.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
tar -xzf "$sdist" -C "$work" --strip-components=1 --wildcards '*/vendor/llama.cpp/*'
src="$work/vendor/llama.cpp"
"$cmake" -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release \
  -DGGML_NATIVE=ON -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF \
  -DBUILD_SHARED_LIBS=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
  >"$work/configure.log" 2>&1 || { tail -40 "$work/configure.log" >&2; exit 1; }
"$cmake" --build "$work/build" -j "$(nproc)" --target llama-server llama-bench llama-batched-bench \
  >"$work/build.log" 2>&1 || { tail -40 "$work/build.log" >&2; exit 1; }
rm -rf "$prefix.new"
mkdir -p "$prefix.new/bin"
cp "$work/build/bin/llama-server" "$work/build/bin/llama-bench" "$work/build/bin/llama-batched-bench" "$prefix.new/bin/"
"$prefix.new/bin/llama-server" --version >/dev/null 2>&1 || { echo "error: the built llama-server does not run" >&2; exit 1; }
rm -rf "$prefix"
mv "$prefix.new" "$prefix"
echo "llama.cpp tools ready in $prefix/bin"
