# Recipes for developers and tuners. `cargo install just` if you want them;
# each recipe is a plain command you can also run by hand.

default: test

# Every test (the README's test command).
test:
    cargo test --workspace

# What CI runs: formatting, lints, tests, the DuckDB/pyarrow ecosystem check.
ci:
    bash .ci/run

lint:
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings

# The main job on a built-in example.
demo:
    cargo run --release -- demo

# Full benchmark: 1M and 10M events, each stage beside its floor and DuckDB.
# Archives are generated once and cached under bench-data/ (ignored by git);
# DuckDB comes from PyPI into bench-data/venv.
bench *ARGS:
    cargo run --release -p backtrail-bench -- {{ARGS}}

# Quick benchmark on 1M events only.
bench-quick:
    cargo run --release -p backtrail-bench -- --sizes 1000000

# Coverage-guided fuzzing on stable (targets: decode, gunzip, model_parsers,
# index_page_header, index_issuance).
fuzz target="decode" secs="60":
    bash fuzz/run.sh {{target}} {{secs}}
