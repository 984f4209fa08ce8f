#!/usr/bin/env bash
# Make the venv the benchmark runs TiTiler from (titiler.core + titiler.mosaic on uvicorn),
# outside the repository, from PyPI. Idempotent.
#
#   bash bench/make_titiler_venv.sh            # -> ${TILES_BENCH_DIR:-~/.cache/tiles-bench}/titiler-venv
set -euo pipefail
dir="${TILES_BENCH_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tiles-bench}"
venv="$dir/titiler-venv"
mkdir -p "$dir"
if [ ! -x "$venv/bin/uvicorn" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet "titiler.core>=0.22" "titiler.mosaic>=0.22" "cogeo-mosaic" "uvicorn"
fi
"$venv/bin/python" -c "import titiler.core, titiler.mosaic, uvicorn; print('titiler.core', titiler.core.__version__)"
echo "$venv"
