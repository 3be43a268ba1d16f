#!/usr/bin/env bash
# Autobahn TestSuite (autobahntestsuite 0.8.2, Python 2.7) against handle-fsm's WebSocket
# server (fuzzingclient) and client (fuzzingserver), cases 1-7 and 10.
# Prints a summary per side and exits non-zero if any case FAILED.
#
# Environment: PYTHON2 (default: pyenv's 2.7.18), AB_DIR (install + reports, default
# /tmp/phoenix-autobahn), CARGO_TARGET_DIR (default: target-autobahn in the repo).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
PYTHON2="${PYTHON2:-/root/.pyenv/versions/2.7.18/bin/python2.7}"
AB_DIR="${AB_DIR:-/tmp/phoenix-autobahn}"
SITE="$AB_DIR/site"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target-autobahn}"
CASES='["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "10.*"]'
SERVER_PORT="${SERVER_PORT:-9101}"
FUZZ_PORT="${FUZZ_PORT:-9102}"
start=$(date +%s)

for port in "$SERVER_PORT" "$FUZZ_PORT"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        echo "port $port is already in use (set SERVER_PORT / FUZZ_PORT)" >&2
        exit 2
    fi
done
mkdir -p "$AB_DIR"
rm -rf "$AB_DIR/reports"
if [ ! -f "$SITE/.installed" ]; then
    echo "== installing autobahntestsuite==0.8.2 into $SITE"
    "$PYTHON2" -m pip install --quiet --target "$SITE" autobahntestsuite==0.8.2
    touch "$SITE/.installed"
fi
# zope.interface is a namespace package: its .pth file must be processed (addsitedir).
WSTEST=("$PYTHON2" -c "import site, sys; site.addsitedir('$SITE'); from autobahntestsuite import wstest; sys.argv = ['wstest'] + sys.argv[1:]; wstest.run()")

echo "== building the echo example"
(cd "$ROOT" && cargo build --quiet -p handle-fsm --example ws_echo)
ECHO="$CARGO_TARGET_DIR/debug/examples/ws_echo"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

echo "== fuzzingclient -> our server"
"$ECHO" server "$SERVER_PORT" 2>"$AB_DIR/server.log" &
pids+=($!)
cat > "$AB_DIR/fuzzingclient.json" <<JSON
{"outdir": "$AB_DIR/reports/server",
 "servers": [{"agent": "phoenix-server", "url": "ws://127.0.0.1:$SERVER_PORT"}],
 "cases": $CASES, "exclude-cases": [], "exclude-agent-cases": {}}
JSON
sleep 1
(cd "$AB_DIR" && exec "${WSTEST[@]}" -m fuzzingclient -s "$AB_DIR/fuzzingclient.json") > "$AB_DIR/fuzzingclient.log" 2>&1

echo "== fuzzingserver -> our client"
cat > "$AB_DIR/fuzzingserver.json" <<JSON
{"url": "ws://127.0.0.1:$FUZZ_PORT", "outdir": "$AB_DIR/reports/client",
 "cases": $CASES, "exclude-cases": [], "exclude-agent-cases": {}}
JSON
(cd "$AB_DIR" && exec "${WSTEST[@]}" -m fuzzingserver -s "$AB_DIR/fuzzingserver.json") > "$AB_DIR/fuzzingserver.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$FUZZ_PORT) 2>/dev/null && break
    sleep 0.2
done
"$ECHO" client "ws://127.0.0.1:$FUZZ_PORT" phoenix-client 2>"$AB_DIR/client.log"

status=0
python3 - "$AB_DIR" <<'PY' || status=1
import json, sys, collections
root = sys.argv[1]
bad = 0
for side in ("server", "client"):
    idx = json.load(open(f"{root}/reports/{side}/index.json"))
    for agent, cases in idx.items():
        count = collections.Counter(c["behavior"] for c in cases.values())
        close = collections.Counter(c["behaviorClose"] for c in cases.values())
        failed = sorted((k for k, c in cases.items() if c["behavior"] == "FAILED" or c["behaviorClose"] == "FAILED"),
                        key=lambda k: [int(x) for x in k.split(".")])
        print(f"{side:6} {agent}: {len(cases)} cases, behavior {dict(count)}, close {dict(close)}")
        if failed:
            print(f"       FAILED: {' '.join(failed)}")
        bad += len(failed)
sys.exit(1 if bad else 0)
PY
echo "== runtime: $(( $(date +%s) - start )) s"
exit $status
