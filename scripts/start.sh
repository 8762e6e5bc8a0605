#!/usr/bin/env bash
# npm start: the main job on the embedded default. Until the editor parts exist (see README), this is the
# terminal demo: make a model in the real Hugging Face format, prove the split engine matches the whole
# model and an independent float64 implementation, cut it into client and cloud folders, and complete code
# through the split.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
noir=scripts/noir
demo=artifacts/demo
model="$demo/model"
if [ -f models/default/config.json ]; then
  model=models/default
  echo "== using the bundled model in $model"
elif [ ! -f "$model/config.json" ]; then
  echo "== no bundled model yet: creating a random one (real HF layout) in $model"
  rm -rf "$model"
  $noir model init-random --preset tiny --out "$model"
fi
echo; echo "== model"
$noir model info "$model"
echo; echo "== parity: split vs unsplit vs float64 reference"
$noir parity --model "$model"
echo; echo "== split into client and cloud folders"
rm -rf "$demo/client" "$demo/cloud"
$noir split --model "$model" --client-out "$demo/client" --cloud-out "$demo/cloud"
echo; echo "== fill-in-the-middle through the split (client shard + cloud shard)"
$noir generate --model "$demo/client" --cloud-shard "$demo/cloud" \
  --prefix $'def add(a, b):\n    ' --suffix $'\n' --max-tokens 16
echo; echo "Done. Try: scripts/noir --help"
