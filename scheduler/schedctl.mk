# schedctl: the command-line client (included from scheduler/build.mk).
# libcurl for HTTP, jansson via libapi; libyaml for .yaml manifests when present.
SCHEDCTL_SRCS := scheduler/schedctl.c scheduler/schedctl-http.c scheduler/schedctl-print.c \
                 scheduler/schedctl-yaml.c
SCHEDCTL_OBJS := $(SCHEDCTL_SRCS:%.c=$(B)/obj/%.o)
SCHEDCTL_YAML := $(shell pkg-config --exists yaml-0.1 2>/dev/null && echo 1)
ifeq ($(SCHEDCTL_YAML),1)
$(B)/obj/scheduler/schedctl-yaml.o: CFLAGS += -DHAVE_LIBYAML $(shell pkg-config --cflags yaml-0.1)
SCHEDCTL_LIBS := $(shell pkg-config --libs yaml-0.1)
endif

$(SCHEDCTL_OBJS): $(GEN)/proto/nodelet.pb-c.h

$(BIN)/schedctl: $(SCHEDCTL_OBJS) $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(SCHEDCTL_LIBS) $(LIBS)

BINARIES += $(BIN)/schedctl

.PHONY: schedctl
schedctl: $(BIN)/schedctl

# The printers are pure functions: their unit test links them alone, without libsched.
$(B)/tests/unit/scheduler/test-schedctl-print: tests/unit/scheduler/test-schedctl-print.c \
		$(B)/obj/scheduler/schedctl-print.o $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $^ $(LDFLAGS) $(LIBS) -lcmocka

$(B)/tests/unit/scheduler/test-schedctl-yaml: tests/unit/scheduler/test-schedctl-yaml.c \
		$(B)/obj/scheduler/schedctl-yaml.o
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $^ $(LDFLAGS) $(SCHEDCTL_LIBS) $(LIBS) -lcmocka
