# libruntime (every runtime/*.c but the ocirun CLI) and ocirun.
RT_SRCS := $(filter-out runtime/ocirun.c,$(wildcard runtime/*.c))
RT_OBJS := $(RT_SRCS:%.c=$(B)/obj/%.o)
RT_LIB  := $(B)/lib/libruntime.a

$(RT_LIB): $(RT_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/ocirun: $(B)/obj/runtime/ocirun.o $(RT_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) $(LIBS)

BINARIES += $(BIN)/ocirun
.PHONY: runtime
runtime: $(RT_LIB) $(BIN)/ocirun
