#!/bin/bash
# Test (suite 'install'): every config in docs/examples (installed as the example config, and
# used by the recipes) passes `nospofd -t` without a warning, for every @ID it uses as config
# id (each node of a recipe).
# Usage: check_examples.sh NOSPOFD SOURCE_DIR
set -uo pipefail
nospofd=$1 src=$2
failed=0
for f in "$src"/docs/examples/*; do
    ids=$(grep -oE '^[[:space:]]*@[A-Za-z0-9_.-]+' "$f" | tr -d ' @\t' | sort -u)
    for id in ${ids:-node}; do
        out=$("$nospofd" -t -i "$id" -f "$f" 2>&1)
        if [ "$out" != "$f: configuration is valid" ]; then
            echo "FAIL: $(basename "$f") as $id:"; echo "$out"; failed=1
        else
            echo "ok: $(basename "$f") as $id"
        fi
    done
done
exit $failed
