/*
 * test_sst_dns_answer.c -- what the resolver takes from an answer:
 * CNAME chains, SRV answers that hold only a CNAME, and which
 * additional records it trusts.  Two real dnsmasq servers: the near one
 * on 127.0.116.53 answers *.test and forwards elsewhere.test to the far
 * one on 127.0.116.54, so a CNAME into elsewhere.test reaches the
 * resolver without its target's records.  Both log every query they
 * receive; the tests count them.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_dns.h"
#include "lib/cutest.h"
#include "lib/tdns.h"

#define NEAR_ADDR  "127.0.116.53"
#define FAR_ADDR   "127.0.116.54"
#define DNS_PORT_S "16353"

enum { WAIT_MS = 8000 };

static char tdir[1024];
static struct tdns near_dns = {.pid = -1};
static struct tdns far_dns = {.pid = -1};
static unsigned marker_seq;

static const char *const servers[] = {NEAR_ADDR ":" DNS_PORT_S};

static int server_start(struct tdns *d, const char *tag, const char *body)
{
	char conf[1100], hosts[1100], logp[1100], text[4096], ready[64];
	int n;

	snprintf(conf, sizeof(conf), "%s/%s.conf", tdir, tag);
	snprintf(hosts, sizeof(hosts), "%s/%s.hosts", tdir, tag);
	snprintf(logp, sizeof(logp), "%s/%s.log", tdir, tag);
	snprintf(ready, sizeof(ready), "%s.hosts", tag);
	if (tdns_write(hosts, "\n"))
		return -1;

	n = snprintf(text, sizeof(text),
		     "no-resolv\nno-hosts\nno-poll\nbind-interfaces\n"
		     "log-queries\nlocal-ttl=1\naddn-hosts=%s\n%s",
		     hosts, body);
	if (n <= 0 || (size_t)n >= sizeof(text) || tdns_write(conf, text))
		return -1;

	return tdns_start(d, conf, logp, DNS_PORT_S, ready);
}

static int suite_init(void)
{
	const char *d = cutest_tmpdir("sst_dns_answer");

	if (!d || libre_init())
		return -1;
	str_ncpy(tdir, d, sizeof(tdir));

	if (server_start(&far_dns, "far",
			 "listen-address=" FAR_ADDR "\n"
			 "local=/elsewhere.test/\n"
			 "host-record=host.elsewhere.test,127.0.116.40\n"
			 "srv-host=_sip._tcp.svc.elsewhere.test,"
			 "a.test,5080,0,10\n"))
		return -1;

	return server_start(&near_dns, "near",
			    "listen-address=" NEAR_ADDR "\n"
			    "server=/elsewhere.test/" FAR_ADDR "#"
			    DNS_PORT_S "\n"
			    "local=/test/\n"
			    "host-record=a.test,127.0.116.30\n"
			    "host-record=sip.inz.test,127.0.116.31\n"
			    "host-record=sip.other.test,127.0.116.32\n"
			    "cname=alias.test,a.test\n"
			    "cname=alias2.test,alias.test\n"
			    "cname=far.test,host.elsewhere.test\n"
			    "cname=nowhere.test,gone.elsewhere.test\n"
			    "cname=_sip._tcp.only.test,"
			    "_sip._tcp.gone.elsewhere.test\n"
			    "cname=_sip._tcp.hop.test,"
			    "_sip._tcp.svc.elsewhere.test\n"
			    "srv-host=_sip._tcp.inz.test,sip.inz.test,"
			    "5060,0,10\n"
			    "srv-host=_sip._tcp.out.test,sip.other.test,"
			    "5060,0,10\n"
			    "srv-host=_sip._tcp.cn.test,alias.test,"
			    "5070,0,10\n"
			    "srv-host=_sip._tcp.zp.test,a.test,0,0,10\n"
			    "srv-host=_sip._tcp.zp.test,a.test,5066,1,10\n"
			    "srv-host=_sip._tcp.z0.test,a.test,0,0,10\n");
}

static int suite_clean(void)
{
	tdns_stop(&near_dns);
	tdns_stop(&far_dns);
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
	struct sst_dns_answer *ans;
};

static void res_h(int err, const struct sst_dns_answer *ans, void *arg)
{
	struct res *r = arg;

	r->done = true;
	r->err = err;
	r->ans = mem_ref((void *)ans);
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

static int lookup(struct sst_dns *dns, const char *name, uint16_t type,
		  struct res *r)
{
	struct sst_dns_req *req = NULL;
	int err;

	memset(r, 0, sizeof(*r));
	err = sst_dns_lookup(&req, dns, name, type, res_h, r);
	if (err)
		return err;
	wait_for(&r->done);
	mem_deref(req);
	return r->done ? r->err : -1;
}

struct srvres {
	bool done;
	int err;
	size_t tgtc;
	struct sst_dns_target tgt;  /* the first */
	struct sa addr;             /* its first address */
};

static void srv_h(int err, const struct sst_dns_srvset *set, void *arg)
{
	struct srvres *r = arg;

	r->done = true;
	r->err = err;
	r->tgtc = set ? set->tgtc : 0;
	if (r->tgtc) {
		r->tgt = set->tgtv[0];
		if (r->tgt.addrc)
			r->addr = set->tgtv[0].addrv[0];
		r->tgt.addrv = NULL;
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

/* Every query sent before this one is in the near server's log. */
static void log_sync(struct sst_dns *dns)
{
	char name[64], needle[100];
	struct res r;

	snprintf(name, sizeof(name), "mark%u.test", ++marker_seq);
	snprintf(needle, sizeof(needle), "query[A] %s ", name);
	CU_ASSERT_EQUAL(lookup(dns, name, DNS_TYPE_A, &r), ENOENT);
	mem_deref(r.ans);
	CU_ASSERT_TRUE(tdns_log_wait(&near_dns, needle, 1));
}

static bool addr_is(const struct sa *sa, const char *ip)
{
	struct sa want;

	if (sa_set_str(&want, ip, sa_port(sa)))
		return false;
	return sa_cmp(sa, &want, SA_ALL);
}

/* Every record is of the type asked, and addresses have a family. */
static void assert_only(const struct sst_dns_answer *ans, uint16_t type)
{
	size_t i;

	for (i = 0; ans && i < ans->recc; i++) {
		CU_ASSERT_EQUAL(ans->recv[i].type, type);
		if (type == DNS_TYPE_A || type == DNS_TYPE_AAAA) {
			CU_ASSERT_PTR_NOT_NULL(ans->recv[i].addr);
			CU_ASSERT_TRUE(ans->recv[i].addr &&
				       sa_af(ans->recv[i].addr) != 0);
		}
		else {
			CU_ASSERT_PTR_NULL(ans->recv[i].addr);
		}
	}
}


/* --- tests --- */

/* A name behind CNAMEs is answered with its target's address, and the
 * answer holds that address only (no CNAME record with no address). */
static void test_cname_chain(void)
{
	struct sst_dns *dns = dns_new();
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(lookup(dns, "alias2.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_EQUAL(r.ans ? r.ans->recc : 0, 1);
	assert_only(r.ans, DNS_TYPE_A);
	if (r.ans && r.ans->recc == 1)
		CU_ASSERT_TRUE(addr_is(r.ans->recv[0].addr, "127.0.116.30"));
	mem_deref(r.ans);

	/* the answer ends with the CNAME: its target is asked for */
	CU_ASSERT_EQUAL(lookup(dns, "far.test", DNS_TYPE_A, &r), 0);
	CU_ASSERT_EQUAL(r.ans ? r.ans->recc : 0, 1);
	assert_only(r.ans, DNS_TYPE_A);
	if (r.ans && r.ans->recc == 1)
		CU_ASSERT_TRUE(addr_is(r.ans->recv[0].addr, "127.0.116.40"));
	mem_deref(r.ans);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&near_dns,
				       "query[A] host.elsewhere.test "), 1);

	/* cached under the name asked: no second query */
	CU_ASSERT_EQUAL(lookup(dns, "far.test", DNS_TYPE_A, &r), 0);
	mem_deref(r.ans);
	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&near_dns, "query[A] far.test "), 1);

	/* a CNAME to a name that does not exist */
	CU_ASSERT_EQUAL(lookup(dns, "nowhere.test", DNS_TYPE_A, &r), ENOENT);
	CU_ASSERT_EQUAL(r.ans ? r.ans->recc : 0, 0);
	mem_deref(r.ans);

	mem_deref(dns);
}

/* An SRV answer that holds nothing but a CNAME. */
static void test_srv_cname(void)
{
	struct sst_dns *dns = dns_new();
	struct srvres sr;
	struct res r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	/* the CNAME's target has no SRV records */
	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.only.test", &sr), ENOENT);
	CU_ASSERT_EQUAL(sr.tgtc, 0);
	CU_ASSERT_EQUAL(lookup(dns, "_sip._tcp.only.test", DNS_TYPE_SRV, &r),
			ENOENT);
	mem_deref(r.ans);

	/* the CNAME's target has them, from another server */
	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.hop.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 1);
	CU_ASSERT_STRING_EQUAL(sr.tgt.name, "a.test");
	CU_ASSERT_EQUAL(sr.tgt.port, 5080);
	CU_ASSERT_EQUAL(sr.tgt.addrc, 1);
	CU_ASSERT_TRUE(addr_is(&sr.addr, "127.0.116.30"));
	CU_ASSERT_EQUAL(sa_port(&sr.addr), 5080);

	CU_ASSERT_EQUAL(lookup(dns, "_sip._tcp.hop.test", DNS_TYPE_SRV, &r),
			0);
	CU_ASSERT_EQUAL(r.ans ? r.ans->recc : 0, 1);
	assert_only(r.ans, DNS_TYPE_SRV);
	mem_deref(r.ans);

	/* an SRV target that is a CNAME resolves to the address behind */
	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.cn.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 1);
	CU_ASSERT_EQUAL(sr.tgt.addrc, 1);
	CU_ASSERT_TRUE(addr_is(&sr.addr, "127.0.116.30"));
	CU_ASSERT_EQUAL(sa_port(&sr.addr), 5070);

	mem_deref(dns);
}

/* Additional records are taken for targets inside the SRV name's own
 * domain only; a target in another domain is asked for. */
static void test_bailiwick(void)
{
	struct sst_dns *dns = dns_new();
	struct srvres sr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.inz.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 1);
	CU_ASSERT_TRUE(sr.tgt.addrc == 1 &&
		       addr_is(&sr.addr, "127.0.116.31"));

	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.out.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 1);
	CU_ASSERT_TRUE(sr.tgt.addrc == 1 &&
		       addr_is(&sr.addr, "127.0.116.32"));

	log_sync(dns);
	CU_ASSERT_EQUAL(tdns_log_count(&near_dns, "query[A] sip.inz.test "),
			0);
	CU_ASSERT_EQUAL(tdns_log_count(&near_dns,
				       "query[A] sip.other.test "), 1);

	mem_deref(dns);
}

/* An SRV record with port 0 names no reachable service: left out. */
static void test_srv_port0(void)
{
	struct sst_dns *dns = dns_new();
	struct srvres sr;

	CU_ASSERT_PTR_NOT_NULL_FATAL(dns);

	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.zp.test", &sr), 0);
	CU_ASSERT_EQUAL(sr.tgtc, 1);
	CU_ASSERT_EQUAL(sr.tgt.port, 5066);
	CU_ASSERT_TRUE(sr.tgt.addrc == 1 && sa_port(&sr.addr) == 5066);

	CU_ASSERT_EQUAL(srv(dns, "_sip._tcp.z0.test", &sr), ENODATA);
	CU_ASSERT_EQUAL(sr.tgtc, 0);

	mem_deref(dns);
}

static CU_TestInfo answer_tests[] = {
	{"CNAME chains followed, asked again", test_cname_chain},
	{"SRV answer holding only a CNAME", test_srv_cname},
	{"additional records inside the SRV domain only", test_bailiwick},
	{"SRV records with port 0 left out", test_srv_port0},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_dns_answer", suite_init, suite_clean, NULL, NULL, answer_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
