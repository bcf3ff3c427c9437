#!/usr/bin/env bash
# Build the installer-ready folder dist/PixCrawler (PyInstaller, one-dir, from build.spec) and
# print its size. Extra arguments go to PyInstaller, e.g. `--distpath DIR --workpath DIR` to
# build outside the checkout.
#
# The bundle is built from its own environment, .venv-build: the same packages as .venv, except
# numpy, which is built from source without BLAS and LAPACK. Validation only does array
# arithmetic, and PyPI's numpy carries 27 MB of OpenBLAS (kernels for every CPU) that no
# role calls. Its SIMD paths are kept up to AVX2 (x86-64-v3) and the AVX-512 copies left out.
# The wheel is built once per numpy version (10 to 15 minutes on two cores) and kept in
# ~/.cache/pixcrawler-build.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-build
VENV="$venv" scripts/setup.sh build
py="$venv/bin/python"

options=(-Dblas=none -Dlapack=none -Dallow-noblas=true)
[ "$(uname -m)" = x86_64 ] && options+=(-Dcpu-dispatch=X86_V3)
# One folder per set of options: a wheel built with others must not be taken for this one.
wheels="${XDG_CACHE_HOME:-$HOME/.cache}/pixcrawler-build/numpy-$(echo "${options[*]}" | cksum | cut -d' ' -f1)"
version=$("$py" -c 'import numpy; print(numpy.__version__)')
wheel=$(ls "$wheels"/numpy-"$version"-*.whl 2>/dev/null | head -n1 || true)
if [ -z "$wheel" ]; then
  echo "build: building numpy $version from source (${options[*]}; once per version) into $wheels"
  mkdir -p "$wheels"
  # --no-cache-dir: pip's own wheel cache does not tell builds with other options apart.
  "$py" -m pip wheel -q --disable-pip-version-check --no-cache-dir --no-deps --no-binary numpy \
    "${options[@]/#/-Csetup-args=}" -w "$wheels" "numpy==$version"
  wheel=$(ls "$wheels"/numpy-"$version"-*.whl | head -n1)
fi
# PyPI's wheel keeps OpenBLAS in site-packages/numpy.libs; ours has none.
if [ "$(cat "$venv/numpy-wheel" 2>/dev/null)" != "$wheel" ] || "$py" -c 'import numpy, pathlib, sys
sys.exit(not (pathlib.Path(numpy.__file__).parent.parent / "numpy.libs").exists())'; then
  "$py" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall "$wheel"
  echo "$wheel" > "$venv/numpy-wheel"
fi

distpath="dist"
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
  case "${args[$i]}" in
    --distpath) distpath="${args[$((i + 1))]:-dist}" ;;
    --distpath=*) distpath="${args[$i]#--distpath=}" ;;
  esac
done

"$py" -m PyInstaller build.spec --noconfirm --log-level WARN "$@"
app="$distpath/PixCrawler"
[ -x "$app/PixCrawler" ] || { echo "build: $app/PixCrawler was not produced" >&2; exit 1; }
size=$(du -sm "$app" | cut -f1)
echo "Built $app ($size MiB): run $app/PixCrawler [gui|cli|api|worker] ..."
