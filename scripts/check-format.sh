#!/usr/bin/env bash
# Fails if any C++ file differs from clang-format-14's output (.clang-format). Fix with
# scripts/format.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files '*.h' '*.cc')
clang-format-14 --dry-run --Werror "${files[@]}"
echo "format: ${#files[@]} files ok"
