/*
 * dmn_metrics.c -- the metrics endpoint both daemons share: an HTTP
 * listener (libre's http server) that answers GET /metrics with the
 * status tree in the Prometheus text format (dmn_st_metrics), built
 * afresh for each scrape by the daemon's own status builder.  Anything
 * else gets 404, a method other than GET/HEAD 405.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "daemon/dmn.h"

struct dmn_metrics {
	struct http_sock *sock;
	dmn_metrics_build_h *buildh;
	void *arg;
	char prefix[32];
	uint64_t scrapes;
};

static void destructor(void *arg)
{
	struct dmn_metrics *m = arg;

	mem_deref(m->sock);
}

static int h_metrics(struct re_printf *pf, void *arg)
{
	const struct dmn_metrics *m = arg;
	struct dmn_st *st = NULL;
	int err;

	err = m->buildh(&st, m->arg);
	if (!err)
		err = dmn_st_metrics(pf, st, m->prefix);
	mem_deref(st);
	return err;
}

static void req_h(struct http_conn *conn, const struct http_msg *msg,
		  void *arg)
{
	struct dmn_metrics *m = arg;
	char *body = NULL;
	int err;

	if (pl_strcmp(&msg->met, "GET") && pl_strcmp(&msg->met, "HEAD")) {
		(void)http_ereply(conn, 405, "Method Not Allowed");
		return;
	}
	if (pl_strcmp(&msg->path, "/metrics")) {
		(void)http_ereply(conn, 404, "Not Found");
		return;
	}
	err = re_sdprintf(&body, "%H", h_metrics, m);
	if (err) {
		dmn_log_code(DMN_LOG_WARN, err, "metrics: scrape failed");
		(void)http_ereply(conn, 500, "Internal Server Error");
		return;
	}
	m->scrapes++;
	(void)http_creply(conn, 200, "OK",
			  "text/plain; version=0.0.4; charset=utf-8", "%s",
			  body);
	mem_deref(body);
}

int dmn_metrics_listen(struct dmn_metrics **mp, const char *addr,
		       const char *prefix, dmn_metrics_build_h *buildh,
		       void *arg)
{
	struct dmn_metrics *m;
	struct sa la;
	int err;

	if (!mp || !addr || !prefix || !buildh)
		return EINVAL;
	err = sa_decode(&la, addr, strlen(addr));
	if (err) {
		dmn_log_errx("metrics: not an address:port metrics=%s", addr);
		return EINVAL;
	}
	m = mem_zalloc(sizeof(*m), destructor);
	if (!m)
		return ENOMEM;
	m->buildh = buildh;
	m->arg = arg;
	str_ncpy(m->prefix, prefix, sizeof(m->prefix));
	err = http_listen(&m->sock, &la, req_h, m);
	if (err) {
		dmn_log_code(DMN_LOG_ERR, err, "metrics: listen failed "
			     "address=%s", addr);
		mem_deref(m);
		return err;
	}
	dmn_log_info("metrics: listening address=%s path=/metrics", addr);
	*mp = m;
	return 0;
}
