# Thin wrapper over Meson. `make` builds build/nospofd and build/nospofctl; `make demo` runs
# the failover demo; `make check` runs every test. Both install their own dependencies.
MESON ?= meson
BUILD ?= build

.PHONY: all deps demo check clean fuzz bench install

all: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)
	@ln -sf src/daemon/nospofd $(BUILD)/nospofd; ln -sf src/ctl/nospofctl $(BUILD)/nospofctl

deps:
	@sh scripts/deps.sh

$(BUILD)/build.ninja:
	$(MESON) setup $(BUILD) --werror

demo: all
	@sh scripts/demo.sh

check: deps
	@bash scripts/check.sh

bench: all
	@sh bench/run.sh

install: all
	$(MESON) install -C $(BUILD) $(if $(DESTDIR),--destdir $(DESTDIR),)

clean:
	rm -rf build build-asan build-clang build-fuzz
