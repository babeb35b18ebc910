# Sourced by scripts/test and scripts/bench-lambda (after scripts/tools.sh): starts moto's
# server on a free loopback port (stopped when the calling script exits), creates the table from
# infra/template.yaml, and exports what the tests and benchmarks read:
# FANLOOP_TEST_AWS_ENDPOINT, FANLOOP_TEST_TABLE and fake AWS credentials.

port=$("$VENV/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
# moto with each request atomic, as DynamoDB is (see scripts/moto_server.py for why).
"$VENV/bin/python" scripts/moto_server.py 127.0.0.1 "$port" > target/moto.log 2>&1 &
moto_pid=$!
stop_moto() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
trap stop_moto EXIT INT TERM

endpoint="http://127.0.0.1:$port"
"$VENV/bin/python" - "$endpoint" <<'PY'
import sys, time, urllib.request
url = sys.argv[1] + "/moto-api/"
for _ in range(300):
    try:
        urllib.request.urlopen(url, timeout=1)
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit("moto did not start; see target/moto.log")
PY
echo "== moto listening on $endpoint"

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
export FANLOOP_TEST_AWS_ENDPOINT="$endpoint" FANLOOP_TEST_TABLE=fanloop-test
"$VENV/bin/python" scripts/create_table.py --template infra/template.yaml --endpoint "$endpoint" --table "$FANLOOP_TEST_TABLE"
