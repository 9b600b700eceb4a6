# The two commands of the README's quick start, and their building blocks.
# Both install what they need first (scripts/setup.sh is idempotent).
BUILD_DIR ?= build
JOBS ?= $(shell nproc)

.PHONY: up test build setup clean

up: build
	$(BUILD_DIR)/src/byoc up

test: build
	scripts/test.sh $(BUILD_DIR)

build: setup
	@cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

setup:
	@scripts/setup.sh

clean:
	rm -rf $(BUILD_DIR)
