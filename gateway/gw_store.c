/*
 * gw_store.c -- the gateway's state written through to the store
 * (store/sto.h) and read back when the gateway starts.
 *
 * The tables in memory stay the truth while the gateway runs; each
 * change to them (a REGISTER that changed bindings, a PUBLISH, a
 * subscription created, refreshed, NOTIFYed or ended) is queued to the
 * store by a hook at that point, and the store's writer commits it a
 * few milliseconds later, off the event loop.  The answer to the client
 * does not wait for the disk: a crash in those milliseconds loses that
 * one change (the client's next refresh repairs it).  CommunityGateway
 * stateFile names the SQLite file; stateStore names a PostgreSQL
 * database shared by the community's gateways (each gateway's rows are
 * tagged with its name and it reads back its own); without either the
 * store is the memory kind and nothing survives a restart.
 *
 * At start (after the listeners and the connector links):
 *	bindings      restored with the flow they registered on when that
 *	              flow was UDP: requests reach the client at the same
 *	              address, from the same listener, without a new
 *	              REGISTER.  A TCP or TLS flow died with the process
 *	              (RFC 5626 4.2, RFC 3261 18: only the client can
 *	              open a connection through its NAT, and answers go
 *	              back on the connection a request came on), so such a
 *	              binding is not restored: the user is offline and
 *	              unreachable (480) until the client registers again,
 *	              which clients do when their connection breaks.
 *	publications  restored as they were (ETag, state, note, expiry).
 *	subscriptions the watcher's dialog (Call-ID, tags, route set,
 *	              Contact, our CSeq, expiry) over a UDP flow is
 *	              restored, and every restored watcher is sent a NOTIFY
 *	              at once with the state current after the restore and
 *	              the CSeq following the last one sent, so no watcher
 *	              keeps a state that stopped being true while the
 *	              gateway was down.  A dialog over TCP/TLS is dropped
 *	              like its binding: its next refresh gets 481 and the
 *	              watcher subscribes again.
 * Anything expired while the gateway was down is deleted, not loaded.
 * Times are kept as wall-clock seconds and turned back into the
 * gateway's monotonic clock on load.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include <re.h>

#include "store/sto.h"
#include "gateway/gw.h"
#include "gateway/gw_base.h"
#include "gateway/gw_lsnr.h"
#include "gateway/gw_pres.h"
#include "gateway/gw_shared.h"
#include "gateway/gw_store.h"
#include "gateway/gw_reg.h"

/* ---- writing ---- */

struct reg_snap {
	struct sto_binding bv[GW_REG_BINDINGS_MAX];
	char tp[GW_REG_BINDINGS_MAX][8];
	char src[GW_REG_BINDINGS_MAX][GW_ADDR_MAX];
	char dst[GW_REG_BINDINGS_MAX][GW_ADDR_MAX];
	const char *aor;
	size_t n;
};

static bool snap_binding(const struct gw_binding *b, void *arg)
{
	struct reg_snap *rs = arg;
	struct sto_binding *sb;

	if (rs->n >= GW_REG_BINDINGS_MAX)
		return true;
	sb = &rs->bv[rs->n];
	gw_store_flow_text(b->flow, rs->tp[rs->n], sizeof(rs->tp[0]),
			   rs->src[rs->n], rs->dst[rs->n], GW_ADDR_MAX);
	sb->aor = rs->aor;
	sb->uri = b->uri;
	sb->instance = b->instance;
	sb->regid = b->regid;
	sb->callid = b->callid;
	sb->cseq = b->cseq;
	sb->expires = gw_store_wall(b->expires);
	sb->tp = rs->tp[rs->n];
	sb->src = rs->src[rs->n];
	sb->dst = rs->dst[rs->n];
	rs->n++;
	return false;
}

/* aor's bindings as they are now replace what the store has. */
void gw_store_reg(struct gw *gw, const char *aor)
{
	struct reg_snap *rs;

	if (!gw || !gw->store || !aor)
		return;
	rs = mem_zalloc(sizeof(*rs), NULL);
	if (!rs)
		return;
	rs->aor = aor;
	(void)gw_reg_contacts(gw->reg, aor, gw_now(), snap_binding, rs);
	(void)sto_reg_set(gw->store, aor, rs->bv, rs->n);
	mem_deref(rs);
}

/* ---- reading ---- */

struct gw_dropped {
	struct le le;
	char aor[];
};

struct restore_ctx {
	struct gw *gw;
	struct list dropped;        /* AORs whose set must be rewritten */
};

static void dropped_note(struct restore_ctx *rc, const char *aor)
{
	const size_t n = strlen(aor);
	struct gw_dropped *d;
	struct le *le;

	for (le = rc->dropped.head; le; le = le->next) {
		d = le->data;
		if (!strcmp(d->aor, aor))
			return;
	}
	d = mem_zalloc(sizeof(*d) + n + 1, NULL);
	if (!d)
		return;
	memcpy(d->aor, aor, n + 1);
	list_append(&rc->dropped, &d->le, d);
}

/* A binding read from the state store at start-up, with its flow
 * rebuilt and remaining seconds of validity, put back into the
 * registration table (moved from gw_regsrv.c: the REGISTER service and
 * the store no longer call each other). */
static void gw_register_restore(struct gw *gw,
				const struct sto_binding *b,
				struct sst_flow *fl, uint32_t remaining)
{
	struct gw_reg_contact c;

	memset(&c, 0, sizeof(c));
	c.uri = b->uri;
	c.expires = min(remaining, (uint32_t)GW_EXPIRES_MAX);
	c.instance = b->instance;
	c.regid = b->regid;
	if (gw_reg_update(gw->reg, b->aor, &c, 1, b->callid, b->cseq, fl,
			  gw_now())) {
		gw->restored.unusable++;
		return;
	}
	gw->restored.bindings++;
}

static void load_binding(const struct sto_binding *b, void *arg)
{
	struct restore_ctx *rc = arg;
	struct gw *gw = rc->gw;
	const uint64_t exp = gw_store_mono(b->expires);
	struct sst_flow *fl = NULL;
	int err;

	if (!exp)
		return;
	err = gw_store_flow(&fl, gw, b->tp ? b->tp : "", b->src, b->dst);
	if (err) {
		if (err == ENOTCONN)
			gw->restored.stream_bindings++;
		else
			gw->restored.unusable++;
		dropped_note(rc, b->aor);
		return;
	}
	gw_register_restore(gw, b, fl, (uint32_t)(exp - gw_now()));
	mem_deref(fl);
}

static void load_pub(const struct sto_pub *p, void *arg)
{
	struct restore_ctx *rc = arg;
	const uint64_t exp = gw_store_mono(p->expires);

	if (exp)
		gw_pres_restore_pub(rc->gw, p, exp);
}

static void load_sub(const struct sto_sub *u, void *arg)
{
	struct restore_ctx *rc = arg;
	struct gw *gw = rc->gw;
	const uint64_t exp = gw_store_mono(u->expires);
	struct sst_flow *fl = NULL;
	int err;

	if (!exp)
		return;
	err = gw_store_flow(&fl, gw, u->tp ? u->tp : "", u->src, u->dst);
	if (!err)
		err = gw_pres_restore_sub(gw, u, fl, exp);
	mem_deref(fl);
	if (!err)
		return;
	if (err == ENOTCONN)
		gw->restored.stream_subs++;
	else
		gw->restored.unusable++;
	(void)sto_sub_del(gw->store, u->callid, u->ltag);
}

static void store_log(bool healthy, const char *msg, void *arg)
{
	struct gw *gw = arg;

	if (healthy)
		dmn_log_info("gw: store writes-resumed path=%s",
			     sto_path(gw->store));
	else
		dmn_log_warnx("gw: store write-failed path=%s error=%s "
			      "changes=kept retry-ms=%u", sto_path(gw->store),
			      msg, (unsigned)STO_RETRY_MS);
}

/* Open the store the CommunityGateway names, put its state back, and
 * tell every restored watcher the state as it is now. */
int gw_store_start(struct gw *gw)
{
	static const struct sto_load_h h = {load_binding, load_pub,
					    load_sub};
	struct sto_conf conf;
	struct restore_ctx rc;
	char why[512];
	struct le *le;
	int err;

	if (!gw)
		return EINVAL;
	memset(&conf, 0, sizeof(conf));
	conf.kind = gw->self->statestore ? STO_PGSQL :
		gw->self->statefile ? STO_SQLITE : STO_MEMORY;
	conf.path = gw->self->statestore ? gw->self->statestore :
		gw->self->statefile;
	conf.node = gw->self->name;
	err = sto_alloc(&gw->store, &conf, why, sizeof(why));
	if (err) {
		dmn_log_errx("gw: store failed kind=%s message=%s",
			     sto_kind_name(conf.kind), why);
		return err;
	}
	sto_set_log(gw->store, store_log, gw);

	memset(&gw->restored, 0, sizeof(gw->restored));
	rc.gw = gw;
	list_init(&rc.dropped);
	err = sto_load(gw->store, &h, &rc, (int64_t)time(NULL));
	if (err) {
		struct sto_stats ss;

		sto_stats_get(gw->store, &ss);
		dmn_log_errx("gw: store failed kind=%s path=%s message=%s",
			     sto_kind_name(conf.kind), sto_path(gw->store),
			     ss.last_error);
		list_flush(&rc.dropped);
		gw->store = mem_deref(gw->store);
		return err;
	}
	/* what could not come back goes from the file too */
	for (le = rc.dropped.head; le; le = le->next) {
		const struct gw_dropped *d = le->data;

		gw_store_reg(gw, d->aor);
	}
	list_flush(&rc.dropped);

	dmn_log_info("gw: store opened kind=%s path=%s bindings=%u "
		     "publications=%u subscriptions=%u dropped-tcp-tls=%u",
		     sto_kind_name(conf.kind),
		     sto_path(gw->store) ? sto_path(gw->store) : "none",
		     gw->restored.bindings,
		     gw->restored.publications, gw->restored.subscriptions,
		     gw->restored.stream_bindings + gw->restored.stream_subs);
	gw_pres_restore_done(gw);
	err = gw_shared_start(gw);
	if (err)
		dmn_log_errx("gw: store feed-failed error=%s", strerror(err));
	return err;
}

/* At stop: write what is queued (one attempt), say what the store did
 * in this run, close it.  Hooks are no-ops from here on. */
void gw_store_close(struct gw *gw)
{
	struct sto_stats ss;
	int err;

	if (!gw || !gw->store)
		return;
	err = sto_sync(gw->store);
	sto_stats_get(gw->store, &ss);
	if (ss.kind != STO_MEMORY)
		dmn_log_info("gw: store closed path=%s written=%llu "
			     "batches=%llu failed-batches=%llu dropped=%llu "
			     "unwritten=%u avg-us=%llu max-us=%llu",
			     sto_path(gw->store),
			     (unsigned long long)ss.written,
			     (unsigned long long)ss.batches,
			     (unsigned long long)ss.failures,
			     (unsigned long long)ss.dropped,
			     err ? (unsigned)ss.backlog : 0u,
			     (unsigned long long)ss.avg_us,
			     (unsigned long long)ss.max_us);
	gw->store = mem_deref(gw->store);
	gw_shared_close(gw);
}

/* ---- status ---- */

bool gw_store_degraded(const struct gw *gw)
{
	struct sto_stats ss;

	if (!gw || !gw->store)
		return false;
	sto_stats_get(gw->store, &ss);
	return !ss.healthy || (ss.following && !ss.feed_up);
}

void gw_store_status(struct dmn_st *root, const struct gw *gw)
{
	struct dmn_st *s = dmn_st_section(root, "store");
	struct dmn_st *r;
	struct sto_stats ss;

	sto_stats_get(gw->store, &ss);
	dmn_st_str(s, "kind", sto_kind_name(sto_kind(gw->store)));
	if (sto_path(gw->store))
		dmn_st_str(s, "path", sto_path(gw->store));
	dmn_st_str(s, "health", ss.healthy && (!ss.following || ss.feed_up) ?
		   "ok" : "degraded");
	dmn_st_int(s, "backlog", ss.backlog);
	dmn_st_int(s, "written", (int64_t)ss.written);
	dmn_st_int(s, "batches", (int64_t)ss.batches);
	dmn_st_int(s, "failed_batches", (int64_t)ss.failures);
	dmn_st_int(s, "dropped", (int64_t)ss.dropped);
	dmn_st_int(s, "expired_cleaned", (int64_t)ss.cleaned);
	dmn_st_int(s, "write_latency_last_us", (int64_t)ss.last_us);
	dmn_st_int(s, "write_latency_avg_us", (int64_t)ss.avg_us);
	dmn_st_int(s, "write_latency_max_us", (int64_t)ss.max_us);
	if (ss.last_error[0])
		dmn_st_str(s, "last_error", ss.last_error);
	if (ss.following) {
		/* the other gateways of the shared store */
		r = dmn_st_section(s, "shared");
		dmn_st_str(r, "feed", ss.feed_up ? "up" : "down");
		dmn_st_int(r, "other_gateways_aors", gw_shared_count(gw));
		dmn_st_int(r, "updates", (int64_t)ss.feed_updates);
		dmn_st_int(r, "resyncs", (int64_t)ss.feed_resyncs);
		dmn_st_int(r, "gateways_gone", ss.gateways_down);
		dmn_st_str(r, "serving", ss.healthy && ss.feed_up ?
			   "shared" : "own clients from memory, catching "
			   "up when the store returns");
	}
	r = dmn_st_section(s, "restored_at_start");
	dmn_st_int(r, "bindings", gw->restored.bindings);
	dmn_st_int(r, "publications", gw->restored.publications);
	dmn_st_int(r, "subscriptions", gw->restored.subscriptions);
	dmn_st_int(r, "dropped_tcp_tls_bindings",
		   gw->restored.stream_bindings);
	dmn_st_int(r, "dropped_tcp_tls_subscriptions",
		   gw->restored.stream_subs);
	dmn_st_int(r, "unusable", gw->restored.unusable);
}
