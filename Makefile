# nodelet — one entry point: deps, all, test, bench, run, install, clean.
# Objects and binaries go to build/ (out of tree). Each component lists its
# sources in its own build.mk fragment, included below.

PREFIX  ?= /usr/local
DESTDIR ?=
# Out-of-tree build directory; sanitizer builds keep their own.
ifeq ($(SAN),1)
B       ?= build-san
else
B       ?= build
endif
BIN     := $(B)/bin
GEN     := $(B)/gen

CC      ?= cc
PKGS    := libwebsockets libuv jansson libprotobuf-c libseccomp sqlite3 libcap libmnl libarchive libcurl libcrypto
CFLAGS  ?= -O2 -g
CFLAGS  += -std=gnu11 -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow \
           -D_GNU_SOURCE -I. -I$(GEN) -MMD -MP
LDFLAGS ?=
LIBS    := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

# Debian packages the build, the tests and `make run` need.
DEB_PKGS := build-essential pkg-config libuv1-dev libwebsockets-dev libwebsockets-evlib-uv \
            protobuf-c-compiler libprotobuf-c-dev libjansson-dev libseccomp-dev libsqlite3-dev \
            libcap-dev libmnl-dev libarchive-dev libcurl4-openssl-dev libcmocka-dev libyaml-dev \
            busybox-static python3 python3-pytest python3-pytest-timeout iproute2 util-linux curl crun runc \
            docker-registry skopeo apache2-utils openssl clang libclang-rt-14-dev clang-format \
            golang-go golang-github-opencontainers-runtime-tools-dev

.PHONY: all deps test unit e2e bench run install clean image fmt check-fmt
all: binaries

# deps: install whatever Debian packages are missing (apt-get update first).
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "deps: installing$$(echo ' '$$missing)"; \
	  apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; \
	else echo "deps: all packages present"; fi

$(B)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Wno-missing-prototypes -c -o $@ $<

BINARIES :=
UNIT_TESTS :=
include proto/build.mk
include runtime/build.mk
include scheduler/build.mk
include node/build.mk
include tests/unit/build.mk
-include tests/e2e/build.mk
-include tests/fuzz/build.mk

binaries: $(BINARIES)

image: $(B)/images/index.json
$(B)/images/index.json: deploy/images/build-busybox.sh
	sh deploy/images/build-busybox.sh $(B)/images

unit: $(UNIT_TESTS)
	@sh tests/unit/run.sh $(UNIT_TESTS)

e2e: binaries image e2e-tools
	@NODELET_BUILD=$(abspath $(B)) sh tests/e2e/run.sh

test: deps
	@$(MAKE) --no-print-directory binaries image e2e-tools $(UNIT_TESTS) $(FUZZ_REPLAY)
	@B=$(B) NODELET_BUILD=$(abspath $(B)) sh tests/run-all.sh $(UNIT_TESTS)

bench: deps
	@$(MAKE) --no-print-directory binaries image
	@NODELET_BUILD=$(abspath $(B)) sh tests/bench/run.sh

run: deps
	@$(MAKE) --no-print-directory binaries image
	@NODELET_BUILD=$(abspath $(B)) sh deploy/run-local.sh

# nodelet finds nodelet-shim and nodelet-pause next to its own binary.
install: binaries
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/systemd/system \
		$(DESTDIR)$(PREFIX)/share/doc/nodelet
	install -m 0755 $(BINARIES) $(DESTDIR)$(PREFIX)/bin/
	sed 's|/usr/local/|$(PREFIX)/|g' deploy/systemd/schedd.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/schedd.service
	sed 's|/usr/local/|$(PREFIX)/|g' deploy/systemd/nodelet.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/nodelet.service
	install -m 0644 README.md deploy/systemd/nodelet.default $(DESTDIR)$(PREFIX)/share/doc/nodelet/

fmt:
	clang-format -i $$(git ls-files '*.c' '*.h')
check-fmt:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf --one-file-system $(B)

-include $(shell find $(B)/obj -name '*.d' 2>/dev/null)
