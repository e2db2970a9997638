# Sourced by the other scripts: ensures the project's Python environment in
# .venv with tests/requirements.txt installed, and puts it first on PATH.
# Usage: source scripts/venv.sh [extra pip requirement ...]
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -x "$_root/.venv/bin/python" ]; then
    python3 -m venv "$_root/.venv"
fi
export PATH="$_root/.venv/bin:$PATH"
_stamp="$_root/.venv/.requirements-$(cat "$_root/tests/requirements.txt" "$_root/tests/sdk/requirements.txt" | sha1sum | cut -c1-12)"
if [ ! -f "$_stamp" ]; then
    python -m pip install --quiet --disable-pip-version-check -r "$_root/tests/requirements.txt"
    touch "$_stamp"
fi
if [ "$#" -gt 0 ]; then
    python -m pip install --quiet --disable-pip-version-check "$@"
fi
unset _root _stamp
