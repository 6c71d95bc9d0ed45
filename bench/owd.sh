#!/usr/bin/env bash
# One-way delays: the round trip of TCP_RR and UDP_RR split into the request's flight, the SUT's own
# time and the response's flight, natively and through netns-nat's NAT, with the clock bound that
# applies; then a known delay recovered: a relay that holds every request 200 us (this kernel has no
# netem) between the flows and the responder, measured with and without the hold (the integration
# test OneWayDelayTests, which prints the shift of each flight).
#
#   bench/owd.sh [SECONDS]     (default 3 s per step; needs root for netns-nat)
set -euo pipefail
SECS=${1:-3}
cd "$(dirname "$0")/.."
source bench/lib.sh
out="$WORK/owd"
"$BIN/lockstep" rr --sut 127.0.0.1:$SUT_PORT --peer 127.0.0.1:$PEER_PORT --token-file "$TOKEN" --protocol tcp,udp \
  --mode native,netns-nat --duration "${SECS}s" --warmup 500ms --quiet --out "$out" >/dev/null 2>"$WORK/err" \
  || { cat "$WORK/err" >&2; exit 1; }
python3 - "$out/samples.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
cells = {}
for r in rows:
    lab = r["labels"]
    if lab.get("kind") == "interval" or "peer" in lab: continue
    cells.setdefault((lab.get("mode"), lab.get("protocol")), {})[r["metric"]] = r["value"]
print(f"{'mode':10s} {'proto':5s} {'round trip':>10s} = {'request':>8s} + {'SUT':>6s} + {'response':>8s}   {'bound':>7s}   (us, means)")
for (mode, proto), v in sorted(cells.items()):
    get = lambda m: v.get(m)
    rtt, req, sut, resp, bound = (get(m) for m in ("latency_mean_us", "owd_request_mean_us", "sut_time_mean_us", "owd_response_mean_us", "owd_bound_us"))
    fmt = lambda x: f"{x:8.2f}" if x is not None else "  inside"
    print(f"{mode:10s} {proto:5s} {rtt:10.2f} = {fmt(req)} + {sut:6.2f} + {fmt(resp)}   ±{bound:6.2f}"
          + (f"   (sum {req + sut + resp:.2f})" if req is not None and resp is not None else ""))
PY
echo "a known delay on the request path (relay holding each request 200 us):"
swift test --filter OneWayDelayTests 2>&1 | grep -E "^(tcp|udp): request|✘|passed after" | grep -v "Suite" || true
