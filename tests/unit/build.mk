# Unit tests (cmocka): tests/unit/<component>/test-<module>.c, one file per
# module, linked against that component's library and what it depends on.

define unit_component
$(1)_UNIT_SRCS := $$(wildcard tests/unit/$(1)/test-*.c)
$(1)_UNIT_BINS := $$($(1)_UNIT_SRCS:tests/unit/%.c=$(B)/tests/unit/%)
UNIT_TESTS += $$($(1)_UNIT_BINS)
$(B)/tests/unit/$(1)/%: tests/unit/$(1)/%.c $(2)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(CFLAGS) -Itests/unit -o $$@ $$< $(2) $$(LDFLAGS) $$(LIBS) -lcmocka
.PHONY: unit-$(1)
unit-$(1): $$($(1)_UNIT_BINS)
	@sh tests/unit/run.sh $$^
endef

$(eval $(call unit_component,proto,$(API_LIB)))
$(eval $(call unit_component,runtime,$(RT_LIB)))
$(eval $(call unit_component,scheduler,$(SCHED_LIB) $(API_LIB)))
$(eval $(call unit_component,node,$(NODE_LIB) $(RT_LIB) $(API_LIB)))
