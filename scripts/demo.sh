#!/usr/bin/env bash
# npm run demo: the terminal demo of the split: the bundled model (or, without one, a random model in the real
# format), parity of the split engine, the client/cloud split, a local endpoint on loopback, and completions
# through it, with the hidden states going over gRPC and charged to the exposure ledger.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
noir=scripts/noir
demo=artifacts/demo
model=$(ls -d models/*/ 2>/dev/null | while read -r d; do [ -f "$d/config.json" ] && echo "${d%/}" && break; done || true)
if [ -n "$model" ]; then
  echo "== the bundled model: $model"
else
  model="$demo/model"
  if [ ! -f "$model/config.json" ]; then
    echo "== no bundled model: creating a random one (real Hugging Face layout) in $model"
    rm -rf "$model"
    $noir model init-random --preset tiny --out "$model"
  fi
fi
export NOIR_LEDGER_DIR="$PWD/$demo/ledger"   # the demo keeps its exposure ledger apart from yours
echo; echo "== model"
$noir model info "$model"
echo; echo "== parity: split vs unsplit vs an independent float64 implementation"
$noir parity --model "$model" --steps 8
echo; echo "== split into a client folder (embedding, first/last blocks, head) and a cloud folder (middle blocks)"
rm -rf "$demo/client" "$demo/cloud"
$noir split --model "$model" --client-out "$demo/client" --cloud-out "$demo/cloud"
echo; echo "== the endpoint, on loopback, serving the middle blocks"
$noir cloud serve --shard "$demo/cloud" --port 0 > "$demo/endpoint.out" 2> "$demo/endpoint.log" &
endpoint_pid=$!
trap 'kill $endpoint_pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do grep -q "listening on" "$demo/endpoint.out" 2>/dev/null && break; sleep 0.2; done
url=$(sed -n 's/^listening on //p' "$demo/endpoint.out" | tr -d '/' | sed 's/http:/http:\/\//')
echo "endpoint: $url"
echo; echo "== fill-in-the-middle through the endpoint: only hidden states cross the wire"
$noir generate --model "$demo/client" --endpoint "$url" --prefix $'def add(a, b):\n    ' --suffix $'\n\nprint(add(1, 2))\n' --max-tokens 24
echo; echo "== what was sent, per day, workspace and key"
$noir privacy ledger
echo; echo "Done. Next: scripts/noir --help, docs/privacy.md, docs/deploy.md"
