/*
 * test_gw_reg.c -- the registration table: bindings added, refreshed,
 * refused out of order, removed one by one or all at once, expired by the
 * caller's clock, and many users side by side; the AORs listed, and
 * reported when their last binding expired.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "gateway/gw_reg.h"
#include "lib/cutest.h"

static const char alice[] = "sip:asmith@acme.test";
static struct gw_reg *reg;

static int setup(void)
{
	return gw_reg_alloc(&reg, 0);
}

static int teardown(void)
{
	reg = mem_deref(reg);
	return 0;
}

/* A flow object as the transport layer would pass it; counts its frees. */
static unsigned flows_freed;

static void flow_destructor(void *arg)
{
	(void)arg;
	flows_freed++;
}

static void *flow_new(void)
{
	return mem_zalloc(8, flow_destructor);
}

struct seen {
	char uri[8][GW_REG_URI_MAX + 1];
	uint64_t expires[8];
	void *flow[8];
	unsigned n;
};

static bool collect(const struct gw_binding *b, void *arg)
{
	struct seen *s = arg;

	if (s->n < 8) {
		str_ncpy(s->uri[s->n], b->uri, sizeof(s->uri[0]));
		s->expires[s->n] = b->expires;
		s->flow[s->n] = b->flow;
	}
	s->n++;
	return false;
}

static struct seen contacts(const char *aor, uint64_t now)
{
	struct seen s;

	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(gw_reg_contacts(reg, aor, now, collect, &s), s.n);
	return s;
}

static struct gw_reg_stats stats(void)
{
	struct gw_reg_stats st;

	gw_reg_stats_get(reg, &st);
	return st;
}

static void test_add_refresh(void)
{
	struct gw_reg_contact c1 = {"sip:asmith@127.0.8.1:5060", 3600, NULL, 0};
	struct gw_reg_contact c2 = {"sip:asmith@127.0.8.1:5062;transport=tcp",
				    600, NULL, 0};
	void *f1 = flow_new(), *f2 = flow_new();
	struct seen s;

	CU_ASSERT_FALSE(gw_reg_registered(reg, alice, 100));
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c1, 1, "cid-1", 1, f1, 100), 0);
	CU_ASSERT_TRUE(gw_reg_registered(reg, alice, 100));
	CU_ASSERT_FALSE(gw_reg_registered(reg, "sip:bob@acme.test", 100));
	/* AORs compare byte for byte: the caller canonicalises */
	CU_ASSERT_FALSE(gw_reg_registered(reg, "sip:ASMITH@acme.test", 100));

	/* a second client of the same user */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c2, 1, "cid-2", 7, f2, 110), 0);
	s = contacts(alice, 110);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.uri[0], c1.uri);
	CU_ASSERT_EQUAL(s.expires[0], 3700);
	CU_ASSERT_PTR_EQUAL(s.flow[0], f1);
	CU_ASSERT_STRING_EQUAL(s.uri[1], c2.uri);
	CU_ASSERT_EQUAL(s.expires[1], 710);

	/* refresh the first, same Call-ID, higher CSeq, new flow */
	c1.expires = 1800;
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c1, 1, "cid-1", 2, f2, 200), 0);
	s = contacts(alice, 200);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_EQUAL(s.expires[0], 2000);
	CU_ASSERT_PTR_EQUAL(s.flow[0], f2);

	/* the table holds its own references on flows */
	flows_freed = 0;
	mem_deref(f1);    /* no binding holds f1 any more */
	CU_ASSERT_EQUAL(flows_freed, 1);
	mem_deref(f2);    /* both bindings still hold f2 */
	CU_ASSERT_EQUAL(flows_freed, 1);

	CU_ASSERT_EQUAL(stats().aors, 1);
	CU_ASSERT_EQUAL(stats().bindings, 2);
	CU_ASSERT_EQUAL(stats().added, 2);
	CU_ASSERT_EQUAL(stats().refreshed, 1);

	teardown();
	CU_ASSERT_EQUAL(flows_freed, 2);
	setup();
}

static void test_order(void)
{
	struct gw_reg_contact c = {"sip:asmith@127.0.8.1", 3600, NULL, 0};
	struct gw_reg_contact c0 = {"sip:asmith@127.0.8.1", 0, NULL, 0};
	struct seen s;

	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "cid-1", 5, NULL, 0), 0);
	/* same Call-ID, same or lower CSeq: refused, nothing changed */
	c.expires = 60;
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "cid-1", 5, NULL, 10), EPROTO);
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "cid-1", 4, NULL, 10), EPROTO);
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c0, 1, "cid-1", 3, NULL, 10), EPROTO);
	CU_ASSERT_EQUAL(gw_reg_remove_all(reg, alice, "cid-1", 5), EPROTO);
	s = contacts(alice, 10);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.expires[0], 3600);
	CU_ASSERT_EQUAL(stats().refused_order, 4);

	/* a different Call-ID (client restarted) may take over, any CSeq */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "cid-2", 1, NULL, 10), 0);
	s = contacts(alice, 10);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_EQUAL(s.expires[0], 70);

	/* all or nothing: one stale contact refuses the other, new one */
	{
		struct gw_reg_contact two[2] = {
			{"sip:asmith@127.0.8.9", 600, NULL, 0},
			{"sip:asmith@127.0.8.1", 600, NULL, 0},
		};

		CU_ASSERT_EQUAL(gw_reg_update(reg, alice, two, 2, "cid-2", 1,
					      NULL, 20), EPROTO);
		CU_ASSERT_EQUAL(contacts(alice, 20).n, 1);
	}
}

static void test_remove(void)
{
	struct gw_reg_contact cv[3] = {
		{"sip:a@127.0.8.1", 600, NULL, 0},
		{"sip:a@127.0.8.2", 600, NULL, 0},
		{"sip:a@127.0.8.3", 600, NULL, 0},
	};
	struct gw_reg_contact rm = {"sip:a@127.0.8.2", 0, NULL, 0};
	struct seen s;

	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, cv, 3, "c", 1, NULL, 0), 0);
	CU_ASSERT_EQUAL(contacts(alice, 0).n, 3);

	/* remove one (Expires: 0) */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &rm, 1, "c", 2, NULL, 0), 0);
	s = contacts(alice, 0);
	CU_ASSERT_EQUAL(s.n, 2);
	CU_ASSERT_STRING_EQUAL(s.uri[0], "sip:a@127.0.8.1");
	CU_ASSERT_STRING_EQUAL(s.uri[1], "sip:a@127.0.8.3");
	/* removing what is not there changes nothing */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &rm, 1, "c", 3, NULL, 0), 0);
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:nobody@acme.test", &rm, 1,
				      "c", 3, NULL, 0), 0);
	CU_ASSERT_EQUAL(stats().aors, 1);

	/* "*": every binding goes, and the user with them */
	CU_ASSERT_EQUAL(gw_reg_remove_all(reg, alice, "c", 4), 0);
	CU_ASSERT_FALSE(gw_reg_registered(reg, alice, 0));
	CU_ASSERT_EQUAL(stats().aors, 0);
	CU_ASSERT_EQUAL(stats().bindings, 0);
	CU_ASSERT_EQUAL(stats().removed, 3);
	CU_ASSERT_EQUAL(gw_reg_remove_all(reg, alice, "c", 5), 0);

	/* "*" is not a contact for gw_reg_update */
	rm.uri = "*";
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &rm, 1, "c", 6, NULL, 0), EINVAL);
}

static void test_instance(void)
{
	struct gw_reg_contact c = {"sip:a@127.0.8.1:5060", 600,
		"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>", 1};
	struct seen s;

	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "c", 1, NULL, 0), 0);
	/* same instance and reg-id from a new address: the binding moves */
	c.uri = "sip:a@127.0.8.1:40123";
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "c", 2, NULL, 0), 0);
	s = contacts(alice, 0);
	CU_ASSERT_EQUAL(s.n, 1);
	CU_ASSERT_STRING_EQUAL(s.uri[0], "sip:a@127.0.8.1:40123");
	/* another reg-id is another flow */
	c.regid = 2;
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "c", 3, NULL, 0), 0);
	CU_ASSERT_EQUAL(contacts(alice, 0).n, 2);
}

static void test_expire(void)
{
	struct gw_reg_contact cv[2] = {
		{"sip:a@127.0.8.1", 60, NULL, 0},
		{"sip:a@127.0.8.2", 120, NULL, 0},
	};

	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, cv, 2, "c", 1, NULL, 1000), 0);
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:b@acme.test", cv, 1, "d", 1,
				      NULL, 1000), 0);

	/* lookups ignore what is due even before the sweep */
	CU_ASSERT_EQUAL(contacts(alice, 1059).n, 2);
	CU_ASSERT_EQUAL(contacts(alice, 1060).n, 1);
	CU_ASSERT_FALSE(gw_reg_registered(reg, "sip:b@acme.test", 1060));
	CU_ASSERT_EQUAL(stats().bindings, 3);

	CU_ASSERT_EQUAL(gw_reg_expire(reg, 1059), 0);
	CU_ASSERT_EQUAL(gw_reg_expire(reg, 1060), 2);
	CU_ASSERT_EQUAL(stats().bindings, 1);
	CU_ASSERT_EQUAL(stats().aors, 1);
	CU_ASSERT_TRUE(gw_reg_registered(reg, alice, 1119));
	CU_ASSERT_EQUAL(gw_reg_expire(reg, 5000), 1);
	CU_ASSERT_EQUAL(stats().aors, 0);
	CU_ASSERT_EQUAL(stats().expired, 3);
}

static void test_limits(void)
{
	struct gw_reg_contact cv[GW_REG_CONTACTS_MAX + 1];
	char uris[GW_REG_CONTACTS_MAX + 1][64];
	char big[GW_REG_URI_MAX + 2];
	struct gw_reg *small = NULL;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cv); i++) {
		snprintf(uris[i], sizeof(uris[i]), "sip:a@127.0.8.%zu", i + 1);
		cv[i].uri = uris[i];
		cv[i].expires = 600;
		cv[i].instance = NULL;
		cv[i].regid = 0;
	}
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, cv, GW_REG_CONTACTS_MAX + 1,
				      "c", 1, NULL, 0), EMSGSIZE);
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, cv, GW_REG_BINDINGS_MAX,
				      "c", 1, NULL, 0), 0);
	/* one more binding for this user is refused; a refresh is not */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &cv[GW_REG_BINDINGS_MAX], 1,
				      "c", 2, NULL, 0), ENOSPC);
	CU_ASSERT_EQUAL(stats().refused_full, 1);
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, cv, 1, "c", 3, NULL, 0), 0);
	/* removing one and adding one in the same request fits */
	{
		struct gw_reg_contact swap[2] = {cv[0], cv[GW_REG_BINDINGS_MAX]};
		struct seen s;

		swap[0].expires = 0;
		CU_ASSERT_EQUAL(gw_reg_update(reg, alice, swap, 2, "c", 4,
					      NULL, 0), 0);
		s = contacts(alice, 0);
		CU_ASSERT_EQUAL(s.n, GW_REG_BINDINGS_MAX);
		CU_ASSERT_STRING_EQUAL(s.uri[0], uris[1]);
	}

	memset(big, 'u', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cv[0].uri = big;
	cv[0].expires = 60;
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:c@acme.test", cv, 1, "c", 1,
				      NULL, 0), EMSGSIZE);
	CU_ASSERT_EQUAL(gw_reg_update(reg, big, &cv[1], 1, "c", 1, NULL, 0),
			EMSGSIZE);
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:c@acme.test", &cv[1], 1, "",
				      1, NULL, 0), EINVAL);
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:c@acme.test", &cv[1], 0, "c",
				      1, NULL, 0), EINVAL);

	/* a table for two users refuses the third */
	CU_ASSERT_EQUAL_FATAL(gw_reg_alloc(&small, 2), 0);
	CU_ASSERT_EQUAL(gw_reg_update(small, "sip:1@x", &cv[1], 1, "c", 1,
				      NULL, 0), 0);
	CU_ASSERT_EQUAL(gw_reg_update(small, "sip:2@x", &cv[1], 1, "c", 1,
				      NULL, 0), 0);
	CU_ASSERT_EQUAL(gw_reg_update(small, "sip:3@x", &cv[1], 1, "c", 1,
				      NULL, 0), ENOSPC);
	CU_ASSERT_EQUAL(gw_reg_remove_all(small, "sip:1@x", "c", 2), 0);
	CU_ASSERT_EQUAL(gw_reg_update(small, "sip:3@x", &cv[1], 1, "c", 1,
				      NULL, 0), 0);
	mem_deref(small);
}

static void test_many(void)
{
	enum { USERS = 5000 };
	struct gw_reg_stats st;
	unsigned i;

	for (i = 0; i < USERS; i++) {
		char aor[64], uri[64];
		struct gw_reg_contact c = {uri, 60 + i % 2 * 60, NULL, 0};

		snprintf(aor, sizeof(aor), "sip:user%u@acme.test", i);
		snprintf(uri, sizeof(uri), "sip:user%u@127.0.8.%u:%u", i,
			 1 + i % 4, 5060 + i % 1000);
		CU_ASSERT_EQUAL(gw_reg_update(reg, aor, &c, 1, "cid", 1, NULL,
					      0), 0);
	}
	gw_reg_stats_get(reg, &st);
	CU_ASSERT_EQUAL(st.aors, USERS);
	CU_ASSERT_EQUAL(st.bindings, USERS);
	CU_ASSERT_TRUE(gw_reg_registered(reg, "sip:user4999@acme.test", 0));
	CU_ASSERT_FALSE(gw_reg_registered(reg, "sip:user5000@acme.test", 0));

	/* the even half expires at 60, the odd half at 120 */
	CU_ASSERT_EQUAL(gw_reg_expire(reg, 60), USERS / 2);
	CU_ASSERT_FALSE(gw_reg_registered(reg, "sip:user4998@acme.test", 60));
	CU_ASSERT_TRUE(gw_reg_registered(reg, "sip:user4999@acme.test", 60));
	{
		struct seen s = contacts("sip:user7@acme.test", 60);

		CU_ASSERT_EQUAL(s.n, 1);
		CU_ASSERT_STRING_EQUAL(s.uri[0], "sip:user7@127.0.8.4:5067");
	}
	CU_ASSERT_EQUAL(gw_reg_expire(reg, 120), USERS / 2);
	gw_reg_stats_get(reg, &st);
	CU_ASSERT_EQUAL(st.aors, 0);
	CU_ASSERT_EQUAL(st.bindings, 0);
}

/* What gw_reg_aors and the gone callback of gw_reg_sweep saw. */
struct aors_seen {
	char aor[4][64];
	size_t n;
	bool registered[4];     /* gw_reg_registered when gone() ran */
};

static void aor_collect(const char *aor, void *arg)
{
	struct aors_seen *as = arg;

	if (as->n < ARRAY_SIZE(as->aor)) {
		snprintf(as->aor[as->n], sizeof(as->aor[0]), "%s", aor);
		as->registered[as->n] = gw_reg_registered(reg, aor, 0);
	}
	as->n++;
}

static void test_aors(void)
{
	struct gw_reg_contact c = {"sip:a@127.0.8.1", 60, NULL, 0};
	struct gw_reg_contact c2 = {"sip:b@127.0.8.2", 120, NULL, 0};
	struct aors_seen as;

	/* the table lists its AORs oldest first, once each */
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c, 1, "c", 1, NULL, 1000), 0);
	CU_ASSERT_EQUAL(gw_reg_update(reg, "sip:b@acme.test", &c, 1, "d", 1,
				      NULL, 1000), 0);
	CU_ASSERT_EQUAL(gw_reg_update(reg, alice, &c2, 1, "c", 2, NULL, 1000),
			0);
	memset(&as, 0, sizeof(as));
	gw_reg_aors(reg, aor_collect, &as);
	CU_ASSERT_EQUAL(as.n, 2);
	CU_ASSERT_STRING_EQUAL(as.aor[0], alice);
	CU_ASSERT_STRING_EQUAL(as.aor[1], "sip:b@acme.test");

	/* alice keeps one binding at 1060, b loses its only one: only b is
	 * reported gone, and it is already out of the table */
	memset(&as, 0, sizeof(as));
	CU_ASSERT_EQUAL(gw_reg_sweep(reg, 1060, aor_collect, &as), 2);
	CU_ASSERT_EQUAL(as.n, 1);
	CU_ASSERT_STRING_EQUAL(as.aor[0], "sip:b@acme.test");
	CU_ASSERT_FALSE(as.registered[0]);
	CU_ASSERT_EQUAL(stats().aors, 1);

	memset(&as, 0, sizeof(as));
	gw_reg_aors(reg, aor_collect, &as);
	CU_ASSERT_EQUAL(as.n, 1);
	CU_ASSERT_STRING_EQUAL(as.aor[0], alice);

	/* a REGISTER that removes everything takes the AOR out at once */
	CU_ASSERT_EQUAL(gw_reg_remove_all(reg, alice, "c", 3), 0);
	memset(&as, 0, sizeof(as));
	gw_reg_aors(reg, aor_collect, &as);
	CU_ASSERT_EQUAL(as.n, 0);
	CU_ASSERT_EQUAL(gw_reg_sweep(reg, 5000, aor_collect, &as), 0);
	CU_ASSERT_EQUAL(as.n, 0);
}

static CU_TestInfo reg_tests[] = {
	{"add and refresh", test_add_refresh},
	{"CSeq ordering", test_order},
	{"remove one, remove all", test_remove},
	{"instance and reg-id", test_instance},
	{"expiry by the caller's clock", test_expire},
	{"limits", test_limits},
	{"many users", test_many},
	{"AORs listed and reported gone", test_aors},
	CU_TEST_INFO_NULL,
};

static int reg_setup(void)
{
	return setup();
}

static void per_test_setup(void)
{
	teardown();
	setup();
}

static CU_SuiteInfo suites[] = {
	{"gw_reg", reg_setup, teardown, per_test_setup, NULL, reg_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
