# libapi: generated protobuf-c code + the Pod model, codec, validation.
API_SRCS := $(wildcard proto/*.c)
API_OBJS := $(API_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/proto/nodelet.pb-c.o
API_LIB  := $(B)/lib/libapi.a

$(GEN)/proto/nodelet.pb-c.c $(GEN)/proto/nodelet.pb-c.h: proto/nodelet.proto
	@mkdir -p $(GEN)
	protoc-c --proto_path=. --c_out=$(GEN) proto/nodelet.proto

# Every object that may include api.h waits for the generated header.
$(API_SRCS:%.c=$(B)/obj/%.o): $(GEN)/proto/nodelet.pb-c.h

$(API_LIB): $(API_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

.PHONY: proto
proto: $(API_LIB)
