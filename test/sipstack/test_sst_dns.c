/*
 * test_sst_dns.c -- the resolver against a real dnsmasq on 127.0.3.53.
 *
 * dnsmasq is started by the suite, answers only for *.test from its own
 * config and hosts files, logs every query it receives (the tests count
 * them to prove what the cache saved), and is stopped by its PID.  Every
 * resolver names its server explicitly: nothing reaches the system
 * resolver.
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
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "lib/cutest.h"
#include "lib/tdns.h"

#define DNS_ADDR   "127.0.3.53"
#define DNS_PORT_S "15353"
#define DEAD_ADDR  "127.0.3.99"
#define DEAD_PORT  15354

enum { WAIT_MS = 8000, BIG_COUNT = 60 };

static char tdir[1024];
static char logpath[1100];
static char webhosts[1100];
static struct tdns dnsmasq = {.pid = -1};
static unsigned marker_seq;

static const char *const servers[] = {DNS_ADDR ":" DNS_PORT_S};


/* --- dnsmasq --- */

/* Wait until the log holds at least n lines with needle. */
static int dnsmasq_start(void)
{
	char conf[1100], bighosts[1100], text[4096], *p;
	int i, n;

	p = text;
	for (i = 0; i < BIG_COUNT; i++)
		p += sprintf(p, "127.0.3.%d big.test\n", 100 + i);

	snprintf(conf, sizeof(conf), "%s/dnsmasq.conf", tdir);
	snprintf(bighosts, sizeof(bighosts), "%s/big.hosts", tdir);
	snprintf(webhosts, sizeof(webhosts), "%s/web.hosts", tdir);
	snprintf(logpath, sizeof(logpath), "%s/dnsmasq.log", tdir);
	if (tdns_write(bighosts, text) ||
	    tdns_write(webhosts, "127.0.3.10 web.test\n"))
		return -1;

	n = snprintf(text, sizeof(text),
		     "no-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
		     "listen-address=" DNS_ADDR "\n"
		     "local=/test/\nlog-queries\nlocal-ttl=1\n"
		     "addn-hosts=%s\naddn-hosts=%s\n"
		     "host-record=a.test,127.0.3.30\n"
		     "host-record=co.test,127.0.3.31\n"
		     "host-record=dual.test,127.0.3.20,fd00::20\n"
		     "host-record=v6.test,fd00::21\n"
		     "host-record=heavy.test,127.0.3.21\n"
		     "host-record=light.test,127.0.3.22\n"
		     "host-record=backup.test,127.0.3.23\n"
		     "srv-host=_sip._tcp.w.test,heavy.test,5060,0,90\n"
		     "srv-host=_sip._tcp.w.test,light.test,5061,0,10\n"
		     "srv-host=_sip._tcp.w.test,backup.test,5062,1,0\n"
		     "srv-host=_sip._udp.none.test\n"
		     "naptr-record=n.test,10,20,S,SIPS+D2T,,"
		     "_sips._tcp.n.test\n",
		     bighosts, webhosts);
	if (n <= 0 || (size_t)n >= sizeof(text) || tdns_write(conf, text))
		return -1;

	return tdns_start(&dnsmasq, conf, logpath, DNS_PORT_S, "web.hosts");
}

static int suite_init(void)
{
	const char *d = cutest_tmpdir("sst_dns");

	if (!d || libre_init())
		return -1;
	str_ncpy(tdir, d, sizeof(tdir));
	return dnsmasq_start();
}

static int suite_clean(void)
{
	tdns_stop(&dnsmasq);
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

/* Run the loop until *done (handlers call re_cancel()) or WAIT_MS. */
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
	size_t recc;
	struct sst_dns_answer *ans;
	struct sa addrv[SST_DNS_ADDRS_MAX];
	size_t addrc;
	int calls;
};

static void res_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	r->calls++;
	r->recc = ans ? ans->recc : 0;
	r->ans = mem_ref((void *)ans);
	re_cancel();
}

static void addr_h(int err, const struct sa *addrv, size_t addrc, void *arg)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	r->calls++;
	r->addrc = addrc;
	if (addrc)
		memcpy(r->addrv, addrv, addrc * sizeof(*addrv));
	re_cancel();
}

static struct sst_dns *dns_new(unsigned timeout_ms)
{
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.servers = servers;
	conf.serverc = 1;
	conf.timeout_ms = timeout_ms;
	if (sst_dns_alloc(&dns, &conf))
		return NULL;
	return dns;
}

/* Blocking lookup for the tests. */
static int lookup(struct sst_dns *dns, const char *name, uint16_t type,
		  struct res *r)
{
	struct sst_dns_req *req = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = sst_dns_lookup(&req, dns, name, type, res_h, r);
	if (err)
		return err;
	CU_ASSERT_FALSE(r->done);  /* never answered inside the call */
	wait_for(&r->done);
	mem_deref(req);
	return r->done ? r->err : -1;
}

static int host(struct sst_dns *dns, const char *name, struct res *r)
{
	struct sst_dns_req *req = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = sst_dns_host(&req, dns, name, addr_h, r);
	if (err)
		return err;
	wait_for(&r->done);
	mem_deref(req);
	return r->done ? r->err : -1;
}

/* Ask dnsmasq for a fresh name and wait until its log shows it: every
 * query sent before it is in the log by then. */
static void log_sync(struct sst_dns *dns)
{
	char name[64], needle[100];
	struct res r;

	snprintf(name, sizeof(name), "mark%u.test", ++marker_seq);
	snprintf(needle, sizeof(needle), "query[A] %s ", name);
	CU_ASSERT_EQUAL(lookup(dns, name, DNS_TYPE_A, &r), ENOENT);
	mem_deref(r.ans);
	CU_ASSERT_TRUE(tdns_log_wait(&dnsmasq, needle, 1));
}

static bool addr_is(const struct sa *sa, const char *ip)
{
	struct sa want;

	if (sa_set_str(&want, ip, sa_port(sa)))
		return false;
	return sa_cmp(sa, &want, SA_ALL);
}


/* --- tests --- */

static void test_a_aaaa(void)
{
	struct sst_dns *dns = dns_new(0);
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_EQUAL(r.recc, 1);
	if (r.recc == 1) {
		CU_ASSERT_EQUAL(r.ans->recv[0].type, DNS_TYPE_A);
		CU_ASSERT_TRUE(addr_is(r.ans->recv[0].addr, "127.0.3.30"));
		CU_ASSERT_EQUAL(r.ans->recv[0].ttl, 1);
	}
	mem_deref(r.ans);

	CU_ASSERT_EQUAL(lookup(dns, "dual.test.", DNS_TYPE_AAAA, &r), 0);
	CU_ASSERT_EQUAL(r.recc, 1);
	if (r.recc == 1)
		CU_ASSERT_TRUE(addr_is(r.ans->recv[0].addr, "fd00::20"));
	mem_deref(r.ans);

	/* both families together, IPv4 first */
	CU_ASSERT_EQUAL(host(dns, "dual.test", &r), 0);
	CU_ASSERT_EQUAL(r.addrc, 2);
	if (r.addrc == 2) {
		CU_ASSERT_TRUE(addr_is(&r.addrv[0], "127.0.3.20"));
		CU_ASSERT_TRUE(addr_is(&r.addrv[1], "fd00::20"));
	}

	/* only AAAA, only A */
	CU_ASSERT_EQUAL(host(dns, "v6.test", &r), 0);
	CU_ASSERT_EQUAL(r.addrc, 1);
	CU_ASSERT_TRUE(r.addrc == 1 && addr_is(&r.addrv[0], "fd00::21"));
	CU_ASSERT_EQUAL(host(dns, "a.test", &r), 0);
	CU_ASSERT_EQUAL(r.addrc, 1);

	/* no such host */
	CU_ASSERT_EQUAL(host(dns, "nohost.test", &r), ENOENT);
	CU_ASSERT_EQUAL(r.addrc, 0);

	/* an IP literal is its own address, no query, still async */
	CU_ASSERT_EQUAL(host(dns, "127.0.3.77", &r), 0);
	CU_ASSERT_TRUE(r.addrc == 1 && addr_is(&r.addrv[0], "127.0.3.77"));
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "127.0.3.77"), 0);

	/* NAPTR */
	CU_ASSERT_EQUAL(lookup(dns, "n.test", DNS_TYPE_NAPTR, &r), 0);
	CU_ASSERT_EQUAL(r.recc, 1);
	if (r.recc == 1) {
		const struct sst_dns_rec *n = &r.ans->recv[0];

		CU_ASSERT_EQUAL(n->naptr.order, 10);
		CU_ASSERT_EQUAL(n->naptr.pref, 20);
		CU_ASSERT_STRING_EQUAL(n->naptr.services, "SIPS+D2T");
		CU_ASSERT_STRING_EQUAL(n->naptr.replace, "_sips._tcp.n.test");
	}
	mem_deref(r.ans);

	mem_deref(dns);
}

struct srvres {
	bool done;
	int err;
	size_t tgtc;
	struct sst_dns_target tgtv[SST_DNS_TARGETS_MAX];
	struct sa addrs[SST_DNS_TARGETS_MAX][SST_DNS_ADDRS_MAX];
};

static void srv_h(int err, const struct sst_dns_srvset *set, void *arg)
{
	struct srvres *r = arg;
	size_t i;

	r->done = true;
	r->err = err;
	r->tgtc = set ? set->tgtc : 0;
	for (i = 0; i < r->tgtc; i++) {
		r->tgtv[i] = set->tgtv[i];
		memcpy(r->addrs[i], set->tgtv[i].addrv,
		       set->tgtv[i].addrc * sizeof(struct sa));
		r->tgtv[i].addrv = r->addrs[i];
	}
	re_cancel();
}

static int srv(struct sst_dns *dns, const char *name, struct srvres *r)
{
	struct sst_dns_req *req = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = sst_dns_srv(&req, dns, name, srv_h, r);
	if (err)
		return err;
	wait_for(&r->done);
	mem_deref(req);
	return r->done ? r->err : -1;
}

static const struct sst_dns_target *tgt_find(const struct srvres *r,
					     const char *name)
{
	size_t i;

	for (i = 0; i < r->tgtc; i++) {
		if (!strcmp(r->tgtv[i].name, name))
			return &r->tgtv[i];
	}
	return NULL;
}

static void test_srv(void)
{
	struct sst_dns *dns = dns_new(0);
	const struct sst_dns_target *t;
	struct sst_dns_stats st;
	struct srvres sr;
	struct res r;
	size_t i, before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(lookup(dns, "_sip._tcp.w.test", DNS_TYPE_SRV, &r), 0);
	CU_ASSERT_EQUAL(r.recc, 3);
	for (i = 0; i < r.recc; i++) {
		const struct sst_dns_rec *rec = &r.ans->recv[i];

		CU_ASSERT_EQUAL(rec->type, DNS_TYPE_SRV);
		if (!strcmp(rec->srv.target, "heavy.test"))
			CU_ASSERT_TRUE(rec->srv.port == 5060 &&
				       rec->srv.weight == 90 &&
				       rec->srv.pri == 0);
		if (!strcmp(rec->srv.target, "backup.test"))
			CU_ASSERT_TRUE(rec->srv.port == 5062 &&
				       rec->srv.pri == 1);
	}
	mem_deref(r.ans);

	/* The targets lie outside w.test: the A records the additional
	 * section brings are not taken (RFC 2181 5.4.1), each target is
	 * asked for once (test_sst_dns_answer.c: targets inside). */
	before = tdns_log_count(&dnsmasq, "query[A] heavy.test");
	sst_dns_flush(dns);
	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.w.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 3);
	t = tgt_find(&sr, "heavy.test");
	CU_ASSERT_TRUE(t && t->port == 5060 && t->addrc == 1 &&
		       addr_is(&t->addrv[0], "127.0.3.21") &&
		       sa_port(&t->addrv[0]) == 5060);
	t = tgt_find(&sr, "light.test");
	CU_ASSERT_TRUE(t && t->port == 5061 && t->addrc == 1 &&
		       addr_is(&t->addrv[0], "127.0.3.22"));
	t = tgt_find(&sr, "backup.test");
	CU_ASSERT_TRUE(t && t->port == 5062 && t->addrc == 1);
	/* priority 1 comes after both priority 0 targets */
	CU_ASSERT_STRING_EQUAL(sr.tgtv[2].name, "backup.test");
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] heavy.test"),
			before + 1);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] light.test"), 1);
	sst_dns_stats(dns, &st);
	CU_ASSERT_TRUE(st.misses >= 4);

	/* "." target: the service is not offered */
	CU_ASSERT_EQUAL(srv(dns, "_sip._udp.none.test", &sr), ECONNREFUSED);
	CU_ASSERT_EQUAL(sr.tgtc, 0);
	/* no SRV at all */
	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.nothing.test", &sr), ENOENT);

	mem_deref(dns);
}

static void hosts_rewrite_reload(const char *text, size_t reads)
{
	CU_ASSERT_EQUAL(tdns_write(webhosts, text), 0);
	CU_ASSERT_EQUAL(kill(dnsmasq.pid, SIGHUP), 0);
	CU_ASSERT_TRUE(tdns_log_wait(&dnsmasq, "web.hosts - ", reads));
}

static void test_ttl(void)
{
	struct sst_dns *dns = dns_new(0);
	struct sst_dns_stats st0, st;
	struct res r;
	size_t q0, reads;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	q0 = tdns_log_count(&dnsmasq, "query[A] web.test ");
	reads = tdns_log_count(&dnsmasq, "web.hosts - ");

	CU_ASSERT_EQUAL(lookup(dns, "web.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_TRUE(r.recc == 1 &&
		       addr_is(r.ans->recv[0].addr, "127.0.3.10"));
	mem_deref(r.ans);
	sst_dns_stats(dns, &st0);

	/* within the 1 s TTL: from the cache, dnsmasq sees nothing */
	CU_ASSERT_EQUAL(lookup(dns, "WEB.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_TRUE(r.recc == 1 &&
		       addr_is(r.ans->recv[0].addr, "127.0.3.10"));
	mem_deref(r.ans);
	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.hits, st0.hits + 1);
	CU_ASSERT_EQUAL(st.queries, st0.queries);

	/* the record changes; dnsmasq rereads addn-hosts on SIGHUP */
	hosts_rewrite_reload("127.0.3.11 web.test\n", reads + 1);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] web.test "), q0 + 1);

	/* after the TTL: a new query, and the new address */
	usleep(1100 * 1000);
	CU_ASSERT_EQUAL(lookup(dns, "web.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_TRUE(r.recc == 1 &&
		       addr_is(r.ans->recv[0].addr, "127.0.3.11"));
	mem_deref(r.ans);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] web.test "), q0 + 2);

	hosts_rewrite_reload("127.0.3.10 web.test\n", reads + 2);
	mem_deref(dns);
}

static void test_negative(void)
{
	struct sst_dns *dns = dns_new(0);
	struct sst_dns_stats st;
	struct res r;
	size_t aaaa0 = tdns_log_count(&dnsmasq, "query[AAAA] a.test ");

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(lookup(dns, "nx.test", DNS_TYPE_A, &r), ENOENT);
	CU_ASSERT_PTR_NOT_NULL(r.ans);
	CU_ASSERT_TRUE(r.ans && r.ans->err == ENOENT && !r.ans->recc &&
		       r.ans->ttl == SST_DNS_NEG_TTL);  /* no SOA sent */
	mem_deref(r.ans);
	CU_ASSERT_EQUAL(lookup(dns, "nx.test", DNS_TYPE_A, &r), ENOENT);
	mem_deref(r.ans);

	/* NODATA: the name exists, no AAAA */
	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_AAAA, &r), ENODATA);
	mem_deref(r.ans);
	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_AAAA, &r), ENODATA);
	mem_deref(r.ans);

	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.neg_hits, 2);
	CU_ASSERT_EQUAL(st.queries, 2);

	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] nx.test "), 1);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[AAAA] a.test "), aaaa0 + 1);

	mem_deref(dns);
}

static void test_coalesce(void)
{
	struct sst_dns *dns = dns_new(0);
	struct sst_dns_req *q1 = NULL, *q2 = NULL, *q3 = NULL;
	struct sst_dns_stats st;
	struct res r1, r2, r3;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	memset(&r1, 0, sizeof(r1));
	memset(&r2, 0, sizeof(r2));
	memset(&r3, 0, sizeof(r3));

	CU_ASSERT_EQUAL(sst_dns_lookup(&q1, dns, "co.test", DNS_TYPE_A,
				       res_h, &r1), 0);
	CU_ASSERT_EQUAL(sst_dns_lookup(&q2, dns, "co.test", DNS_TYPE_A,
				       res_h, &r2), 0);
	/* dropped before its answer: its handler never runs */
	CU_ASSERT_EQUAL(sst_dns_lookup(&q3, dns, "co.test", DNS_TYPE_A,
				       res_h, &r3), 0);
	q3 = mem_deref(q3);

	wait_for(&r1.done);
	wait_for(&r2.done);
	CU_ASSERT_EQUAL(r1.err, 0);
	CU_ASSERT_EQUAL(r2.err, 0);
	CU_ASSERT_EQUAL(r1.recc, 1);
	CU_ASSERT_PTR_EQUAL(r1.ans, r2.ans);  /* one shared answer */
	CU_ASSERT_EQUAL(r1.calls, 1);
	CU_ASSERT_EQUAL(r3.calls, 0);

	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.queries, 1);
	CU_ASSERT_EQUAL(st.coalesced, 2);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] co.test "), 1);

	mem_deref(r1.ans);
	mem_deref(r2.ans);
	mem_deref(q1);
	mem_deref(q2);

	/* a resolver dropped with lookups in flight calls no handler */
	memset(&r1, 0, sizeof(r1));
	CU_ASSERT_EQUAL(sst_dns_lookup(&q1, dns, "late.test", DNS_TYPE_A,
				       res_h, &r1), 0);
	CU_ASSERT_EQUAL(sst_dns_lookup(&q2, dns, "a.test", DNS_TYPE_A,
				       res_h, &r1), 0);  /* cached */
	mem_deref(dns);
	dns = dns_new(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_A, &r2), 0);
	mem_deref(r2.ans);
	CU_ASSERT_EQUAL(r1.calls, 0);
	mem_deref(q1);
	mem_deref(q2);
	mem_deref(dns);
}

static void test_dead_server(void)
{
	static const char *const dead[] = {DEAD_ADDR ":15354"};
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;
	struct sst_dns_stats st;
	struct sockaddr_in sin;
	struct timespec t0, t1;
	struct res r;
	long ms;
	int fd;

	/* a server that receives and never answers */
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	CU_ASSERT_FATAL(fd >= 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(DEAD_PORT);
	inet_pton(AF_INET, DEAD_ADDR, &sin.sin_addr);
	CU_ASSERT_FATAL(bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);

	memset(&conf, 0, sizeof(conf));
	conf.servers = dead;
	conf.serverc = 1;
	conf.timeout_ms = 700;
	CU_ASSERT_EQUAL_FATAL(sst_dns_alloc(&dns, &conf), 0);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_A, &r), ETIMEDOUT);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 +
	     (t1.tv_nsec - t0.tv_nsec) / 1000000;
	/* our deadline, not libre's 71 s of retries */
	CU_ASSERT_TRUE(ms >= 650);
	CU_ASSERT_TRUE(ms < WAIT_MS);
	CU_ASSERT_PTR_NULL(r.ans);

	/* timeouts are not cached: the next lookup asks again */
	CU_ASSERT_EQUAL(host(dns, "a.test", &r), ETIMEDOUT);
	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.timeouts, 3);
	CU_ASSERT_EQUAL(st.queries, 3);
	CU_ASSERT_EQUAL(st.pending, 0);

	mem_deref(dns);
	close(fd);
}

static void test_truncated(void)
{
	struct sst_dns *dns = dns_new(0);
	struct sst_dns_stats st;
	bool seen[BIG_COUNT];
	struct res r;
	size_t i, distinct = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	memset(seen, 0, sizeof(seen));

	CU_ASSERT_EQUAL(lookup(dns, "big.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_EQUAL(r.recc, BIG_COUNT);
	for (i = 0; r.ans && i < r.recc; i++) {
		uint32_t a = sa_in(r.ans->recv[i].addr);
		uint32_t base = 0x7f000364;  /* 127.0.3.100 */

		if (a >= base && a < base + BIG_COUNT && !seen[a - base]) {
			seen[a - base] = true;
			distinct++;
		}
	}
	CU_ASSERT_EQUAL(distinct, BIG_COUNT);
	mem_deref(r.ans);

	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.trunc_retries, 1);
	CU_ASSERT_EQUAL(st.queries, 2);  /* UDP, then TCP */

	mem_deref(dns);
}

static void test_weighted(void)
{
	struct sst_dns *dns = dns_new(0);
	size_t idxv[SST_DNS_TARGETS_MAX], upc = 0;
	struct srvres sr;
	size_t i, j, heavy_first = 0, bad = 0;
	size_t heavy = 9, light = 9, backup = 9;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	CU_ASSERT_EQUAL_FATAL(srv(dns, "_sip._tcp.w.test", &sr), 0);
	CU_ASSERT_EQUAL_FATAL(sr.tgtc, 3);
	for (i = 0; i < sr.tgtc; i++) {
		if (!strcmp(sr.tgtv[i].name, "heavy.test"))
			heavy = i;
		if (!strcmp(sr.tgtv[i].name, "light.test"))
			light = i;
		if (!strcmp(sr.tgtv[i].name, "backup.test"))
			backup = i;
	}
	CU_ASSERT_FATAL(heavy < 3 && light < 3 && backup < 3);

	for (i = 0; i < 1000; i++) {
		bool used[3] = {false, false, false};

		CU_ASSERT_EQUAL(sst_dns_srv_order(dns, sr.tgtv, sr.tgtc,
						  idxv, &upc), 0);
		if (idxv[0] == heavy)
			heavy_first++;
		/* priority is always respected: backup (pri 1) last */
		if (idxv[2] != backup || upc != 3)
			bad++;
		for (j = 0; j < 3; j++)
			used[idxv[j] % 3] = true;
		if (!used[0] || !used[1] || !used[2])
			bad++;
	}
	/* 90/10 weights: expected 900 (sd ~9.5); the bound never flakes */
	CU_ASSERT_TRUE(heavy_first >= 800 && heavy_first <= 970);
	CU_ASSERT_EQUAL(bad, 0);

	/* heavy fails: it goes to the end, the others keep their order and
	 * still resolve */
	sst_dns_mark_down(dns, "heavy.test", 5060, 0);
	CU_ASSERT_TRUE(sst_dns_is_down(dns, "heavy.test", 5060));
	CU_ASSERT_FALSE(sst_dns_is_down(dns, "heavy.test", 5070));
	CU_ASSERT_FALSE(sst_dns_is_down(dns, "light.test", 5061));
	bad = 0;
	for (i = 0; i < 200; i++) {
		CU_ASSERT_EQUAL(sst_dns_srv_order(dns, sr.tgtv, sr.tgtc,
						  idxv, &upc), 0);
		if (upc != 2 || idxv[0] != light || idxv[1] != backup ||
		    idxv[2] != heavy)
			bad++;
	}
	CU_ASSERT_EQUAL(bad, 0);

	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.w.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 3);
	CU_ASSERT_STRING_EQUAL(sr.tgtv[0].name, "light.test");
	CU_ASSERT_STRING_EQUAL(sr.tgtv[2].name, "heavy.test");
	/* marked down is about connecting, not DNS: it still resolves */
	CU_ASSERT_EQUAL(sr.tgtv[2].addrc, 1);

	/* a mark expires */
	sst_dns_mark_down(dns, "light.test", 5061, 50);
	usleep(80 * 1000);
	CU_ASSERT_FALSE(sst_dns_is_down(dns, "light.test", 5061));

	/* back up: heavy can lead again */
	sst_dns_mark_up(dns, "heavy.test", 5060);
	heavy_first = 0;
	for (i = 0; i < 200; i++) {
		sst_dns_srv_order(dns, sr.tgtv, sr.tgtc, idxv, &upc);
		if (sr.tgtv[idxv[0]].port == 5060)
			heavy_first++;
	}
	CU_ASSERT_TRUE(heavy_first > 100);

	mem_deref(dns);
}

static void test_bounds(void)
{
	struct sst_dns_conf conf;
	struct sst_dns *dns = NULL;
	struct sst_dns_stats st;
	struct res r;
	char *text = NULL;

	memset(&conf, 0, sizeof(conf));
	conf.servers = servers;
	conf.serverc = 1;
	conf.cache_max = 2;
	CU_ASSERT_EQUAL_FATAL(sst_dns_alloc(&dns, &conf), 0);

	CU_ASSERT_EQUAL(lookup(dns, "a.test", DNS_TYPE_A, &r), 0);
	mem_deref(r.ans);
	CU_ASSERT_EQUAL(lookup(dns, "co.test", DNS_TYPE_A, &r), 0);
	mem_deref(r.ans);
	CU_ASSERT_EQUAL(lookup(dns, "dual.test", DNS_TYPE_A, &r), 0);
	mem_deref(r.ans);
	sst_dns_stats(dns, &st);
	CU_ASSERT_EQUAL(st.entries, 2);
	CU_ASSERT_EQUAL(st.evictions, 1);
	CU_ASSERT_EQUAL(st.misses, 3);

	CU_ASSERT_EQUAL(re_sdprintf(&text, "%H", sst_dns_debug, dns), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text ? text : "", "queries=3 "));
	CU_ASSERT_PTR_NOT_NULL(strstr(text ? text : "",
				      "servers=" DNS_ADDR ":" DNS_PORT_S " "));
	mem_deref(text);
	mem_deref(dns);
}

static void test_bad_input(void)
{
	static const struct {
		const char *s;
		int err;
	} sv[] = {
		{"127.0.3.53", 0}, {"127.0.3.53:15353", 0}, {"::1", 0},
		{"[::1]", 0}, {"[::1]:5353", 0}, {"", EINVAL},
		{"abc", EINVAL}, {"127.0.3.53:99999", EINVAL},
		{"127.0.3.53:0", EINVAL}, {"[127.0.3.53]:53", EINVAL},
		{"127.0.3.53:", EINVAL}, {"[::1", EINVAL},
	};
	static const char *const names[] = {
		"", ".", "a..b", "a b.test", "-\x01.test", ".a.test",
	};
	static const char *const badsrv[] = {"not-an-address"};
	struct sst_dns_conf conf;
	struct sst_dns_req *req = NULL;
	struct sst_dns *dns;
	char longname[300], longlabel[80];
	struct sa sa;
	struct res r;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sv); i++) {
		int err = sst_dns_server_parse(&sa, sv[i].s);

		if (err != sv[i].err)
			fprintf(stderr, "server '%s': %d\n", sv[i].s, err);
		CU_ASSERT_EQUAL(err, sv[i].err);
	}
	CU_ASSERT_EQUAL(sst_dns_server_parse(&sa, "127.0.3.53"), 0);
	CU_ASSERT_EQUAL(sa_port(&sa), 53);

	memset(&conf, 0, sizeof(conf));
	conf.servers = badsrv;
	conf.serverc = 1;
	dns = NULL;
	CU_ASSERT_EQUAL(sst_dns_alloc(&dns, &conf), EINVAL);
	CU_ASSERT_PTR_NULL(dns);
	conf.serverc = SST_DNS_SERVERS_MAX + 1;
	CU_ASSERT_EQUAL(sst_dns_alloc(&dns, &conf), EINVAL);

	dns = dns_new(0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);
	memset(&r, 0, sizeof(r));

	for (i = 0; i < ARRAY_SIZE(names); i++)
		CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, names[i],
					       DNS_TYPE_A, res_h, &r), EINVAL);

	memset(longlabel, 'a', 63);
	longlabel[63] = '\0';
	/* 63*3 + 57 + 3 dots + ".test": 254 characters, one too many */
	snprintf(longname, sizeof(longname), "%.63s.%.63s.%.63s.%.57s.test",
		 longlabel, longlabel, longlabel, longlabel);
	CU_ASSERT_EQUAL(strlen(longname), 254);
	CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, longname, DNS_TYPE_A,
				       res_h, &r), EINVAL);
	snprintf(longname, sizeof(longname), "%.63s.%.63s.%.63s.%.56s.test",
		 longlabel, longlabel, longlabel, longlabel);
	CU_ASSERT_EQUAL(strlen(longname), 253);  /* allowed */
	CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, longname, DNS_TYPE_A,
				       res_h, &r), 0);
	wait_for(&r.done);
	if (r.err != ENOENT)
		fprintf(stderr, "253-character name: %s\n",
			strerror(r.err));
	CU_ASSERT_EQUAL(r.err, ENOENT);
	mem_deref(r.ans);
	req = mem_deref(req);
	memset(&r, 0, sizeof(r));

	/* outside the server's zones: REFUSED, not cached */
	CU_ASSERT_EQUAL(lookup(dns, "example.invalid", DNS_TYPE_A, &r),
			ECONNREFUSED);
	CU_ASSERT_EQUAL(lookup(dns, "example.invalid", DNS_TYPE_A, &r),
			ECONNREFUSED);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&dnsmasq, "query[A] example.invalid "), 2);
	memset(&r, 0, sizeof(r));

	memset(longlabel, 'b', sizeof(longlabel));
	strcpy(longlabel + 64, ".test");
	CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, longlabel, DNS_TYPE_A,
				       res_h, &r), EINVAL);

	CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, "a.test", DNS_TYPE_MX,
				       res_h, &r), EINVAL);
	CU_ASSERT_EQUAL(sst_dns_lookup(NULL, dns, "a.test", DNS_TYPE_A,
				       res_h, &r), EINVAL);
	CU_ASSERT_EQUAL(sst_dns_lookup(&req, dns, NULL, DNS_TYPE_A,
				       res_h, &r), EINVAL);
	CU_ASSERT_EQUAL(sst_dns_host(&req, dns, "", addr_h, &r), EINVAL);
	CU_ASSERT_EQUAL(sst_dns_srv(&req, dns, "a..b", NULL, &r), EINVAL);
	CU_ASSERT_EQUAL(sst_dns_srv_order(dns, NULL, 1, NULL, NULL), EINVAL);
	CU_ASSERT_PTR_NULL(req);
	CU_ASSERT_EQUAL(r.calls, 0);

	mem_deref(dns);
}

static CU_TestInfo dns_tests[] = {
	{"A, AAAA, both, literal, NAPTR", test_a_aaaa},
	{"SRV targets, ports, additional section", test_srv},
	{"TTL: cached within, asked again after", test_ttl},
	{"NXDOMAIN and NODATA cached", test_negative},
	{"identical lookups coalesced, cancel", test_coalesce},
	{"dead server: ETIMEDOUT by the deadline", test_dead_server},
	{"truncated answer retried over TCP", test_truncated},
	{"RFC 2782 weights, priority, down marks", test_weighted},
	{"cache size bound, status line", test_bounds},
	{"bad names, servers, arguments", test_bad_input},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_dns", suite_init, suite_clean, NULL, NULL, dns_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
