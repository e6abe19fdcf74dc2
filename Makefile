# Mercato: `make run` serves the demo store on SQLite; `make test` runs everything.
.DEFAULT_GOAL := help
.PHONY: help run test bench check fmt clean

help:  ## List the targets
	@grep -E "^[a-z]+:.*## " $(MAKEFILE_LIST) | sed "s/:.*## /\t/"

run:  ## Install what is needed, migrate SQLite under var/, load demo data, serve on 127.0.0.1:8000 (MERCATO_PORT)
	@scripts/bootstrap
	@.venv/bin/mercato run

test:  ## Static checks, then the whole suite on SQLite and on a throwaway PostgreSQL
	@scripts/test

bench:  ## Load benchmarks on loopback (PostgreSQL, Redis, wrk; ~20 min); figures go in BENCHMARKS.md
	@scripts/bench $(BENCH_ARGS)

check:  ## Lint, format check, types, import boundaries, translations
	@scripts/bootstrap --dev
	@scripts/check

fmt:  ## Apply automatic fixes and formatting
	@scripts/bootstrap --dev
	@scripts/fmt

clean:  ## Remove the virtual environment, front-end packages, tools and local data
	rm -rf .venv node_modules .tools var .mypy_cache .ruff_cache
