/*
 * test_cn_xmpp_map.c -- the SIP <-> XMPP mappings: addresses, statuses,
 * messages and errors, each a table read both ways, with the refusals a
 * peer could provoke.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <re.h>

#include "connector/cn_xmpp_map.h"
#include "xmpp/xmpp.h"
#include "lib/cutest.h"

static char *encode(const struct xmpp_el *el)
{
	static char out[4096];
	struct mbuf *mb = mbuf_alloc(256);

	out[0] = '\0';
	if (mb && !xmpp_el_encode(mb, el, XMPP_NS_SERVER))
		(void)re_snprintf(out, sizeof(out), "%b", mb->buf, mb->end);
	mem_deref(mb);
	return out;
}

static struct xmpp_el *parse_one(const char *xml);

static void test_addr_round_trip(void)
{
	static const struct {
		const char *sip;
		const char *jid;
	} tv[] = {
		{"sip:alice@acme.test", "alice@acme.test"},
		{"sip:bob.jones@xmpp.test", "bob.jones@xmpp.test"},
		{"sip:o'brien@xmpp.test", "o\\27brien@xmpp.test"},
		{"sip:a%20b@xmpp.test", "a\\20b@xmpp.test"},
		{"sip:j%C3%BCrgen@xmpp.test", "j\xc3\xbcrgen@xmpp.test"},
		{"sip:x%3Ay@xmpp.test", "x\\3ay@xmpp.test"},
		{"sip:back%5C20slash@xmpp.test", "back\\5c20slash@xmpp.test"},
		{"sip:back%5Cslash@xmpp.test", "back\\slash@xmpp.test"},
		{"sip:a&b@xmpp.test", "a\\26b@xmpp.test"},
	};
	char jid[CN_XMAP_ADDR_MAX], sip[CN_XMAP_ADDR_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		CU_ASSERT_EQUAL(cn_xmap_sip_to_jid(jid, sizeof(jid), tv[i].sip,
						   strlen(tv[i].sip)), 0);
		CU_ASSERT_STRING_EQUAL(jid, tv[i].jid);
		CU_ASSERT_EQUAL(cn_xmap_jid_to_sip(sip, sizeof(sip), jid), 0);
		CU_ASSERT_STRING_EQUAL(sip, tv[i].sip);
		if (strcmp(jid, tv[i].jid) || strcmp(sip, tv[i].sip))
			printf("\n%s -> %s -> %s\n", tv[i].sip, jid, sip);
	}
}

static void test_addr_one_way(void)
{
	static const struct {
		const char *in;
		const char *out;
		bool to_jid;
	} tv[] = {
		/* what has no XMPP meaning is dropped */
		{"sip:alice@ACME.test:5061;transport=tls?subject=hi",
		 "alice@acme.test", true},
		{"sips:alice@acme.test;gr", "alice@acme.test", true},
		{"SIP:alice@acme.test", "alice@acme.test", true},
		/* the resource names a client, SIP a person */
		{"bob@xmpp.test/laptop", "sip:bob@xmpp.test", false},
		{"bob@XMPP.test/a/b@c", "sip:bob@xmpp.test", false},
		/* ';' and '?' are escaped, never taken for parameters */
		{"we;ird?@xmpp.test", "sip:we%3Bird%3F@xmpp.test", false},
	};
	char out[CN_XMAP_ADDR_MAX];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		int err = tv[i].to_jid ?
			cn_xmap_sip_to_jid(out, sizeof(out), tv[i].in,
					   strlen(tv[i].in)) :
			cn_xmap_jid_to_sip(out, sizeof(out), tv[i].in);

		CU_ASSERT_EQUAL(err, 0);
		CU_ASSERT_STRING_EQUAL(out, tv[i].out);
	}
	CU_ASSERT_EQUAL(cn_xmap_jid_domain(out, sizeof(out),
					   "bob@Xmpp.test/r"), 0);
	CU_ASSERT_STRING_EQUAL(out, "xmpp.test");
}

static void test_addr_refusals(void)
{
	static const char *const sip[] = {
		"tel:+15551234", "sip:acme.test", "sip:@acme.test",
		"sip:alice@[::1]", "sip:alice@192.0.2.1", "sip:a%0Ab@x.test",
		"sip:a%zzb@x.test", "sip:a%2@x.test", "sip:a%FFb@x.test",
		"sip:a%00b@x.test", "sip:alice@", "sip:alice@ac_me.test",
		"im:alice@acme.test",
	};
	static const char *const jid[] = {
		"xmpp.test", "@xmpp.test", "bob@", "bob@/res",
		"bob@127.0.0.1", "b\x01ob@xmpp.test", "b\xffob@xmpp.test",
		"bob@xm pp.test",
	};
	char out[CN_XMAP_ADDR_MAX], small[12];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(sip); i++) {
		int err = cn_xmap_sip_to_jid(out, sizeof(out), sip[i],
					     strlen(sip[i]));
		CU_ASSERT_EQUAL(err, EINVAL);
		if (err != EINVAL)
			printf("\naccepted %s as %s\n", sip[i], out);
	}
	for (i = 0; i < ARRAY_SIZE(jid); i++) {
		int err = cn_xmap_jid_to_sip(out, sizeof(out), jid[i]);
		CU_ASSERT_EQUAL(err, EINVAL);
		if (err != EINVAL)
			printf("\naccepted %s as %s\n", jid[i], out);
	}
	CU_ASSERT_EQUAL(cn_xmap_sip_to_jid(small, sizeof(small),
					   "sip:alice@acme.test", 19),
			EOVERFLOW);
	CU_ASSERT_EQUAL(cn_xmap_jid_to_sip(small, sizeof(small),
					   "alice@acme.test"), EOVERFLOW);
	/* the length given is the URI's, not the string's */
	CU_ASSERT_EQUAL(cn_xmap_sip_to_jid(out, sizeof(out),
					   "sip:alice@acme.testXYZ", 19), 0);
	CU_ASSERT_STRING_EQUAL(out, "alice@acme.test");
}

static void test_pres_round_trip(void)
{
	static const struct {
		enum sst_status st;
		const char *note;
		const char *xml;
	} tv[] = {
		{SST_ST_ACTIVE, NULL,
		 "<presence from=\"alice@acme.test\" to=\"bob@xmpp.test\"/>"},
		{SST_ST_AWAY, NULL,
		 "<presence from=\"alice@acme.test\" to=\"bob@xmpp.test\">"
		 "<show>away</show></presence>"},
		{SST_ST_DND, "in a call",
		 "<presence from=\"alice@acme.test\" to=\"bob@xmpp.test\">"
		 "<show>dnd</show><status>in a call</status></presence>"},
		{SST_ST_OFFLINE, NULL,
		 "<presence from=\"alice@acme.test\" to=\"bob@xmpp.test\""
		 " type=\"unavailable\"/>"},
		{SST_ST_ACTIVE, "at my <desk> & \"happy\"",
		 "<presence from=\"alice@acme.test\" to=\"bob@xmpp.test\">"
		 "<status>at my &lt;desk&gt; &amp; \"happy\"</status>"
		 "</presence>"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct xmpp_el *el = NULL, *back;
		enum sst_status st;
		char note[SST_PIDF_NOTE_MAX + 1];

		CU_ASSERT_EQUAL_FATAL(cn_xmap_pres_encode(&el,
			"alice@acme.test", "bob@xmpp.test", tv[i].st,
			tv[i].note), 0);
		CU_ASSERT_STRING_EQUAL(encode(el), tv[i].xml);
		back = parse_one(tv[i].xml);
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		CU_ASSERT_EQUAL(cn_xmap_pres_decode(&st, note, sizeof(note),
						    back), 0);
		CU_ASSERT_EQUAL(st, tv[i].st);
		CU_ASSERT_STRING_EQUAL(note, tv[i].note ? tv[i].note : "");
		mem_deref(el);
		mem_deref(back);
	}
}

static void test_pres_from_xmpp(void)
{
	static const struct {
		const char *xml;
		int err;
		enum sst_status st;
		const char *note;
	} tv[] = {
		{"<presence><show>chat</show></presence>", 0, SST_ST_ACTIVE, ""},
		{"<presence><show>xa</show><status>  gone  </status>"
		 "</presence>", 0, SST_ST_AWAY, "gone"},
		{"<presence><show> dnd </show></presence>", 0, SST_ST_DND, ""},
		{"<presence><show>sleepy</show></presence>", 0, SST_ST_ACTIVE,
		 ""},
		{"<presence type='unavailable'><show>away</show>"
		 "<status>bye</status></presence>", 0, SST_ST_OFFLINE, "bye"},
		{"<presence type='subscribe'/>", EPROTO, 0, NULL},
		{"<presence type='probe'/>", EPROTO, 0, NULL},
		{"<presence type='error'/>", EPROTO, 0, NULL},
		{"<presence type='bogus'/>", EPROTO, 0, NULL},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct xmpp_el *el = parse_one(tv[i].xml);
		enum sst_status st = (enum sst_status)77;
		char note[64];

		CU_ASSERT_PTR_NOT_NULL_FATAL(el);
		CU_ASSERT_EQUAL(cn_xmap_pres_decode(&st, note, sizeof(note),
						    el), tv[i].err);
		if (!tv[i].err) {
			CU_ASSERT_EQUAL(st, tv[i].st);
			CU_ASSERT_STRING_EQUAL(note, tv[i].note);
		}
		else {
			CU_ASSERT_EQUAL(st, (enum sst_status)77);
		}
		mem_deref(el);
	}
}

static void test_pres_types(void)
{
	static const struct {
		const char *xml;
		enum cn_xmap_ptype t;
	} tv[] = {
		{"<presence/>", CN_XMAP_P_AVAILABLE},
		{"<presence type='unavailable'/>", CN_XMAP_P_UNAVAILABLE},
		{"<presence type='subscribe'/>", CN_XMAP_P_SUBSCRIBE},
		{"<presence type='subscribed'/>", CN_XMAP_P_SUBSCRIBED},
		{"<presence type='unsubscribe'/>", CN_XMAP_P_UNSUBSCRIBE},
		{"<presence type='unsubscribed'/>", CN_XMAP_P_UNSUBSCRIBED},
		{"<presence type='probe'/>", CN_XMAP_P_PROBE},
		{"<presence type='error'/>", CN_XMAP_P_ERROR},
		{"<presence type='available'/>", CN_XMAP_P_INVALID},
		{"<message/>", CN_XMAP_P_INVALID},
	};
	struct xmpp_el *el;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		el = parse_one(tv[i].xml);
		CU_ASSERT_PTR_NOT_NULL_FATAL(el);
		CU_ASSERT_EQUAL(cn_xmap_pres_type(el), tv[i].t);
		mem_deref(el);
	}
	for (i = CN_XMAP_P_SUBSCRIBE; i <= CN_XMAP_P_PROBE; i++) {
		char want[128];

		CU_ASSERT_EQUAL_FATAL(cn_xmap_pres_ctl(&el, "alice@acme.test",
			"bob@xmpp.test", (enum cn_xmap_ptype)i), 0);
		(void)re_snprintf(want, sizeof(want), "<presence from=\""
				  "alice@acme.test\" to=\"bob@xmpp.test\" "
				  "type=\"%s\"/>",
				  cn_xmap_ptype_name((enum cn_xmap_ptype)i));
		CU_ASSERT_STRING_EQUAL(encode(el), want);
		el = mem_deref(el);
	}
	CU_ASSERT_EQUAL(cn_xmap_pres_ctl(&el, "a@b.test", "c@d.test",
					 CN_XMAP_P_AVAILABLE), EINVAL);
	CU_ASSERT_EQUAL(cn_xmap_pres_encode(&el, "a@b.test", "c@d.test",
					    SST_ST_ACTIVE, "bell\a"), EINVAL);
	CU_ASSERT_EQUAL(cn_xmap_pres_encode(&el, "", "c@d.test",
					    SST_ST_ACTIVE, NULL), EINVAL);
}

static void test_msg_round_trip(void)
{
	static const char *const bodies[] = {
		"hello", "a < b && c > d", "line one\nline two",
		("gr\xc3\xbc\xc3\x9f" "e \xf0\x9f\x98\x80"),
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(bodies); i++) {
		struct xmpp_el *el = NULL, *back;
		const char *b;
		size_t len;
		uint16_t sc = 1;

		CU_ASSERT_EQUAL_FATAL(cn_xmap_msg_encode(&el,
			"alice@acme.test", "bob@xmpp.test",
			"text/plain;charset=UTF-8", bodies[i],
			strlen(bodies[i]), &sc), 0);
		CU_ASSERT_EQUAL(sc, 0);
		CU_ASSERT_STRING_EQUAL(xmpp_el_attr(el, "type"), "chat");
		back = parse_one(encode(el));
		CU_ASSERT_PTR_NOT_NULL_FATAL(back);
		CU_ASSERT_EQUAL(cn_xmap_msg_decode(&b, &len, back), 0);
		CU_ASSERT_EQUAL(len, strlen(bodies[i]));
		CU_ASSERT_NSTRING_EQUAL(b, bodies[i], len);
		mem_deref(el);
		mem_deref(back);
	}
}

static void test_msg_refusals(void)
{
	static char big[CN_XMAP_BODY_MAX + 2];
	static const struct {
		const char *ctype;
		const char *body;
		uint16_t sc;
		int err;
	} tv[] = {
		{"text/plain", "hi", 0, 0},
		{"Text/Plain; charset=\"utf-8\"", "hi", 0, 0},
		{"text/plain;charset=us-ascii", "hi", 0, 0},
		{"text/html", "<b>hi</b>", 415, EPROTONOSUPPORT},
		{"message/cpim", "x", 415, EPROTONOSUPPORT},
		{"text/plain;charset=iso-8859-1", "hi", 415, EPROTONOSUPPORT},
		{"text/plainx", "hi", 415, EPROTONOSUPPORT},
		{NULL, "hi", 415, EPROTONOSUPPORT},
		{"text/plain", "", 400, EBADMSG},
		{"text/plain", "bell\a", 400, EBADMSG},
		{"text/plain", "bad \xc3(", 400, EBADMSG},
		{"text/plain", "\xed\xa0\x80", 400, EBADMSG},
		{"text/plain", big, 413, EMSGSIZE},
	};
	size_t i;

	memset(big, 'a', sizeof(big) - 1);
	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct xmpp_el *el = NULL;
		uint16_t sc = 1;

		CU_ASSERT_EQUAL(cn_xmap_msg_encode(&el, "a@b.test", "c@d.test",
						   tv[i].ctype, tv[i].body,
						   strlen(tv[i].body), &sc),
				tv[i].err);
		CU_ASSERT_EQUAL(sc, tv[i].sc);
		CU_ASSERT(tv[i].err ? el == NULL : el != NULL);
		mem_deref(el);
	}
}

static void test_msg_from_xmpp(void)
{
	static const struct {
		const char *xml;
		int err;
	} tv[] = {
		{"<message type='chat'><body>hi</body></message>", 0},
		{"<message type='normal'><body>hi</body></message>", 0},
		{"<message><body>hi</body></message>", 0},
		{"<message type='chat'><composing xmlns="
		 "'http://jabber.org/protocol/chatstates'/></message>",
		 ENODATA},
		{"<message type='chat'><body/></message>", ENODATA},
		{"<message type='error'><body>hi</body></message>", EPROTO},
		{"<message type='groupchat'><body>hi</body></message>",
		 ENOTSUP},
		{"<message type='headline'><body>hi</body></message>",
		 ENOTSUP},
		/* a body in another namespace is not the message's */
		{"<message type='chat'><body xmlns='urn:x'>hi</body>"
		 "</message>", ENODATA},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct xmpp_el *el = parse_one(tv[i].xml);
		const char *b = NULL;
		size_t len = 0;

		CU_ASSERT_PTR_NOT_NULL_FATAL(el);
		CU_ASSERT_EQUAL(cn_xmap_msg_decode(&b, &len, el), tv[i].err);
		if (!tv[i].err)
			CU_ASSERT(len == 2 && !memcmp(b, "hi", 2));
		mem_deref(el);
	}
}

static void test_err_round_trip(void)
{
	static const struct {
		uint16_t sc;
		bool offline;
		const char *cond;
		const char *type;
	} tv[] = {
		{400, false, "bad-request", "modify"},
		{403, false, "forbidden", "auth"},
		{404, false, "item-not-found", "cancel"},
		{408, false, "remote-server-timeout", "wait"},
		{413, false, "policy-violation", "modify"},
		{415, false, "not-acceptable", "modify"},
		{480, false, "service-unavailable", "cancel"},
		{480, true, "recipient-unavailable", "wait"},
		{500, false, "internal-server-error", "wait"},
		{503, false, "service-unavailable", "wait"},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		const char *cond, *type;

		cn_xmap_err_from_sip(&cond, &type, tv[i].sc, tv[i].offline);
		CU_ASSERT_STRING_EQUAL(cond, tv[i].cond);
		CU_ASSERT_STRING_EQUAL(type, tv[i].type);
		CU_ASSERT_EQUAL(cn_xmap_err_to_sip(cond, type), tv[i].sc);
	}
}

static void test_err_one_way(void)
{
	static const struct {
		uint16_t sc;
		const char *cond;
	} to_x[] = {
		{486, "recipient-unavailable"}, {401, "not-authorized"},
		{504, "remote-server-timeout"}, {599, "internal-server-error"},
		{499, "bad-request"}, {302, "item-not-found"},
		{603, "forbidden"}, {699, "service-unavailable"},
	};
	static const struct {
		const char *cond;
		uint16_t sc;
	} to_s[] = {
		{"remote-server-not-found", 404}, {"jid-malformed", 400},
		{"not-authorized", 403}, {"gone", 410},
		{"feature-not-implemented", 501}, {"undefined-condition", 500},
		{"no-such-condition", 500}, {"resource-constraint", 503},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(to_x); i++) {
		const char *cond;

		cn_xmap_err_from_sip(&cond, NULL, to_x[i].sc, false);
		CU_ASSERT_STRING_EQUAL(cond, to_x[i].cond);
	}
	for (i = 0; i < ARRAY_SIZE(to_s); i++)
		CU_ASSERT_EQUAL(cn_xmap_err_to_sip(to_s[i].cond, NULL),
				to_s[i].sc);
}

static void test_err_stanza(void)
{
	struct xmpp_el *orig, *err = NULL, *back;

	orig = parse_one("<message from='bob@xmpp.test/pc' "
			 "to='alice@acme.test' id='m1' type='chat'>"
			 "<body>hi</body></message>");
	CU_ASSERT_PTR_NOT_NULL_FATAL(orig);
	CU_ASSERT_EQUAL_FATAL(cn_xmap_err_stanza(&err, orig, 480, true), 0);
	CU_ASSERT_STRING_EQUAL(encode(err),
		"<message from=\"alice@acme.test\" to=\"bob@xmpp.test/pc\" "
		"id=\"m1\" type=\"error\"><error type=\"wait\">"
		"<recipient-unavailable xmlns=\"" XMPP_NS_STANZAS "\"/>"
		"</error></message>");
	back = parse_one(encode(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(back);
	CU_ASSERT_EQUAL(cn_xmap_err_stanza_sip(back), 480);
	mem_deref(back);
	mem_deref(err);
	mem_deref(orig);

	/* a text beside the condition is not the condition */
	back = parse_one("<presence type='error'><error type='cancel'>"
			 "<text xmlns='" XMPP_NS_STANZAS "'>no</text>"
			 "<item-not-found xmlns='" XMPP_NS_STANZAS "'/>"
			 "</error></presence>");
	CU_ASSERT_EQUAL(cn_xmap_err_stanza_sip(back), 404);
	mem_deref(back);
	back = parse_one("<message type='error'/>");
	CU_ASSERT_EQUAL(cn_xmap_err_stanza_sip(back), 500);
	mem_deref(back);
}

static void test_senderr(void)
{
	static const struct {
		int err;
		uint16_t sc;
		bool retry;
	} tv[] = {
		{0, 200, false}, {ETIMEDOUT, 503, true},
		{ECONNREFUSED, 480, true}, {ENOENT, 404, false},
		{EPERM, 403, false}, {ENOTCONN, 503, true},
		{EPIPE, 503, true}, {EIO, 500, false},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		uint32_t ra = 99;

		CU_ASSERT_EQUAL(cn_xmap_senderr_sip(tv[i].err, 60, &ra),
				tv[i].sc);
		CU_ASSERT_EQUAL(ra != 0, tv[i].retry);
	}
	CU_ASSERT_STRING_EQUAL(cn_xmap_reason(415), "Unsupported Media Type");
}

/* A stream that ended before authentication: only a refusal of us is
 * permanent (403); a peer shutting down or failing is not. */
static void test_unauthed(void)
{
	static const struct {
		enum xmpp_serr cond;
		int err;
	} tv[] = {
		{XMPP_SERR_NOT_AUTHORIZED, EPERM},
		{XMPP_SERR_POLICY_VIOLATION, EPERM},
		{XMPP_SERR_INVALID_FROM, EPERM},
		{XMPP_SERR_HOST_UNKNOWN, EPERM},
		{XMPP_SERR_HOST_GONE, EPERM},
		{XMPP_SERR_NONE, ECONNREFUSED},	/* </stream:stream> */
		{XMPP_SERR_SYSTEM_SHUTDOWN, ECONNREFUSED},
		{XMPP_SERR_REMOTE_CONNECTION_FAILED, ECONNREFUSED},
		{XMPP_SERR_INTERNAL_SERVER_ERROR, ECONNREFUSED},
		{XMPP_SERR_RESOURCE_CONSTRAINT, ECONNREFUSED},
		{XMPP_SERR_CONNECTION_TIMEOUT, ECONNREFUSED},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		uint32_t ra = 0;
		const int e = cn_xmap_unauthed_errno(tv[i].cond);

		CU_ASSERT_EQUAL(e, tv[i].err);
		/* what the gateway hears */
		CU_ASSERT_EQUAL(cn_xmap_senderr_sip(e, 60, &ra), e == EPERM ?
				403 : 480);
		CU_ASSERT_EQUAL(ra != 0, e != EPERM);
	}
}

/* ---- a stanza from text, through the real stream parser ---- */

static struct xmpp_el *parsed;

static void parse_h(enum xmpp_ev ev, struct xmpp_el *el, void *arg)
{
	(void)arg;
	if (ev == XMPP_EV_ELEMENT && !parsed)
		parsed = mem_ref(el);
}

static struct xmpp_el *parse_one(const char *xml)
{
	static const char head[] = "<stream:stream xmlns='jabber:server' "
		"xmlns:stream='http://etherx.jabber.org/streams' "
		"version='1.0'>";
	struct xmpp_parse *p = NULL;

	parsed = NULL;
	if (xmpp_parse_alloc(&p, NULL, parse_h, NULL))
		return NULL;
	if (xmpp_parse_feed(p, head, strlen(head)) ||
	    xmpp_parse_feed(p, xml, strlen(xml)))
		parsed = mem_deref(parsed);
	mem_deref(p);
	return parsed;
}

static CU_TestInfo map_tests[] = {
	{"addresses round trip", test_addr_round_trip},
	{"addresses one way", test_addr_one_way},
	{"addresses that do not map", test_addr_refusals},
	{"status round trip", test_pres_round_trip},
	{"status from XMPP", test_pres_from_xmpp},
	{"presence types", test_pres_types},
	{"messages round trip", test_msg_round_trip},
	{"messages refused", test_msg_refusals},
	{"messages from XMPP", test_msg_from_xmpp},
	{"errors round trip", test_err_round_trip},
	{"errors one way", test_err_one_way},
	{"error stanzas", test_err_stanza},
	{"send fates", test_senderr},
	{"streams ended before authentication", test_unauthed},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"cn_xmpp_map", NULL, NULL, NULL, NULL, map_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
