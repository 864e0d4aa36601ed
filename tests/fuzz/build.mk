# Fuzzing (tests/fuzz/): one libFuzzer target per parser of outside input,
# tests/fuzz/fuzz-<target>.c, each an LLVMFuzzerTestOneInput.
#
#   make fuzz                     builds every target with clang
#                                 (-fsanitize=fuzzer,address,undefined) and runs
#                                 each for FUZZ_SECONDS (default 60)
#   make fuzz FUZZ_ONLY="pod http" FUZZ_SECONDS=300
#   $(B)/tests/fuzz-replay tests/fuzz/corpus
#                                 the same targets built with $(CC) and no
#                                 libFuzzer: replays every seed and every crash
#                                 ever found (part of `make test`).
#
# The clang build has its own objects under $(B)/fuzz/obj (the project's
# sources compiled again, instrumented); new corpus entries libFuzzer finds go
# to $(B)/fuzz/corpus/<target>, crashes to $(B)/fuzz/artifacts/<target>/.
# A crash worth keeping is minimised (fuzz-<target> -minimize_crash=1) and
# copied into tests/fuzz/corpus/<target>/.

FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := $(B)/fuzz
FUZZ_SRCS    := $(wildcard tests/fuzz/fuzz-*.c)
FUZZ_NAMES   := $(FUZZ_SRCS:tests/fuzz/fuzz-%.c=%)
FUZZ_ONLY    ?= $(FUZZ_NAMES)
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz-%)

FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -O1 -g -std=gnu11 -D_GNU_SOURCE -I. -I$(GEN) -MMD -MP $(FUZZ_SAN) \
                -fsanitize=fuzzer-no-link -Wall -Wextra -Wno-unused-parameter

# The project's sources, again, instrumented for coverage and sanitizers.
FUZZ_LIB_SRCS := $(API_SRCS) $(RT_SRCS) $(SCHED_SRCS)
FUZZ_LIB_OBJS := $(FUZZ_LIB_SRCS:%.c=$(FUZZ_DIR)/obj/%.o) $(FUZZ_DIR)/obj/gen/proto/nodelet.pb-c.o \
                 $(FUZZ_DIR)/obj/scheduler/schedctl-yaml.o
FUZZ_LIB      := $(FUZZ_DIR)/lib/libfuzzed.a

$(FUZZ_DIR)/obj/%.o: %.c $(GEN)/proto/nodelet.pb-c.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_DIR)/obj/gen/%.o: $(GEN)/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# schedctl's YAML reader (schedctl apply -f x.yaml), with libyaml when present.
ifeq ($(SCHEDCTL_YAML),1)
$(FUZZ_DIR)/obj/scheduler/schedctl-yaml.o: FUZZ_CFLAGS += -DHAVE_LIBYAML
endif

$(FUZZ_LIB): $(FUZZ_LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(FUZZ_DIR)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Werror -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB) $(SCHEDCTL_LIBS) $(LIBS)

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_BINS)
fuzz: $(FUZZ_BINS)
	@sh tests/fuzz/run.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_ONLY)

# The replay driver (gcc, the normal libraries, SAN=1 honoured).
FUZZ_REPLAY      := $(B)/tests/fuzz-replay
FUZZ_REPLAY_OBJS := $(B)/obj/tests/fuzz/replay.o $(FUZZ_SRCS:%.c=$(B)/obj/%.o)

$(FUZZ_REPLAY_OBJS): CFLAGS += -DFUZZ_NO_MAIN
$(FUZZ_REPLAY_OBJS): $(GEN)/proto/nodelet.pb-c.h

$(FUZZ_REPLAY): $(FUZZ_REPLAY_OBJS) $(B)/obj/scheduler/schedctl-yaml.o $(SCHED_LIB) $(RT_LIB) \
		$(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SCHEDCTL_LIBS) $(LIBS)

.PHONY: fuzz-replay
fuzz-replay: $(FUZZ_REPLAY)
	$(FUZZ_REPLAY) tests/fuzz/corpus

-include $(shell find $(FUZZ_DIR) -name "*.d" 2>/dev/null)

# The generator of the packed-envelope and stored-pod seeds (run once, by hand:
# `make fuzz-seeds`; its output is committed under tests/fuzz/corpus/).
$(B)/tests/fuzz-gen-seeds: $(B)/obj/tests/fuzz/gen-seeds.o $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)
$(B)/obj/tests/fuzz/gen-seeds.o: $(GEN)/proto/nodelet.pb-c.h

.PHONY: fuzz-seeds
fuzz-seeds: $(B)/tests/fuzz-gen-seeds
	@mkdir -p tests/fuzz/corpus/envelope tests/fuzz/corpus/pod
	$(B)/tests/fuzz-gen-seeds tests/fuzz/corpus
