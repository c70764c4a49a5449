# The README's commands. `make demo` sets a fresh Debian machine up and runs the
# superstore analysis; `make test` runs every test against a real Jupyter Server.

GO      ?= go
BIN     := bin/analyst
TASK    ?= Read superstore.csv and find the total sales for each region, then plot them as a bar chart.

.PHONY: all build setup demo test test-gateways test-short bench faults lint fmt clean

all: build

build:
	./scripts/build $(BIN)

# setup installs what analyst and its tests need from Debian's packages.
setup:
	./scripts/setup

demo:
	./scripts/demo "$(TASK)"

test:
	./scripts/test

# test-gateways runs the gateway-facing tests against Kernel Gateway 3.0.1 and
# 2.5.2 from ../shared/gateways (issue 14); `make test` covers Jupyter Server.
test-gateways:
	./scripts/test-gateways

test-short:
	$(GO) test -short ./...

# faults runs the fault-injection matrix (issue 6) and prints it as a table.
faults: setup
	$(GO) test -count=1 -run TestFaultMatrix ./cmd/analyst/ -fault-table -v | sed -n '/^#  *FAULT/,/passed, /p'

bench: setup
	$(GO) test -run '^$$' -bench . -benchtime 200x ./jupyter/
	$(GO) test -run '^$$' -bench PromptSize -benchtime 1x ./cmd/analyst/
	$(GO) run ./bench/kernelbench
	$(GO) run ./bench/scalebench
	$(GO) run ./bench/recoverbench

lint:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt: the files above need formatting'; exit 1; }
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
