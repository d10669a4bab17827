/*
 * test_cn_resolve.c -- external communities resolved against a real
 * dnsmasq on 127.0.7.53.
 *
 * dnsmasq is started by the suite, answers only for *.test from its own
 * config, logs every query it receives (the tests count them to prove
 * that a fresh route costs no query), and is stopped by its PID.  The
 * resolver names its server explicitly: nothing reaches the system
 * resolver.
 *
 * Records: a Proxy name with IPv4 and IPv6; srv.test with two
 * _sips._tcp targets of priorities 10 and 20 (the second with an AAAA)
 * plus a _sip._udp target; aonly.test with an A record only; an SRV for
 * sub.wild.test (a "*.wild.test" community); nowhere.test does not
 * exist.
 *
 * Serve-stale runs against a second dnsmasq on 127.0.113.53 (TTL 1 s)
 * that the test stops and restarts.
 */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "connector/cn_resolve.h"
#include "lib/cutest.h"
#include "lib/tdns.h"

#define DNS_ADDR   "127.0.7.53"
#define DNS_PORT_S "15357"

enum { WAIT_MS = 8000 };

static char tdir[1024];
static char logpath[1100];
static struct tdns dnsmasq = {.pid = -1};
static unsigned marker_seq;

static const char *const servers[] = {DNS_ADDR ":" DNS_PORT_S};

#define STALE_ADDR   "127.0.113.53"
#define STALE_PORT_S "15653"
static const char *const stale_servers[] = {STALE_ADDR ":" STALE_PORT_S};


/* --- the communities, as cfg_load() would give them --- */

static char *d_prox[] = {"prox.test"};
static char *d_srv[] = {"srv.test"};
static char *d_aonly[] = {"aonly.test"};
static char *d_wild[] = {"*.wild.test"};
static char *d_nowhere[] = {"nowhere.test"};
static char *d_cnprox[] = {"cnprox.test"};
static char *d_cnsrv[] = {"cnsrv.test"};
static char *d_zport[] = {"zport.test"};

static const struct cfg_extern ex_prox = {
	"prox", {d_prox, NULL, 1}, "sip.prox.test", 5061, CFG_TP_TLS, 1, 0, 0, 0, 0};
static const struct cfg_extern ex_srv = {
	"srvc", {d_srv, NULL, 1}, NULL, 5060, CFG_TP_TLS, 2, 0, 0, 0, 0};
static const struct cfg_extern ex_aonly = {
	"aonly", {d_aonly, NULL, 1}, NULL, 5070, CFG_TP_TCP, 3, 0, 0, 0, 0};
static const struct cfg_extern ex_wild = {
	"wild", {d_wild, NULL, 1}, NULL, 5060, CFG_TP_TLS, 4, 0, 0, 0, 0};
static char *d_stale[] = {"stale.test"};
static const struct cfg_extern ex_stale = {
	"stale", {d_stale, NULL, 1}, "sip.stale.test", 5061, CFG_TP_TLS, 6, 0, 0, 0, 0};
static const struct cfg_extern ex_never = {
	"never", {d_stale, NULL, 1}, "sip2.stale.test", 5061, CFG_TP_TLS, 7,
	0, 0, 0, 0};
static const struct cfg_extern ex_nowhere = {
	"nowhere", {d_nowhere, NULL, 1}, NULL, 5060, CFG_TP_TLS, 5, 0, 0, 0, 0};
static const struct cfg_extern ex_cnprox = {
	"cnprox", {d_cnprox, NULL, 1}, "sip.cnprox.test", 5061, CFG_TP_TLS, 6, 0, 0, 0, 0};
static const struct cfg_extern ex_cnsrv = {
	"cnsrv", {d_cnsrv, NULL, 1}, NULL, 5060, CFG_TP_TLS, 7, 0, 0, 0, 0};
static const struct cfg_extern ex_zport = {
	"zport", {d_zport, NULL, 1}, NULL, 5060, CFG_TP_TLS, 8, 0, 0, 0, 0};


/* --- dnsmasq --- */

static int dnsmasq_start(void)
{
	char conf[1100];

	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", tdir);
	snprintf(logpath, sizeof(logpath), "%s/dnsmasq.log", tdir);
	if (tdns_write(conf,
		       "no-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
		       "listen-address=" DNS_ADDR "\n"
		       "local=/test/\nlog-queries\nlocal-ttl=300\n"
		       "host-record=sip.prox.test,127.0.7.10,fd00:7::10\n"
		       "srv-host=_sips._tcp.srv.test,a1.srv.test,5061,10,0\n"
		       "srv-host=_sips._tcp.srv.test,a2.srv.test,5062,20,0\n"
		       "srv-host=_sip._udp.srv.test,u1.srv.test,5060,10,0\n"
		       "host-record=a1.srv.test,127.0.7.21\n"
		       "host-record=a2.srv.test,127.0.7.22,fd00:7::22\n"
		       "host-record=u1.srv.test,127.0.7.23\n"
		       "host-record=aonly.test,127.0.7.30\n"
		       "srv-host=_sips._tcp.sub.wild.test,w1.wild.test,"
		       "5063,0,0\n"
		       "host-record=w1.wild.test,127.0.7.40\n"
		       "cname=sip.cnprox.test,sip.prox.test\n"
		       "srv-host=_sips._tcp.cnsrv.test,t.cnsrv.test,"
		       "5064,0,0\n"
		       "cname=t.cnsrv.test,a2.srv.test\n"
		       "srv-host=_sips._tcp.zport.test,a1.srv.test,0,0,0\n"
		       "srv-host=_sips._tcp.zport.test,u1.srv.test,"
		       "5067,10,0\n"))
		return -1;

	return tdns_start(&dnsmasq, conf, logpath, DNS_PORT_S, "started, version");
}

static int suite_init(void)
{
	const char *d = cutest_tmpdir("cn_resolve");

	if (!d || libre_init())
		return -1;
	str_ncpy(tdir, d, sizeof(tdir));
	return dnsmasq_start();
}

static struct tdns stale_dns;

static int suite_clean(void)
{
	tdns_stop(&dnsmasq);
	tdns_stop(&stale_dns);
	libre_close();
	return 0;
}


/* --- running the loop --- */

static struct tmr guard;
static bool guard_fired;

static void guard_h(void *arg)
{
	(void)arg;
	guard_fired = true;
	re_cancel();
}

static void wait_for(const bool *done)
{
	guard_fired = false;
	tmr_start(&guard, WAIT_MS, guard_h, NULL);
	while (!*done && !guard_fired)
		re_main(NULL);
	tmr_cancel(&guard);
}

struct res {
	bool done;
	int err;
	int calls;
	struct cn_route *route;
};

static void route_h(int err, const struct cn_route *route, void *arg)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	r->calls++;
	r->route = mem_ref((void *)route);
	re_cancel();
}

static struct sst_dns *dns_new(void)
{
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.servers = servers;
	conf.serverc = 1;
	if (sst_dns_alloc(&dns, &conf))
		return NULL;
	return dns;
}

/* Blocking resolution for the tests; r->route is the caller's. */
static int resolve(struct cn_resolve *res, const struct cfg_extern *ex,
		   const char *domain, struct res *r)
{
	struct cn_resolve_req *req = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = cn_resolve_lookup(&req, res, ex, domain, route_h, r);
	if (err)
		return err;
	CU_ASSERT_FALSE(r->done);  /* never answered inside the call */
	wait_for(&r->done);
	mem_deref(req);
	CU_ASSERT_EQUAL(r->calls, 1);
	return r->done ? r->err : -1;
}

static void mark_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	bool *done = arg;

	(void)err;
	(void)ans;
	*done = true;
	re_cancel();
}

/* Ask dnsmasq for a fresh name and wait until its log shows it: every
 * query sent before it is in the log by then. */
static void log_sync(struct sst_dns *dns)
{
	char name[64], needle[100];
	struct sst_dns_req *req = NULL;
	bool done = false;

	snprintf(name, sizeof(name), "mark%u.test", ++marker_seq);
	snprintf(needle, sizeof(needle), "query[A] %s ", name);
	CU_ASSERT_EQUAL_FATAL(sst_dns_lookup(&req, dns, name, DNS_TYPE_A,
					     mark_h, &done), 0);
	wait_for(&done);
	mem_deref(req);
	CU_ASSERT_TRUE(tdns_log_wait(&dnsmasq, needle, 1));
}

/* Queries dnsmasq received, markers left out. */
static size_t queries(void)
{
	return tdns_log_count(&dnsmasq, "query[") - tdns_log_count(&dnsmasq, "query[A] mark");
}

static bool addr_is(const struct sockaddr_storage *ss, const char *ip,
		    uint16_t port)
{
	struct sa got, want;

	if (sa_set_sa(&got, (const struct sockaddr *)ss) ||
	    sa_set_str(&want, ip, port))
		return false;
	return sa_cmp(&got, &want, SA_ALL);
}

static bool trust_has(const struct cn_route *rt, const char *ip)
{
	size_t i;

	for (i = 0; i < rt->trustc; i++) {
		if (addr_is(&rt->trustv[i], ip, 0))
			return true;
	}
	return false;
}

/* A source address, as the transport layer would give it. */
static bool trusted(const struct cn_addrset *set, const char *ip)
{
	struct cn_facts f;
	struct cn_verdict v;
	struct sockaddr_storage ss;
	struct sa sa;

	if (sa_set_str(&sa, ip, 40000))
		return false;
	memset(&ss, 0, sizeof(ss));
	memcpy(&ss, &sa.u, sa.len);
	memset(&f, 0, sizeof(f));
	f.src = (const struct sockaddr *)&ss;
	f.tls = true;
	f.tls_name_ok = true;
	memset(&v, 0, sizeof(v));
	cn_decide_trust(&f, set, true, &v);
	return v.reason == CN_OK;
}


/* --- tests --- */

static void test_proxy(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	struct cn_addrset set;
	const struct cn_route *rt;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	/* nothing resolved yet: the hot path must not wait */
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_prox, "prox.test", &set),
			EAGAIN);

	CU_ASSERT_EQUAL(resolve(res, &ex_prox, "prox.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_PROXY);
	CU_ASSERT_STRING_EQUAL(rt->name, "sip.prox.test");
	CU_ASSERT_EQUAL_FATAL(rt->hopc, 2);
	CU_ASSERT_TRUE(addr_is(&rt->hopv[0].addr, "127.0.7.10", 5061));
	CU_ASSERT_TRUE(addr_is(&rt->hopv[1].addr, "fd00:7::10", 5061));
	CU_ASSERT_EQUAL(rt->hopv[0].tp, CFG_TP_TLS);
	CU_ASSERT_EQUAL(rt->hopv[1].tp, CFG_TP_TLS);
	CU_ASSERT_STRING_EQUAL(rt->hopv[0].tls_name, "sip.prox.test");
	CU_ASSERT_STRING_EQUAL(rt->hopv[1].tls_name, "sip.prox.test");
	CU_ASSERT_TRUE(rt->hopv[0].expires > cn_resolve_now() + 290000);
	CU_ASSERT_TRUE(rt->expires <= rt->made + 300000);

	CU_ASSERT_EQUAL(rt->trustc, 2);
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.10"));
	CU_ASSERT_TRUE(trust_has(rt, "fd00:7::10"));

	/* the synchronous accessor now answers, and the policy uses it */
	CU_ASSERT_EQUAL_FATAL(cn_resolve_trust(res, &ex_prox, "other.prox",
					       &set), 0);
	CU_ASSERT_EQUAL(set.n, 2);
	CU_ASSERT_TRUE(trusted(&set, "127.0.7.10"));
	CU_ASSERT_TRUE(trusted(&set, "fd00:7::10"));
	CU_ASSERT_FALSE(trusted(&set, "127.0.7.21"));

	mem_deref(r.route);
	mem_deref(res);
	mem_deref(dns);
}

static void test_srv_order_and_trust(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	const struct cn_route *rt;
	struct res r;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_srv, "srv.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_SRV);
	CU_ASSERT_STRING_EQUAL(rt->name, "_sips._tcp.srv.test");

	/* priority 10 first, then 20 with its IPv4 and IPv6 */
	CU_ASSERT_EQUAL_FATAL(rt->hopc, 3);
	CU_ASSERT_TRUE(addr_is(&rt->hopv[0].addr, "127.0.7.21", 5061));
	CU_ASSERT_STRING_EQUAL(rt->hopv[0].target, "a1.srv.test");
	CU_ASSERT_TRUE(addr_is(&rt->hopv[1].addr, "127.0.7.22", 5062));
	CU_ASSERT_TRUE(addr_is(&rt->hopv[2].addr, "fd00:7::22", 5062));
	for (i = 0; i < rt->hopc; i++) {
		CU_ASSERT_EQUAL(rt->hopv[i].tp, CFG_TP_TLS);
		/* RFC 5922: the certificate must prove the domain */
		CU_ASSERT_STRING_EQUAL(rt->hopv[i].tls_name, "srv.test");
		CU_ASSERT_FALSE(rt->hopv[i].down);
	}

	/* every target of every SRV name, v4 and v6 */
	CU_ASSERT_EQUAL(rt->trustc, 4);
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.21"));
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.22"));
	CU_ASSERT_TRUE(trust_has(rt, "fd00:7::22"));
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.23"));

	mem_deref(r.route);
	mem_deref(res);
	mem_deref(dns);
}

/* A proxy name or an SRV target behind a CNAME: the hops and the trust
 * set hold the addresses behind it, nothing without an address. */
static void test_cname(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	const struct cn_route *rt;
	struct res r;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_cnprox, "cnprox.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_PROXY);
	CU_ASSERT_EQUAL(rt->hopc, 2);
	for (i = 0; i < rt->hopc; i++)
		CU_ASSERT_NOT_EQUAL(rt->hopv[i].addr.ss_family, 0);
	CU_ASSERT_TRUE(rt->hopc == 2 &&
		       addr_is(&rt->hopv[0].addr, "127.0.7.10", 5061) &&
		       addr_is(&rt->hopv[1].addr, "fd00:7::10", 5061));
	CU_ASSERT_EQUAL(rt->trustc, 2);
	for (i = 0; i < rt->trustc; i++)
		CU_ASSERT_NOT_EQUAL(rt->trustv[i].ss_family, 0);
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.10"));
	mem_deref(r.route);

	CU_ASSERT_EQUAL(resolve(res, &ex_cnsrv, "cnsrv.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_SRV);
	CU_ASSERT_EQUAL(rt->hopc, 2);
	for (i = 0; i < rt->hopc; i++) {
		CU_ASSERT_NOT_EQUAL(rt->hopv[i].addr.ss_family, 0);
		CU_ASSERT_STRING_EQUAL(rt->hopv[i].target, "t.cnsrv.test");
	}
	CU_ASSERT_TRUE(rt->hopc == 2 &&
		       addr_is(&rt->hopv[0].addr, "127.0.7.22", 5064) &&
		       addr_is(&rt->hopv[1].addr, "fd00:7::22", 5064));
	CU_ASSERT_EQUAL(rt->trustc, 2);
	for (i = 0; i < rt->trustc; i++)
		CU_ASSERT_NOT_EQUAL(rt->trustv[i].ss_family, 0);
	mem_deref(r.route);

	mem_deref(res);
	mem_deref(dns);
}

/* An SRV record with port 0 gives no hop and no trust. */
static void test_srv_port0(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	const struct cn_route *rt;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_zport, "zport.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_SRV);
	CU_ASSERT_EQUAL(rt->hopc, 1);
	CU_ASSERT_TRUE(rt->hopc == 1 &&
		       addr_is(&rt->hopv[0].addr, "127.0.7.23", 5067));
	CU_ASSERT_EQUAL(rt->trustc, 1);
	CU_ASSERT_FALSE(trust_has(rt, "127.0.7.21"));

	mem_deref(r.route);
	mem_deref(res);
	mem_deref(dns);
}

static void test_a_only(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	const struct cn_route *rt;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_aonly, "aonly.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL(rt->src, CN_SRC_HOST);
	CU_ASSERT_EQUAL_FATAL(rt->hopc, 1);
	CU_ASSERT_TRUE(addr_is(&rt->hopv[0].addr, "127.0.7.30", 5070));
	CU_ASSERT_EQUAL(rt->hopv[0].tp, CFG_TP_TCP);
	CU_ASSERT_STRING_EQUAL(rt->hopv[0].tls_name, "aonly.test");
	CU_ASSERT_EQUAL(rt->trustc, 1);
	CU_ASSERT_TRUE(trust_has(rt, "127.0.7.30"));

	/* the three SRV names were asked before the A record */
	CU_ASSERT_TRUE(tdns_log_count(&dnsmasq, "query[SRV] _sips._tcp.aonly.test ") >= 1);
	CU_ASSERT_TRUE(tdns_log_count(&dnsmasq, "query[SRV] _sip._tcp.aonly.test ") >= 1);
	CU_ASSERT_TRUE(tdns_log_count(&dnsmasq, "query[SRV] _sip._udp.aonly.test ") >= 1);

	mem_deref(r.route);
	mem_deref(res);
	mem_deref(dns);
}

static void test_wildcard(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	struct cn_resolve_req *req = NULL;
	const struct cn_route *rt;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	/* the concrete domain of the request is resolved */
	CU_ASSERT_EQUAL(resolve(res, &ex_wild, "sub.wild.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_STRING_EQUAL(rt->name, "_sips._tcp.sub.wild.test");
	CU_ASSERT_EQUAL_FATAL(rt->hopc, 1);
	CU_ASSERT_TRUE(addr_is(&rt->hopv[0].addr, "127.0.7.40", 5063));
	CU_ASSERT_STRING_EQUAL(rt->hopv[0].tls_name, "sub.wild.test");
	mem_deref(r.route);

	/* a domain that is not the community's, or none, is refused */
	CU_ASSERT_EQUAL(cn_resolve_lookup(&req, res, &ex_wild, "wild.test",
					  route_h, &r), EINVAL);
	CU_ASSERT_EQUAL(cn_resolve_lookup(&req, res, &ex_wild, "x.other",
					  route_h, &r), EINVAL);
	CU_ASSERT_EQUAL(cn_resolve_lookup(&req, res, &ex_wild, NULL,
					  route_h, &r), EINVAL);
	CU_ASSERT_PTR_NULL(req);

	mem_deref(res);
	mem_deref(dns);
}

static void test_unresolvable(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	struct cn_addrset set;
	int last = 0;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_nowhere, "nowhere.test", &r),
			ENOENT);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.route);
	CU_ASSERT_EQUAL(r.route->err, ENOENT);
	CU_ASSERT_EQUAL(r.route->hopc, 0);
	CU_ASSERT_EQUAL(r.route->trustc, 0);

	/* the failure is remembered and shown; trust gives nothing */
	CU_ASSERT_PTR_EQUAL(cn_resolve_current(res, &ex_nowhere,
					       "nowhere.test", &last),
			    r.route);
	CU_ASSERT_EQUAL(last, ENOENT);
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_nowhere, "nowhere.test",
					 &set), ENOENT);

	mem_deref(r.route);
	mem_deref(res);
	mem_deref(dns);
}

static void test_fresh_no_query(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL, *res2 = NULL;
	struct cn_addrset set;
	struct res r, r2;
	size_t before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res2, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_srv, "srv.test", &r), 0);
	log_sync(dns);
	before = queries();
	CU_ASSERT_TRUE(before > 0);

	/* inside the TTL: the held route, delivered from the loop */
	CU_ASSERT_EQUAL(resolve(res, &ex_srv, "srv.test", &r2), 0);
	CU_ASSERT_PTR_EQUAL(r2.route, r.route);
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_srv, "srv.test", &set), 0);
	CU_ASSERT_EQUAL(set.n, 4);
	CU_ASSERT_EQUAL(cn_resolve_refresh(res, &ex_srv, "srv.test"), 0);
	mem_deref(r2.route);

	/* a second resolver on the same sst_dns: its cache answers */
	CU_ASSERT_EQUAL(resolve(res2, &ex_srv, "srv.test", &r2), 0);
	CU_ASSERT_PTR_NOT_NULL(r2.route);
	if (r2.route)
		CU_ASSERT_EQUAL(r2.route->hopc, 3);
	mem_deref(r2.route);

	log_sync(dns);
	CU_ASSERT_EQUAL(queries(), before);

	mem_deref(r.route);
	mem_deref(res2);
	mem_deref(res);
	mem_deref(dns);
}

static void test_mark_down(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL, *res2 = NULL;
	size_t idxv[CN_RESOLVE_HOPS_MAX], up = 0;
	const struct cn_route *rt;
	struct res r, r2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res2, dns), 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_srv, "srv.test", &r), 0);
	rt = r.route;
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	CU_ASSERT_EQUAL_FATAL(rt->hopc, 3);
	CU_ASSERT_STRING_EQUAL_FATAL(rt->hopv[0].target, "a1.srv.test");

	/* before: a1 first, all up */
	CU_ASSERT_EQUAL(cn_resolve_order(res, rt, idxv, &up), 0);
	CU_ASSERT_EQUAL(up, 3);
	CU_ASSERT_EQUAL(idxv[0], 0);

	/* the first hop fails: a1 is tried after a2's two addresses */
	cn_resolve_hop_failed(res, &rt->hopv[0], 0);
	CU_ASSERT_EQUAL(cn_resolve_order(res, rt, idxv, &up), 0);
	CU_ASSERT_EQUAL(up, 2);
	CU_ASSERT_STRING_EQUAL(rt->hopv[idxv[0]].target, "a2.srv.test");
	CU_ASSERT_STRING_EQUAL(rt->hopv[idxv[1]].target, "a2.srv.test");
	CU_ASSERT_STRING_EQUAL(rt->hopv[idxv[2]].target, "a1.srv.test");

	/* a route made now puts it last too, flagged */
	CU_ASSERT_EQUAL(resolve(res2, &ex_srv, "srv.test", &r2), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r2.route);
	CU_ASSERT_EQUAL_FATAL(r2.route->hopc, 3);
	CU_ASSERT_STRING_EQUAL(r2.route->hopv[0].target, "a2.srv.test");
	CU_ASSERT_FALSE(r2.route->hopv[0].down);
	CU_ASSERT_STRING_EQUAL(r2.route->hopv[2].target, "a1.srv.test");
	CU_ASSERT_TRUE(r2.route->hopv[2].down);
	/* the trust set does not shrink for a target that is down */
	CU_ASSERT_EQUAL(r2.route->trustc, 4);

	mem_deref(r2.route);
	mem_deref(r.route);
	mem_deref(res2);
	mem_deref(res);
	mem_deref(dns);
}

/* Dropping a request, or the resolver, before the answer: no handler. */
static void test_cancel(void)
{
	struct sst_dns *dns = dns_new();
	struct cn_resolve *res = NULL;
	struct cn_resolve_req *req = NULL, *req2 = NULL;
	struct res r, r2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);
	memset(&r, 0, sizeof(r));
	memset(&r2, 0, sizeof(r2));

	CU_ASSERT_EQUAL(cn_resolve_lookup(&req, res, &ex_aonly, "aonly.test",
					  route_h, &r), 0);
	CU_ASSERT_EQUAL(cn_resolve_lookup(&req2, res, &ex_aonly,
					  "aonly.test", route_h, &r2), 0);
	req = mem_deref(req);
	wait_for(&r2.done);
	CU_ASSERT_EQUAL(r2.calls, 1);
	CU_ASSERT_EQUAL(r.calls, 0);
	mem_deref(r2.route);
	mem_deref(req2);

	memset(&r, 0, sizeof(r));
	CU_ASSERT_EQUAL(cn_resolve_lookup(&req, res, &ex_prox, NULL,
					  route_h, &r), 0);
	res = mem_deref(res);
	log_sync(dns);
	CU_ASSERT_EQUAL(r.calls, 0);
	mem_deref(req);
	mem_deref(dns);
}

/* --- serve-stale --- */

/* The rule itself, on made-up times. */
static void test_stale_rule(void)
{
	struct cn_route rt;

	memset(&rt, 0, sizeof(rt));
	rt.hopc = 1;
	rt.expires = 10000;

	/* from the moment it expired, for the bound */
	CU_ASSERT_TRUE(cn_resolve_stale_usable(&rt, 0, 10001, 3600000));
	CU_ASSERT_TRUE(cn_resolve_stale_usable(&rt, 0, 3609999, 3600000));
	CU_ASSERT_FALSE(cn_resolve_stale_usable(&rt, 0, 3610000, 3600000));
	/* once stale, counted from when it went stale */
	CU_ASSERT_TRUE(cn_resolve_stale_usable(&rt, 20000, 3619999,
					       3600000));
	CU_ASSERT_FALSE(cn_resolve_stale_usable(&rt, 20000, 3620000,
						3600000));
	/* off, nothing held, or nothing worth serving */
	CU_ASSERT_FALSE(cn_resolve_stale_usable(&rt, 0, 10001, 0));
	CU_ASSERT_FALSE(cn_resolve_stale_usable(NULL, 0, 10001, 3600000));
	rt.hopc = 0;
	CU_ASSERT_FALSE(cn_resolve_stale_usable(&rt, 0, 10001, 3600000));
	rt.trustc = 1;
	CU_ASSERT_TRUE(cn_resolve_stale_usable(&rt, 0, 10001, 3600000));

	/* which failures are temporary: not the server's "no" */
	CU_ASSERT_TRUE(cn_resolve_temporary(ETIMEDOUT));
	CU_ASSERT_TRUE(cn_resolve_temporary(EAGAIN));
	CU_ASSERT_TRUE(cn_resolve_temporary(ECONNREFUSED));
	CU_ASSERT_TRUE(cn_resolve_temporary(EPROTO));
	CU_ASSERT_FALSE(cn_resolve_temporary(ENOENT));
	CU_ASSERT_FALSE(cn_resolve_temporary(ENODATA));
	CU_ASSERT_FALSE(cn_resolve_temporary(0));
}

static struct tdns stale_dns = {.pid = -1};

static int stale_dns_start(bool with_record)
{
	static unsigned starts;
	char conf[1100], log[1100];

	/* a log of its own per start: readiness is read from it */
	snprintf(conf, sizeof(conf), "%s/stale.conf", tdir);
	snprintf(log, sizeof(log), "%s/stale-%u.log", tdir, ++starts);
	if (tdns_write(conf, with_record ?
		       "no-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
		       "listen-address=" STALE_ADDR "\n"
		       "local=/test/\nlog-queries\nlocal-ttl=1\n"
		       "host-record=sip.stale.test,127.0.113.10\n" :
		       "no-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
		       "listen-address=" STALE_ADDR "\n"
		       "local=/test/\nlog-queries\nlocal-ttl=1\n"))
		return -1;
	return tdns_start(&stale_dns, conf, log, STALE_PORT_S,
			  "started, version");
}

static void tick_h(void *arg)
{
	(void)arg;
	re_cancel();
}

/* Run the loop until the route of ex has expired (its TTL is 1 s). */
static void until_expired(struct cn_resolve *res, const struct cfg_extern *ex)
{
	const struct cn_route *rt = cn_resolve_current(res, ex, NULL, NULL);
	struct tmr t;
	int n;

	tmr_init(&t);
	for (n = 0; rt && n < 300 && rt->expires > cn_resolve_now(); n++) {
		tmr_start(&t, 20, tick_h, NULL);
		re_main(NULL);
	}
	tmr_cancel(&t);
	CU_ASSERT_TRUE(!rt || rt->expires <= cn_resolve_now());
}

/* Run the loop until ex is no longer served stale (3 s at most). */
static void until_not_stale(struct cn_resolve *res,
			    const struct cfg_extern *ex)
{
	struct tmr t;
	int n;

	tmr_init(&t);
	for (n = 0; n < 150 && cn_resolve_stale_since(res, ex, NULL); n++) {
		tmr_start(&t, 20, tick_h, NULL);
		re_main(NULL);
	}
	tmr_cancel(&t);
}

static void test_serve_stale(void)
{
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;
	struct cn_resolve *res = NULL;
	struct cn_addrset set;
	struct sa want, got;
	struct res r;
	int err;

	CU_ASSERT_EQUAL_FATAL(stale_dns_start(true), 0);
	memset(&conf, 0, sizeof(conf));
	conf.servers = stale_servers;
	conf.serverc = 1;
	conf.timeout_ms = 300;
	CU_ASSERT_EQUAL_FATAL(sst_dns_alloc(&dns, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);
	cn_resolve_set_stale(res, 3600);
	CU_ASSERT_EQUAL_FATAL(sa_set_str(&want, "127.0.113.10", 0), 0);

	/* a working DNS: fresh, not stale */
	CU_ASSERT_EQUAL(resolve(res, &ex_stale, NULL, &r), 0);
	CU_ASSERT_EQUAL_FATAL(r.route ? r.route->hopc : 0, 1);
	CU_ASSERT_EQUAL(cn_resolve_stale_since(res, &ex_stale, NULL), 0);
	mem_deref(r.route);

	/* the server goes away and the answer expires: the old route
	 * keeps serving, and says since when */
	tdns_stop(&stale_dns);
	until_expired(res, &ex_stale);
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_stale, NULL, &set), EAGAIN);
	err = resolve(res, &ex_stale, NULL, &r);
	CU_ASSERT_EQUAL(err, 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.route);
	CU_ASSERT_EQUAL_FATAL(r.route->hopc, 1);
	CU_ASSERT_EQUAL(sa_set_sa(&got, (struct sockaddr *)
				  &r.route->hopv[0].addr), 0);
	CU_ASSERT_TRUE(sa_cmp(&got, &want, SA_ADDR));
	mem_deref(r.route);
	CU_ASSERT_NOT_EQUAL(cn_resolve_stale_since(res, &ex_stale, NULL), 0);
	CU_ASSERT_TRUE(cn_resolve_stale_since(res, &ex_stale, NULL) <=
		       cn_resolve_now());

	/* served stale: the trust set at once, no waiting */
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_stale, NULL, &set), 0);
	CU_ASSERT_EQUAL(set.n, 1);

	/* a community never resolved has nothing to serve: a temporary
	 * failure, which the proxy answers 503 */
	err = resolve(res, &ex_never, NULL, &r);
	CU_ASSERT_TRUE(cn_resolve_temporary(err));
	CU_ASSERT_EQUAL(r.route ? r.route->hopc : 0, 0);
	mem_deref(r.route);
	err = cn_resolve_trust(res, &ex_never, NULL, &set);
	CU_ASSERT_TRUE(err != 0 && err != EAGAIN &&
		       cn_resolve_temporary(err));

	/* the server is back and says the name is gone (NXDOMAIN): an
	 * authoritative answer ends serving stale */
	CU_ASSERT_EQUAL_FATAL(stale_dns_start(false), 0);
	CU_ASSERT_EQUAL(cn_resolve_refresh(res, &ex_stale, NULL), 0);
	until_not_stale(res, &ex_stale);
	CU_ASSERT_EQUAL(cn_resolve_stale_since(res, &ex_stale, NULL), 0);
	CU_ASSERT_EQUAL(cn_resolve_trust(res, &ex_stale, NULL, &set), ENOENT);
	tdns_stop(&stale_dns);

	mem_deref(res);
	mem_deref(dns);
}

/* With the bound at 0, an expired route is never served stale. */
static void test_stale_off(void)
{
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;
	struct cn_resolve *res = NULL;
	struct cn_addrset set;
	struct res r;
	int err;

	CU_ASSERT_EQUAL_FATAL(stale_dns_start(true), 0);
	memset(&conf, 0, sizeof(conf));
	conf.servers = stale_servers;
	conf.serverc = 1;
	conf.timeout_ms = 300;
	CU_ASSERT_EQUAL_FATAL(sst_dns_alloc(&dns, &conf), 0);
	CU_ASSERT_EQUAL_FATAL(cn_resolve_alloc(&res, dns), 0);
	cn_resolve_set_stale(res, 0);

	CU_ASSERT_EQUAL(resolve(res, &ex_stale, NULL, &r), 0);
	mem_deref(r.route);
	tdns_stop(&stale_dns);
	until_expired(res, &ex_stale);
	err = resolve(res, &ex_stale, NULL, &r);
	CU_ASSERT_TRUE(cn_resolve_temporary(err));
	CU_ASSERT_EQUAL(r.route ? r.route->hopc : 0, 0);
	mem_deref(r.route);
	CU_ASSERT_EQUAL(cn_resolve_stale_since(res, &ex_stale, NULL), 0);
	CU_ASSERT_TRUE(cn_resolve_temporary(cn_resolve_trust(
		res, &ex_stale, NULL, &set)));

	mem_deref(res);
	mem_deref(dns);
}

static CU_TestInfo resolve_tests[] = {
	{"proxy name: A and AAAA, trust", test_proxy},
	{"SRV order and every target trusted", test_srv_order_and_trust},
	{"A/AAAA when there is no SRV", test_a_only},
	{"names behind a CNAME: addresses only", test_cname},
	{"SRV record with port 0: no hop, no trust", test_srv_port0},
	{"wildcard community: the concrete domain", test_wildcard},
	{"unresolvable community", test_unresolvable},
	{"fresh route: no DNS query", test_fresh_no_query},
	{"marked-down target tried last", test_mark_down},
	{"cancel", test_cancel},
	{"serve-stale rule", test_stale_rule},
	{"serve-stale against a DNS that goes away", test_serve_stale},
	{"serve-stale off", test_stale_off},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cn_resolve", suite_init, suite_clean, NULL, NULL, resolve_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
