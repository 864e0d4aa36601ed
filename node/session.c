/* The nodelet's session with schedd: a libwebsockets client on the nodelet's
 * libuv loop (foreign loop), at /v1/node with subprotocol nodelet.v1, one
 * protobuf Envelope per binary message. Reconnects with jittered backoff;
 * frames to send wait in a small queue until the socket is writable. */
#include <errno.h>
#include <libwebsockets.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/nodelet-internal.h"

typedef struct frame {
	struct frame *next;
	size_t len;
	unsigned char data[]; /* LWS_PRE headroom, then the packed envelope */
} frame_t;

struct node_session {
	node_t *n;
	struct lws_context *ctx;
	struct lws *wsi;
	lws_sorted_usec_list_t sul;
	uint16_t retry_count;
	bool stopping;
	bool established; /* the WebSocket is open (frames may be sent) */
	unsigned char *rx;
	size_t rxlen, rxcap;
	frame_t *head, *tail;
	void *loops[1];
};

static const uint32_t backoff_ms[] = {500, 1000, 2000, 4000, 8000};

static const lws_retry_bo_t retry_policy = {
    .retry_ms_table = backoff_ms,
    .retry_ms_table_count = sizeof backoff_ms / sizeof backoff_ms[0],
    .conceal_count = LWS_RETRY_CONCEAL_ALWAYS,
    .secs_since_valid_ping = 10,   /* ping schedd when quiet this long */
    .secs_since_valid_hangup = 25, /* and hang up when no pong came */
    .jitter_percent = 30,
};

static void queue_clear(struct node_session *s)
{
	while (s->head) {
		frame_t *f = s->head;
		s->head = f->next;
		free(f);
	}
	s->tail = NULL;
}

static void connect_now(lws_sorted_usec_list_t *sul);

static void schedule_retry(struct node_session *s)
{
	if (s->stopping)
		return;
	if (lws_retry_sul_schedule(s->ctx, 0, &s->sul, &retry_policy, connect_now, &s->retry_count))
		node_log('E', "session: giving up reconnecting to %s", s->n->cfg->server);
}

static void connect_now(lws_sorted_usec_list_t *sul)
{
	struct node_session *s = lws_container_of(sul, struct node_session, sul);
	if (s->stopping)
		return;
	node_config_t *cfg = s->n->cfg;
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof ci);
	char hosthdr[300];
	snprintf(hosthdr, sizeof hosthdr, "%s:%d", cfg->server_host, cfg->server_port);
	ci.context = s->ctx;
	ci.address = cfg->server_host;
	ci.port = cfg->server_port;
	ci.path = API_WS_PATH;
	ci.host = hosthdr;
	ci.origin = hosthdr;
	ci.protocol = API_WS_SUBPROTOCOL;
	ci.local_protocol_name = API_WS_SUBPROTOCOL;
	ci.ietf_version_or_minus_one = -1;
	ci.retry_and_idle_policy = &retry_policy;
	ci.userdata = s;
	ci.pwsi = &s->wsi;
	if (!lws_client_connect_via_info(&ci)) {
		s->wsi = NULL;
		schedule_retry(s);
	}
}

static void handle_frame(struct node_session *s, const uint8_t *buf, size_t len, struct lws *wsi,
			 bool *bad)
{
	api_error_t ae;
	Nodelet__V1__Envelope *env = api_envelope_unpack(buf, len, &ae);
	if (!env) {
		node_log('W', "session: dropping connection: undecodable frame from schedd: %s",
			 ae.msg);
		lws_close_reason(wsi, LWS_CLOSE_STATUS_INVALID_PAYLOAD,
				 (unsigned char *)"bad frame", 9);
		*bad = true;
		return;
	}
	switch (env->msg_case) {
	case NODELET__V1__ENVELOPE__MSG_REGISTER_REPLY:
		node_on_register_reply(s->n, env->register_reply);
		break;
	case NODELET__V1__ENVELOPE__MSG_RUN_POD:
		node_on_run_pod(s->n, env->run_pod);
		break;
	case NODELET__V1__ENVELOPE__MSG_STOP_POD:
		node_on_stop_pod(s->n, env->stop_pod);
		break;
	case NODELET__V1__ENVELOPE__MSG_ERROR:
		node_log('W', "session: schedd reports error %d: %s", env->error->code,
			 env->error->message);
		break;
	default:
		node_log('W', "session: ignoring unexpected message %d from schedd",
			 (int)env->msg_case);
		break;
	}
	nodelet__v1__envelope__free_unpacked(env, NULL);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	(void)user;
	struct lws_context *ctx = wsi ? lws_get_context(wsi) : NULL;
	struct node_session *s = ctx ? lws_context_user(ctx) : NULL;
	if (!s)
		return lws_callback_http_dummy(wsi, reason, user, in, len);

	switch (reason) {
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		s->wsi = wsi;
		s->retry_count = 0;
		s->rxlen = 0;
		queue_clear(s);
		s->established = true;
		node_log('I', "session: connected to %s", s->n->cfg->server);
		node_on_connected(s->n);
		break;

	case LWS_CALLBACK_CLIENT_RECEIVE: {
		size_t need = s->rxlen + len;
		if (need > 64u << 20) {
			node_log('W', "session: message from schedd larger than 64 MiB; dropping");
			return -1;
		}
		if (need > s->rxcap) {
			size_t cap = s->rxcap ? s->rxcap : 65536;
			while (cap < need)
				cap *= 2;
			s->rx = realloc(s->rx, cap);
			if (!s->rx)
				abort();
			s->rxcap = cap;
		}
		memcpy(s->rx + s->rxlen, in, len);
		s->rxlen += len;
		if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
			break;
		if (lws_frame_is_binary(wsi) == 0) {
			node_log('W', "session: text frame from schedd; expected binary");
			s->rxlen = 0;
			break;
		}
		bool bad = false;
		size_t n = s->rxlen;
		s->rxlen = 0;
		handle_frame(s, s->rx, n, wsi, &bad);
		if (bad)
			return -1;
		break;
	}

	case LWS_CALLBACK_CLIENT_WRITEABLE: {
		frame_t *f = s->head;
		if (!f)
			break;
		s->head = f->next;
		if (!s->head)
			s->tail = NULL;
		int w = lws_write(wsi, f->data + LWS_PRE, f->len, LWS_WRITE_BINARY);
		free(f);
		if (w < 0) {
			node_log('W', "session: write to schedd failed");
			return -1;
		}
		if (s->head)
			lws_callback_on_writable(wsi);
		break;
	}

	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		node_log('W', "session: cannot connect to %s: %s; retrying", s->n->cfg->server,
			 in ? (const char *)in : "unknown error");
		s->wsi = NULL;
		s->established = false;
		schedule_retry(s);
		break;

	case LWS_CALLBACK_CLIENT_CLOSED:
		if (!s->stopping)
			node_log('W', "session: connection to %s closed; reconnecting",
				 s->n->cfg->server);
		s->wsi = NULL;
		s->established = false;
		queue_clear(s);
		node_on_disconnected(s->n);
		schedule_retry(s);
		break;

	default:
		break;
	}
	return 0;
}

static const struct lws_protocols protocols[] = {
    {API_WS_SUBPROTOCOL, callback, 0, 65536, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void lws_emit(int level, const char *line)
{
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		n--;
	node_log(level == LLL_ERR ? 'E' : 'W', "lws: %.*s", (int)n, line);
}

int node_session_start(node_t *n)
{
	struct node_session *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->n = n;
	n->session = s;
	s->loops[0] = n->loop;
	lws_set_log_level(LLL_ERR, lws_emit);

	struct lws_context_creation_info info;
	memset(&info, 0, sizeof info);
	info.port = CONTEXT_PORT_NO_LISTEN;
	info.protocols = protocols;
	info.options = LWS_SERVER_OPTION_LIBUV;
	info.foreign_loops = s->loops;
	info.user = s;
	info.retry_and_idle_policy = &retry_policy;
	info.gid = -1;
	info.uid = -1;
	s->ctx = lws_create_context(&info);
	if (!s->ctx) {
		node_log('E', "session: cannot create the libwebsockets context (is "
			      "libwebsockets-evlib-uv installed?)");
		return -1;
	}
	node_log('I', "session: connecting to %s", n->cfg->server);
	connect_now(&s->sul);
	return 0;
}

void node_session_send(node_t *n, const Nodelet__V1__Envelope *env, bool always)
{
	struct node_session *s = n->session;
	if (!s || !s->wsi || !s->established || s->stopping || (!always && !n->registered))
		return;
	uint8_t *buf;
	size_t len;
	if (api_envelope_pack(env, &buf, &len) < 0) {
		node_log('E', "session: cannot pack message %d", (int)env->msg_case);
		return;
	}
	frame_t *f = malloc(sizeof *f + LWS_PRE + len);
	if (!f)
		abort();
	f->next = NULL;
	f->len = len;
	memcpy(f->data + LWS_PRE, buf, len);
	free(buf);
	if (s->tail)
		s->tail->next = f;
	else
		s->head = f;
	s->tail = f;
	lws_callback_on_writable(s->wsi);
}

void node_session_stop(node_t *n)
{
	struct node_session *s = n->session;
	if (!s || s->stopping)
		return;
	s->stopping = true;
	if (s->ctx) {
		lws_sul_cancel(&s->sul);
		if (s->wsi)
			lws_set_timeout(s->wsi, PENDING_TIMEOUT_CLOSE_SEND, LWS_TO_KILL_ASYNC);
		lws_context_destroy(s->ctx);
	}
}

void node_session_destroy(node_t *n)
{
	struct node_session *s = n->session;
	if (!s)
		return;
	if (s->ctx)
		lws_context_destroy(s->ctx);
	queue_clear(s);
	free(s->rx);
	free(s);
	n->session = NULL;
}

/* ---- the protocol: register, heartbeats ---------------------------------- */

Nodelet__V1__PodRef **node_pods_refs(node_t *n, size_t *count)
{
	size_t k = node_pods_count(n), i = 0;
	Nodelet__V1__PodRef **refs = calloc(k + 1, sizeof *refs);
	if (!refs)
		abort();
	for (node_pod_t *p = n->pods; p && i < k; p = p->next) {
		if (p->stopping && !p->next_json)
			continue;
		refs[i] = malloc(sizeof **refs);
		if (!refs[i])
			abort();
		nodelet__v1__pod_ref__init(refs[i]);
		refs[i]->uid = p->uid;
		refs[i]->generation = p->generation;
		i++;
	}
	*count = i;
	return refs;
}

void node_pods_refs_free(Nodelet__V1__PodRef **refs, size_t count)
{
	for (size_t i = 0; i < count; i++)
		free(refs[i]);
	free(refs);
}

size_t node_pods_count(node_t *n)
{
	size_t k = 0;
	for (node_pod_t *p = n->pods; p; p = p->next)
		k++;
	return k;
}

static void request_shutdown(node_t *n, int code)
{
	if (n->request_shutdown)
		n->request_shutdown(n, code);
}

void node_on_connected(node_t *n)
{
	node_config_t *cfg = n->cfg;
	Nodelet__V1__Register reg = NODELET__V1__REGISTER__INIT;
	reg.protocol_version = API_PROTOCOL_VERSION;
	reg.name = cfg->name;
	reg.version = NODE_VERSION;

	Nodelet__V1__Label *labels = calloc(cfg->labels.n + 1, sizeof *labels);
	Nodelet__V1__Label **lp = calloc(cfg->labels.n + 1, sizeof *lp);
	if (!labels || !lp)
		abort();
	for (size_t i = 0; i < cfg->labels.n; i++) {
		nodelet__v1__label__init(&labels[i]);
		labels[i].key = cfg->labels.items[i].key;
		labels[i].value = cfg->labels.items[i].value;
		lp[i] = &labels[i];
	}
	reg.n_labels = cfg->labels.n;
	reg.labels = lp;

	Nodelet__V1__Resources cap = NODELET__V1__RESOURCES__INIT;
	cap.cpu_millis = n->cap_cpu_millis;
	cap.memory_bytes = n->cap_memory_bytes;
	cap.pods = cfg->max_pods;
	reg.capacity = &cap;

	char *addrs[1] = {n->address};
	if (n->address[0]) {
		reg.n_addresses = 1;
		reg.addresses = addrs;
	}
	size_t npods = 0;
	Nodelet__V1__PodRef **refs = node_pods_refs(n, &npods);
	reg.n_pods = npods;
	reg.pods = refs;

	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_REGISTER;
	env.register_ = &reg;
	node_log('I',
		 "session: registering as %s (%lld millicores, %lld bytes, %lld pods, "
		 "address %s, %zu pods running here)",
		 cfg->name, (long long)cap.cpu_millis, (long long)cap.memory_bytes,
		 (long long)cap.pods, n->address[0] ? n->address : "none", npods);
	node_session_send(n, &env, true);
	node_pods_refs_free(refs, npods);
	free(lp);
	free(labels);
}

static void heartbeat_tick(uv_timer_t *t)
{
	node_t *n = container_of(t, node_t, heartbeat);
	node_host_sample_t cur;
	int64_t cpu = 0, total = 0, used = 0;
	if (node_read_proc_stat("/proc/stat", &cur) == 0) {
		long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		if (n->host_prev.total)
			cpu = node_host_cpu_millis(&n->host_prev, &cur, ncpu > 0 ? (int)ncpu : 1);
		n->host_prev = cur;
	}
	node_read_meminfo("/proc/meminfo", &total, &used);

	Nodelet__V1__Resources usage = NODELET__V1__RESOURCES__INIT;
	usage.cpu_millis = cpu;
	usage.memory_bytes = used;
	usage.pods = (int64_t)node_pods_count(n);
	Nodelet__V1__Resources alloc = NODELET__V1__RESOURCES__INIT;
	alloc.cpu_millis = n->cap_cpu_millis;
	alloc.memory_bytes = n->cap_memory_bytes;
	alloc.pods = n->cfg->max_pods;
	Nodelet__V1__Heartbeat hb = NODELET__V1__HEARTBEAT__INIT;
	hb.seq = ++n->hb_seq;
	hb.usage = &usage;
	hb.allocatable = &alloc;
	Nodelet__V1__Envelope env = NODELET__V1__ENVELOPE__INIT;
	env.msg_case = NODELET__V1__ENVELOPE__MSG_HEARTBEAT;
	env.heartbeat = &hb;
	node_session_send(n, &env, false);

	node_pods_sample_usage(n);
	node_pods_report_all(n, true);
}

void node_on_register_reply(node_t *n, const Nodelet__V1__RegisterReply *r)
{
	if (!r->accepted) {
		node_log('E', "session: schedd refused the registration: %s",
			 r->message && r->message[0] ? r->message : "(no reason given)");
		request_shutdown(n, 1);
		return;
	}
	rt_error_t err = {0};
	if (!r->pod_cidr || !r->pod_cidr[0]) {
		node_log('E', "session: schedd gave no pod CIDR; pods cannot start");
	} else if (strcmp(n->pod_cidr, r->pod_cidr) != 0 || !n->ipam) {
		char dir[4200];
		snprintf(dir, sizeof dir, "%s/ipam", n->cfg->root);
		pthread_mutex_lock(&n->ipam_lock);
		if (n->ipam) {
			node_log('W', "session: pod CIDR changed from %s to %s", n->pod_cidr,
				 r->pod_cidr);
			rt_ipam_close(n->ipam);
			n->ipam = NULL;
		}
		if (rt_ipam_open(dir, r->pod_cidr, &n->ipam, &err) < 0) {
			node_log('E', "session: opening IPAM for %s: %s", r->pod_cidr, err.msg);
			n->ipam = NULL;
		} else {
			snprintf(n->pod_cidr, sizeof n->pod_cidr, "%s", r->pod_cidr);
			rt_ipam_gateway(n->ipam, n->gateway, &n->prefix_len);
		}
		pthread_mutex_unlock(&n->ipam_lock);
	}
	if (n->ipam) {
		char gw[96];
		snprintf(gw, sizeof gw, "%s/%d", n->gateway, n->prefix_len);
		if (rt_net_bridge_ensure(n->cfg->bridge, gw, &err) < 0)
			node_log('E', "session: bridge %s with %s: %s", n->cfg->bridge, gw,
				 err.msg);
	}
	n->registered = true;
	n->heartbeat_ms = r->heartbeat_interval_ms ? r->heartbeat_interval_ms : 5000;
	node_log('I', "session: registered with schedd (pod CIDR %s, bridge %s, heartbeat %u ms)",
		 n->pod_cidr[0] ? n->pod_cidr : "none", n->cfg->bridge, n->heartbeat_ms);
	/* The first tick sends a heartbeat and every pod's status at once. */
	uv_timer_start(&n->heartbeat, heartbeat_tick, 0, n->heartbeat_ms);
	node_pods_kick_all(n);
}

void node_on_disconnected(node_t *n)
{
	n->registered = false;
	if (!n->shutting_down)
		uv_timer_stop(&n->heartbeat);
}
