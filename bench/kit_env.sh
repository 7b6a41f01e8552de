# Sourced by bench/gpu.sh and bench/gpu_train.sh: leaves $PYTHON an interpreter that imports the
# project. With GPU_KIT (a folder from bench/gpu_kit.py, for a GPU machine that reaches no package
# registry but has CUDA PyTorch) the kit's wheels go beside that interpreter's torch (PYTHON,
# default python3); with PYTHON alone it is used as it is; otherwise `uv sync` makes .venv.
if [[ -n "${GPU_KIT:-}" ]]; then
  PYTHON=${PYTHON:-python3}
  site=$(mktemp -d)
  "$PYTHON" -m pip install --quiet --no-index --no-deps --no-compile --no-cache-dir \
    --target "$site" "$GPU_KIT"/wheels/*.whl
  # The package itself is not installed there: its version (vidmatte.__version__) is read from
  # metadata, so write that metadata, with pyproject.toml's version.
  version=$(sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml | head -1)
  mkdir -p "$site/vidmatte-$version.dist-info"
  printf 'Metadata-Version: 2.1\nName: vidmatte\nVersion: %s\n' "$version" \
    >"$site/vidmatte-$version.dist-info/METADATA"
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
elif [[ -z "${PYTHON:-}" ]]; then
  uv sync --frozen --no-dev  # no dev tools: only what the benchmarks import
  PYTHON=.venv/bin/python
fi
export PYTHONPATH="$PWD/backend${PYTHONPATH:+:$PYTHONPATH}"  # the package, however it came
export PYTHONUNBUFFERED=1
