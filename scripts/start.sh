#!/usr/bin/env bash
# Set up and start the app: ./scripts/start.sh [vidmatte serve options, e.g. --sam2 test-tiny]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
exec uv run vidmatte serve "$@"
