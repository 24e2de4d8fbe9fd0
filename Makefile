# dm-deltalog: top-level build. Everything lands under build/.
#
#   make            module for every test kernel + userspace
#   make check      unit tests, fuzzer smoke run, VM scenarios on every kernel,
#                   the boot tests
#   make check-boot boots a real Debian 12 system whose root dm-deltalog
#                   protects from the initramfs on (tests/boot/run)
#   make demo       the scripted tour, in the VM
#   make bench      fio in the VM: dm-deltalog against dm-linear, dm-snapshot,
#                   dm-thin; its online merge against a raw copy and
#                   snapshot-merge (not part of check; BENCH_ARGS=--quick: a
#                   short run, BENCH_ARGS=--merge-only: the merge part alone)
#   make install    deltalogctl, deltalog-generator, docs, and the module
#                   source for DKMS
#   make deps       install build and test dependencies (Debian 12, as root)

BUILD   ?= build
KERNELS ?= 6.1 6.12
JOBS    ?= $(shell nproc)
PREFIX  ?= /usr/local
DESTDIR ?=
BENCH_ARGS ?=

CMAKE_BUILD := $(BUILD)/cmake

.PHONY: all deps userspace modules kernels check check-unit check-fuzz check-vm check-boot \
	demo bench install clean

all: userspace modules

deps:
	@tools/deps

userspace: deps
	@cmake -S . -B $(CMAKE_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DDELTALOG_SBINDIR=$(PREFIX)/sbin \
		$(if $(shell command -v clang 2>/dev/null),-DDELTALOG_FUZZ=ON) >/dev/null
	@cmake --build $(CMAKE_BUILD) -j $(JOBS)

kernels: deps
	@for k in $(KERNELS); do tools/fetch-kernel $$k || exit 1; done

modules: kernels
	@for k in $(KERNELS); do tools/build-module $$k || exit 1; done

check: check-unit check-fuzz check-vm check-boot

check-unit: userspace
	@cd $(CMAKE_BUILD) && ctest --output-on-failure -j $(JOBS)

check-fuzz: userspace
	@tools/fuzz-smoke $(CMAKE_BUILD)

# Then the scenarios that stress the write path's rare ways again, with the
# module's internal limits shrunk (docs/VM-TESTS.md, "Module variants").
# About 4 minutes a kernel.
TIGHT_SCENARIOS = t-write-readback.sh t-merge-oldest.sh t-powercut.host

check-vm: all
	@tests/vm/run-all --parallel $(foreach k,$(KERNELS),--kernel $(k))
	@tests/vm/run-all --parallel --variant tight $(foreach k,$(KERNELS),--kernel $(k)) \
		$(foreach s,$(TIGHT_SCENARIOS),--filter $(s))

# One image per kernel (tests/boot/mkimage), cached in build/boot/KERNEL/image
# and rebuilt only when what goes into it changes. The kernels run at the
# same time.
check-boot: all
	@tests/boot/run $(foreach k,$(KERNELS),--kernel $(k))

demo: all
	@tests/vm/run --kernel $(firstword $(KERNELS)) --script tests/vm/demo.sh

bench: all
	@tests/bench/run --kernel $(firstword $(KERNELS)) $(BENCH_ARGS)

install: userspace
	@tools/install "$(DESTDIR)" "$(PREFIX)" "$(CMAKE_BUILD)"

clean:
	rm -rf $(BUILD)
