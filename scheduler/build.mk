# schedd (and schedctl, in scheduler/schedctl.mk).
SCHED_MAINS := scheduler/schedd-main.c $(wildcard scheduler/schedctl*.c)
SCHED_SRCS  := $(filter-out $(SCHED_MAINS),$(wildcard scheduler/*.c))
SCHED_OBJS  := $(SCHED_SRCS:%.c=$(B)/obj/%.o)
SCHED_LIB   := $(B)/lib/libsched.a

# Every object may include proto/api.h, which includes the generated header.
$(SCHED_OBJS) $(B)/obj/scheduler/schedd-main.o: $(GEN)/proto/nodelet.pb-c.h

$(SCHED_LIB): $(SCHED_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/schedd: $(B)/obj/scheduler/schedd-main.o $(SCHED_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

BINARIES += $(BIN)/schedd

.PHONY: scheduler
scheduler: $(BIN)/schedd

-include scheduler/schedctl.mk
