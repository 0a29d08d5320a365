#!/usr/bin/env bash
# PyAirbyte in a venv of its own (.venv-pyairbyte): the `demo` extra of pyproject.toml (PyAirbyte, i.e. `airbyte` on
# PyPI), kept apart from the connector's .venv because PyAirbyte pins much of its world (older cryptography,
# protobuf, rich, ...). PyAirbyte then drives the connector as an external program, `.venv/bin/source-jira`,
# through `local_executable=` -- the way it runs any connector. Idempotent: reinstalls only when the extra changes.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
VENV=${PYAIRBYTE_VENV:-.venv-pyairbyte}
reqs=$("$PY" - <<'PY'
import sys
try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib
extra = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["demo"]
print("\n".join(extra))
PY
)
stamp="$VENV/.installed-$(printf '%s' "$reqs" | sha1sum | cut -c1-12)"
if [ -f "$stamp" ]; then
  exit 0
fi
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
printf '%s\n' "$reqs" > "$VENV/requirements-demo.txt"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$VENV/requirements-demo.txt" 2>&1 | grep -v "is ignored" || true
DO_NOT_TRACK=1 "$VENV/bin/python" -c "import airbyte, duckdb" >/dev/null
rm -f "$VENV"/.installed-*
touch "$stamp"
echo "== PyAirbyte $("$VENV/bin/python" -c 'import importlib.metadata as m; print(m.version("airbyte"))') ready in $VENV"
