# libnode (every node/*.c but the mains), nodelet, nodelet-shim, nodelet-pause.
NODE_MAINS := node/nodelet-main.c node/shim-main.c node/pause.c
NODE_SRCS  := $(filter-out $(NODE_MAINS),$(wildcard node/*.c))
NODE_OBJS  := $(NODE_SRCS:%.c=$(B)/obj/%.o)
NODE_LIB   := $(B)/lib/libnode.a

$(NODE_OBJS) $(NODE_MAINS:%.c=$(B)/obj/%.o): $(GEN)/proto/nodelet.pb-c.h

$(NODE_LIB): $(NODE_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BIN)/nodelet: $(B)/obj/node/nodelet-main.o $(NODE_LIB) $(RT_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) $(LIBS)

$(BIN)/nodelet-shim: $(B)/obj/node/shim-main.o $(NODE_LIB) $(RT_LIB) $(API_LIB)
	@mkdir -p $(dir $@)
	$(CC) -o $@ $^ $(LDFLAGS) $(LIBS)

# The pause process runs inside the sandbox's own tiny rootfs: static, no sanitizers.
$(BIN)/nodelet-pause: node/pause.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -Wall -Wextra -Werror -static -o $@ $<

BINARIES += $(BIN)/nodelet $(BIN)/nodelet-shim $(BIN)/nodelet-pause
.PHONY: node
node: $(BIN)/nodelet $(BIN)/nodelet-shim $(BIN)/nodelet-pause
