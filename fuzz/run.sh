#!/usr/bin/env bash
# Coverage-guided fuzzing on the stable toolchain (no cargo-fuzz, no
# nightly): libFuzzer from libfuzzer-sys plus LLVM's sanitizer-coverage
# passes, which stable rustc accepts. `--target` keeps the flags off build
# scripts and proc macros. Seeds come from testdata/.
#
# Usage: fuzz/run.sh [TARGET=decode] [SECONDS=60]
set -euo pipefail
cd "$(dirname "$0")"
target=${1:-decode}
secs=${2:-60}
triple=$(rustc -vV | sed -n 's/^host: //p')
RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions" \
CARGO_TARGET_DIR=target/cov cargo build --release --target "$triple" --bin "$target"
corpus=corpus/$target
mkdir -p "$corpus" artifacts
if [ "$target" != model_parsers ]; then
  find ../testdata -type f -exec cp -n {} "$corpus/" \; 2>/dev/null || true
fi
exec "target/cov/$triple/release/$target" -max_total_time="$secs" -rss_limit_mb=2048 \
  -max_len=65536 -artifact_prefix=artifacts/ "$corpus"
