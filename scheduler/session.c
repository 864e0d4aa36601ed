/* A node's WebSocket session: reassembles binary frames into Envelopes,
 * checks the Register handshake, hands events to the cluster, and queues
 * outgoing Envelopes until lws says the socket is writable. */
#include <errno.h>
#include <libwebsockets.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/sched.h"
#include "scheduler/server.h"

/* Largest Envelope accepted from a node (a Register with many pods fits). */
#define MAX_FRAME (8u << 20)

typedef struct out_frame {
	struct out_frame *next;
	size_t len;
	uint8_t data[]; /* LWS_PRE headroom, then the frame */
} out_frame_t;

struct sched_session {
	struct lws *wsi;
	sched_cluster_t *cluster;
	sched_node_t *node; /* set once registered */
	uint8_t *rx;
	size_t rxlen, rxcap;
	out_frame_t *head, *tail;
	bool closing;
	int close_status;
	char close_reason[120];
	char peer[64];
};

static const char *who(const struct sched_session *s)
{
	static char buf[128];

	if (s->node)
		snprintf(buf, sizeof(buf), "node %s", s->node->name);
	else
		snprintf(buf, sizeof(buf), "node session from %s", s->peer);
	return buf;
}

struct sched_session *sched_session_new(sched_cluster_t *c, struct lws *wsi)
{
	struct sched_session *s = calloc(1, sizeof(*s));

	if (!s)
		abort();
	s->wsi = wsi;
	s->cluster = c;
	lws_get_peer_simple(wsi, s->peer, sizeof(s->peer));
	return s;
}

int sched_session_send(struct sched_session *s, const Nodelet__V1__Envelope *env)
{
	size_t len = nodelet__v1__envelope__get_packed_size(env);
	out_frame_t *f = malloc(sizeof(*f) + LWS_PRE + len);

	if (!f)
		abort();
	f->next = NULL;
	f->len = nodelet__v1__envelope__pack(env, f->data + LWS_PRE);
	if (s->tail)
		s->tail->next = f;
	else
		s->head = f;
	s->tail = f;
	lws_callback_on_writable(s->wsi);
	return 0;
}

static void close_with(struct sched_session *s, int status, const char *reason)
{
	s->closing = true;
	s->close_status = status;
	snprintf(s->close_reason, sizeof(s->close_reason), "%s", reason);
}

void sched_session_close(struct sched_session *s, const char *reason)
{
	if (s->closing)
		return;
	sched_info("%s: closing session: %s", who(s), reason);
	close_with(s, LWS_CLOSE_STATUS_NORMAL, reason);
	lws_callback_on_writable(s->wsi);
}

int sched_session_writable(struct sched_session *s)
{
	out_frame_t *f = s->head;

	if (f) {
		int n = lws_write(s->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);

		s->head = f->next;
		if (!s->head)
			s->tail = NULL;
		free(f);
		if (n < 0)
			return -1;
		if (s->head || s->closing)
			lws_callback_on_writable(s->wsi);
		return 0;
	}
	if (s->closing) {
		lws_close_reason(s->wsi, (enum lws_close_status)s->close_status,
				 (unsigned char *)s->close_reason, strlen(s->close_reason));
		return -1;
	}
	return 0;
}

/* Refuses the registration: RegisterReply accepted=false, then close. */
static void refuse(struct sched_session *s, const char *msg)
{
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	Nodelet__V1__RegisterReply rr = NODELET__V1__REGISTER_REPLY__INIT;

	sched_warn("%s: registration refused: %s", who(s), msg);
	rr.accepted = false;
	rr.message = (char *)msg;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY;
	env.register_reply = &rr;
	sched_session_send(s, &env);
	close_with(s, LWS_CLOSE_STATUS_POLICY_VIOLATION, "registration refused");
}

static void on_register(struct sched_session *s, const Nodelet__V1__Register *r)
{
	char msg[256];

	if (r->protocol_version != API_PROTOCOL_VERSION) {
		snprintf(msg, sizeof(msg), "protocol version %u not supported (schedd speaks %d)",
			 r->protocol_version, API_PROTOCOL_VERSION);
		refuse(s, msg);
		return;
	}
	if (!r->name || !api_is_dns1123_subdomain(r->name)) {
		snprintf(msg, sizeof(msg),
			 "invalid node name \"%.100s\": must be a DNS-1123 subdomain",
			 r->name ? r->name : "");
		refuse(s, msg);
		return;
	}
	s->node = sched_cluster_register(s->cluster, s, r, msg, sizeof(msg));
	if (!s->node)
		refuse(s, msg);
}

/* Handles one whole Envelope; returns -1 to close at once. */
static int on_frame(struct sched_session *s)
{
	api_error_t err;
	Nodelet__V1__Envelope *env = api_envelope_unpack(s->rx, s->rxlen, &err);
	char reason[120];

	if (!env) {
		sched_warn("%s: closing: undecodable frame (%zu bytes): %s", who(s), s->rxlen,
			   err.msg);
		snprintf(reason, sizeof(reason), "undecodable frame: %.100s", err.msg);
		lws_close_reason(s->wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD, (unsigned char *)reason,
				 strlen(reason));
		return -1;
	}
	if (s->closing) {
		/* refused or replaced: ignore what still arrives */
	} else if (!s->node) {
		if (env->msg_case == NODELET__V1__ENVELOPE__MSG_REGISTER) {
			on_register(s, env->register_);
		} else {
			sched_warn("%s: closing: first frame must be Register (got case %d)",
				   who(s), (int)env->msg_case);
			close_with(s, LWS_CLOSE_STATUS_POLICY_VIOLATION,
				   "first frame must be Register");
			lws_callback_on_writable(s->wsi);
		}
	} else {
		switch (env->msg_case) {
		case NODELET__V1__ENVELOPE__MSG_HEARTBEAT:
			sched_cluster_heartbeat(s->cluster, s, s->node, env->heartbeat);
			break;
		case NODELET__V1__ENVELOPE__MSG_POD_STATUS:
			sched_cluster_pod_status(s->cluster, s, s->node, env->pod_status);
			break;
		case NODELET__V1__ENVELOPE__MSG_ERROR:
			sched_warn("%s reports error %d: %s", who(s), env->error->code,
				   env->error->message);
			break;
		default:
			sched_warn("%s: ignoring unexpected frame (case %d)", who(s),
				   (int)env->msg_case);
			break;
		}
	}
	nodelet__v1__envelope__free_unpacked(env, NULL);
	if (s->closing) {
		/* Refused: write the queued reply now and close from this receive
		 * callback; lws 4.1.6 drops the close frame when a WRITEABLE callback
		 * returns -1, but sends it from here. */
		while (s->head) {
			out_frame_t *f = s->head;

			s->head = f->next;
			lws_write(s->wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);
			free(f);
		}
		s->tail = NULL;
		lws_close_reason(s->wsi, (enum lws_close_status)s->close_status,
				 (unsigned char *)s->close_reason, strlen(s->close_reason));
		return -1;
	}
	return 0;
}

int sched_session_receive(struct sched_session *s, const void *in, size_t len)
{
	int rc = 0;

	if (s->rxlen + len > MAX_FRAME) {
		char reason[80];

		snprintf(reason, sizeof(reason), "frame larger than %u bytes", MAX_FRAME);
		sched_warn("%s: closing: %s", who(s), reason);
		lws_close_reason(s->wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE,
				 (unsigned char *)reason, strlen(reason));
		return -1;
	}
	if (s->rxlen + len > s->rxcap) {
		s->rxcap = s->rxlen + len > 4096 ? (s->rxlen + len) * 2 : 4096;
		s->rx = realloc(s->rx, s->rxcap);
		if (!s->rx)
			abort();
	}
	if (len)
		memcpy(s->rx + s->rxlen, in, len);
	s->rxlen += len;
	if (!lws_is_final_fragment(s->wsi) || lws_remaining_packet_payload(s->wsi))
		return 0;
	rc = on_frame(s);
	s->rxlen = 0;
	return rc;
}

void sched_session_closed(struct sched_session *s)
{
	if (!s)
		return;
	if (s->node)
		sched_cluster_disconnected(s->cluster, s, s->node);
	else
		sched_info("node session from %s closed before registering", s->peer);
	while (s->head) {
		out_frame_t *f = s->head;
		s->head = f->next;
		free(f);
	}
	free(s->rx);
	free(s);
}
