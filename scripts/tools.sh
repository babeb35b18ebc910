# Sourced by scripts/test, scripts/package and scripts/bench-lambda: installs the pinned Python-packaged tools
# (moto, cfn-lint, checkov, cargo-lambda with its Zig linker) into .venv when missing or when
# scripts/requirements-test.txt changed, and puts .venv/bin on PATH.
VENV=.venv
REQS=scripts/requirements-test.txt
STAMP="$VENV/.requirements.sha256"
want=$(sha256sum "$REQS" | cut -d' ' -f1)
if [ ! -x "$VENV/bin/moto_server" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$want" ]; then
  echo "== installing tools into $VENV (moto, cfn-lint, checkov, schemathesis, cargo-lambda)"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r "$REQS"
  echo "$want" > "$STAMP"
fi
export PATH="$PWD/$VENV/bin:$PATH"
