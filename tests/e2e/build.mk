# Small helper programs the e2e suite drives (libruntime without the daemons).
E2E_TOOLS := $(B)/tests/rt-net-tool $(B)/tests/rt-image-tool

$(B)/tests/rt-%: tests/e2e/rt-%.c $(RT_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $< $(RT_LIB) $(LDFLAGS) $(LIBS)

.PHONY: e2e-tools
e2e-tools: $(E2E_TOOLS)
