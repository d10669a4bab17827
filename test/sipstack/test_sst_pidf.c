/*
 * test_sst_pidf.c -- presence documents: the four states round trip, what
 * real clients publish reads as the right state, and hostile documents are
 * refused with a reason, never a crash.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_pidf.h"
#include "lib/cutest.h"

static int decode_str(struct sst_pidf *pd, const char *s)
{
	return sst_pidf_decode(pd, s, strlen(s));
}

/* status -> PIDF -> status for all four, and the wire form of each. */
static void test_round_trip(void)
{
	static const struct {
		enum sst_status st;
		const char *basic;
		const char *act;  /* NULL: no activities element at all */
	} tv[] = {
		{SST_ST_ACTIVE, "<basic>open</basic>", NULL},
		{SST_ST_AWAY, "<basic>open</basic>", "<rpid:away/>"},
		{SST_ST_DND, "<basic>open</basic>", "<rpid:busy/>"},
		{SST_ST_OFFLINE, "<basic>closed</basic>", NULL},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct mbuf *mb = mbuf_alloc(512);
		struct sst_pidf pd;
		char *doc = NULL;

		CU_ASSERT_FATAL(mb != NULL);
		CU_ASSERT_EQUAL(sst_pidf_encode(mb, "sip:a.smith@acme.test",
					       tv[i].st, "at \"lunch\" & <back>"), 0);
		mbuf_set_pos(mb, 0);
		CU_ASSERT_EQUAL(mbuf_strdup(mb, &doc, mbuf_get_left(mb)), 0);
		CU_ASSERT_PTR_NOT_NULL(strstr(doc, tv[i].basic));
		if (tv[i].act) {
			CU_ASSERT_PTR_NOT_NULL(strstr(doc, tv[i].act));
		} else {
			CU_ASSERT_PTR_NULL(strstr(doc, "activities"));
		}
		CU_ASSERT_PTR_NOT_NULL(strstr(doc,
			"at &quot;lunch&quot; &amp; &lt;back&gt;"));

		memset(&pd, 0xa5, sizeof(pd));
		CU_ASSERT_EQUAL(decode_str(&pd, doc), 0);
		CU_ASSERT_EQUAL(pd.st, tv[i].st);
		CU_ASSERT_STRING_EQUAL(pd.entity, "sip:a.smith@acme.test");
		CU_ASSERT_STRING_EQUAL(pd.note, "at \"lunch\" & <back>");
		mem_deref(doc);
		mem_deref(mb);
	}
}

static void test_names(void)
{
	enum sst_status st, back;

	for (st = SST_ST_ACTIVE; st <= SST_ST_OFFLINE; st++) {
		CU_ASSERT_EQUAL(sst_status_from_name(&back, sst_status_name(st)), 0);
		CU_ASSERT_EQUAL(back, st);
	}
	CU_ASSERT_STRING_EQUAL(sst_status_name(SST_ST_DND), "dnd");
	CU_ASSERT_STRING_EQUAL(sst_status_name((enum sst_status)9), "?");
	CU_ASSERT_EQUAL(sst_status_from_name(&back, "busy"), EINVAL);
}

static void test_encode_refusals(void)
{
	struct mbuf *mb = mbuf_alloc(64);
	char big[SST_PIDF_ENTITY_MAX + 2];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CU_ASSERT_EQUAL(sst_pidf_encode(NULL, "sip:a@b", SST_ST_ACTIVE, NULL), EINVAL);
	CU_ASSERT_EQUAL(sst_pidf_encode(mb, "", SST_ST_ACTIVE, NULL), EINVAL);
	CU_ASSERT_EQUAL(sst_pidf_encode(mb, "sip:a@b", (enum sst_status)7, NULL), EINVAL);
	CU_ASSERT_EQUAL(sst_pidf_encode(mb, big, SST_ST_ACTIVE, NULL), EMSGSIZE);
	CU_ASSERT_EQUAL(sst_pidf_encode(mb, "sip:a@b", SST_ST_ACTIVE, "bell\a"), EINVAL);
	CU_ASSERT_EQUAL(sst_pidf_encode(mb, "sip:\xff@b", SST_ST_ACTIVE, NULL), EINVAL);
	CU_ASSERT_EQUAL(mb->end, 0);
	mem_deref(mb);
}

/* Documents in the shape real clients publish. */
#define HDR "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"

/* baresip's presence module: default pidf namespace, person in the
 * data-model namespace with rpid activities, tuple with contact. */
#define BARESIP(acts, basic)						\
	HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"\r\n"	\
	"    xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\"\r\n"	\
	"    xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\"\r\n"	\
	"    entity=\"sip:bob@acme.test\">\r\n"				\
	"  <dm:person id=\"p4159\">"					\
	"<rpid:activities>" acts "</rpid:activities></dm:person>\r\n"	\
	"  <tuple id=\"t4109\">\r\n"					\
	"    <status>\r\n"						\
	"      <basic>" basic "</basic>\r\n"				\
	"    </status>\r\n"						\
	"    <contact>sip:bob@127.0.8.1:5060</contact>\r\n"		\
	"  </tuple>\r\n"						\
	"</presence>\r\n"

/* linphone: tuple first with timestamp, then a data-model person with
 * activities and a note. */
#define LINPHONE(acts, basic)						\
	HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "		\
	"xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "		\
	"xmlns:rpid=\"urn:ietf:params:xml:ns:pidf:rpid\" "		\
	"entity=\"sip:carol@acme.test\">\n"				\
	"  <tuple id=\"qkwopu\">\n"					\
	"    <status>\n      <basic>" basic "</basic>\n    </status>\n"	\
	"    <contact>sip:carol@127.0.8.2</contact>\n"			\
	"    <timestamp>2026-11-21T10:00:00Z</timestamp>\n"		\
	"  </tuple>\n"							\
	"  <dm:person id=\"lxdfjm\">\n"					\
	"    <rpid:activities>\n      " acts "\n    </rpid:activities>\n" \
	"    <dm:note>  Gone fishing  </dm:note>\n"			\
	"  </dm:person>\n"						\
	"</presence>\n"

static void test_clients(void)
{
	static const struct {
		const char *doc;
		enum sst_status st;
		const char *entity;
		const char *note;
	} tv[] = {
		{BARESIP("", "open"), SST_ST_ACTIVE, "sip:bob@acme.test", ""},
		{BARESIP("<rpid:away/>", "open"), SST_ST_AWAY, "sip:bob@acme.test", ""},
		{BARESIP("<rpid:busy/>", "open"), SST_ST_DND, "sip:bob@acme.test", ""},
		{BARESIP("", "closed"), SST_ST_OFFLINE, "sip:bob@acme.test", ""},
		{BARESIP("<rpid:busy/>", "closed"), SST_ST_OFFLINE, "sip:bob@acme.test", ""},
		{LINPHONE("<rpid:away/>", "open"), SST_ST_AWAY, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:on-the-phone/>", "open"), SST_ST_DND, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:meeting/>", "open"), SST_ST_DND, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:vacation/>", "open"), SST_ST_AWAY, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:lunch/>", "open"), SST_ST_AWAY, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:away/><rpid:busy/>", "open"), SST_ST_DND, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:unknown/>", "open"), SST_ST_ACTIVE, "sip:carol@acme.test", "Gone fishing"},
		{LINPHONE("<rpid:other>coding</rpid:other>", "open"), SST_ST_ACTIVE, "sip:carol@acme.test", "Gone fishing"},
		/* prefixes of any name; namespace decides, not the prefix */
		{HDR "<p:presence xmlns:p=\"urn:ietf:params:xml:ns:pidf\" "
		 "xmlns:x=\"urn:ietf:params:xml:ns:pidf:rpid\" "
		 "xmlns:d=\"urn:ietf:params:xml:ns:pidf:data-model\" entity=\"pres:x@y\">"
		 "<p:tuple id=\"a\"><p:status><p:basic>open</p:basic></p:status></p:tuple>"
		 "<d:person id=\"b\"><x:activities><x:away/></x:activities></d:person>"
		 "</p:presence>", SST_ST_AWAY, "pres:x@y", ""},
		/* a busy element in a foreign namespace is not RPID busy */
		{HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "xmlns:rpid=\"urn:example:not-rpid\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>open</basic></status></tuple>"
		 "<rpid:activities><rpid:busy/></rpid:activities></presence>",
		 SST_ST_ACTIVE, "sip:x@y", ""},
		/* activities inside the tuple's status (older RPID drafts) */
		{HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		 "xmlns:r=\"urn:ietf:params:xml:ns:pidf:rpid\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>open</basic>"
		 "<r:activities><r:busy/></r:activities></status></tuple></presence>",
		 SST_ST_DND, "sip:x@y", ""},
		/* several tuples: one open device is enough */
		{HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>closed</basic></status></tuple>"
		 "<tuple id=\"b\"><status><basic>open</basic></status></tuple>"
		 "<note>desk phone off</note></presence>",
		 SST_ST_ACTIVE, "sip:x@y", "desk phone off"},
		/* no tuple with a basic status: no sign of reachability */
		{HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\"/>",
		 SST_ST_OFFLINE, "sip:x@y", ""},
		/* unknown basic value is not open */
		{HDR "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>OPEN</basic></status></tuple></presence>",
		 SST_ST_OFFLINE, "sip:x@y", ""},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct sst_pidf pd;
		int err = decode_str(&pd, tv[i].doc);

		CU_ASSERT_EQUAL(err, 0);
		if (err) {
			fprintf(stderr, "case %zu: %s\n", i, strerror(err));
			continue;
		}
		if (pd.st != tv[i].st)
			fprintf(stderr, "case %zu: got %s want %s\n", i,
				sst_status_name(pd.st), sst_status_name(tv[i].st));
		CU_ASSERT_EQUAL(pd.st, tv[i].st);
		CU_ASSERT_STRING_EQUAL(pd.entity, tv[i].entity);
		CU_ASSERT_STRING_EQUAL(pd.note, tv[i].note);
	}
}

static void test_note_cut(void)
{
	char doc[2048], note[600];
	struct sst_pidf pd;
	size_t i, l;

	/* 300 bytes of two-byte characters: the cut keeps whole characters */
	for (i = 0, l = 0; i < 150; i++) {
		note[l++] = '\xc3';
		note[l++] = '\xa9';
	}
	note[l] = '\0';
	snprintf(doc, sizeof(doc),
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>open</basic></status></tuple>"
		 "<note>x%s</note></presence>", note);
	CU_ASSERT_EQUAL_FATAL(decode_str(&pd, doc), 0);
	l = strlen(pd.note);
	CU_ASSERT(l <= SST_PIDF_NOTE_MAX && l >= SST_PIDF_NOTE_MAX - 1);
	CU_ASSERT_EQUAL(pd.note[0], 'x');
	CU_ASSERT_EQUAL(l % 2, 1);   /* 'x' + whole two-byte characters */
}

static void test_refusals(void)
{
	static const struct {
		const char *doc;
		int err;
	} tv[] = {
		{"", EBADMSG},
		{"<presence", EBADMSG},
		{"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"></presence>", EBADMSG},
		{"not xml at all", EBADMSG},
		/* right name, wrong namespace */
		{"<presence entity=\"sip:x@y\"/>", EBADMSG},
		{"<presence xmlns=\"urn:ietf:params:xml:ns:cpim-pidf\" entity=\"sip:x@y\"/>",
		 EBADMSG},
		/* no entity */
		{"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\"/>", EBADMSG},
		/* undeclared entity reference */
		{"<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"&x;\"/>",
		 EBADMSG},
		/* DTDs and entities, in several spellings */
		{HDR "<!DOCTYPE presence [<!ENTITY x \"open\">]>"
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\">"
		 "<tuple id=\"a\"><status><basic>&x;</basic></status></tuple></presence>",
		 EPERM},
		{HDR "<!DOCTYPE presence SYSTEM \"http://127.0.8.1/x.dtd\">"
		 "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\"/>",
		 EPERM},
		{HDR "<!DOCTYPE lol [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;\">"
		 "<!ENTITY c \"&b;&b;&b;&b;&b;&b;\">]><presence "
		 "xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"&c;\"/>", EPERM},
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tv); i++) {
		struct sst_pidf pd;
		int err;

		memset(&pd, 0x5a, sizeof(pd));
		err = decode_str(&pd, tv[i].doc);
		if (err != tv[i].err)
			fprintf(stderr, "refusal %zu: got %d want %d\n", i, err,
				tv[i].err);
		CU_ASSERT_EQUAL(err, tv[i].err);
		CU_ASSERT_EQUAL(pd.st, (enum sst_status)0x5a5a5a5a);
	}
	CU_ASSERT_EQUAL(sst_pidf_decode(NULL, "x", 1), EINVAL);
}

/* A DOCTYPE hidden from the byte scan (UTF-16) still stops the parser. */
static void test_doctype_utf16(void)
{
	static const char src[] =
		"<!DOCTYPE p [<!ENTITY x \"open\">]><presence "
		"xmlns=\"urn:ietf:params:xml:ns:pidf\" entity=\"sip:x@y\"/>";
	char doc[sizeof(src) * 2 + 2];
	struct sst_pidf pd;
	size_t i;
	int err;

	doc[0] = '\xff';
	doc[1] = '\xfe';
	for (i = 0; i < sizeof(src) - 1; i++) {
		doc[2 + 2 * i] = src[i];
		doc[3 + 2 * i] = '\0';
	}
	err = sst_pidf_decode(&pd, doc, 2 + 2 * (sizeof(src) - 1));
	CU_ASSERT(err == EPERM || err == EBADMSG);
}

static void test_bounds(void)
{
	struct mbuf *mb = mbuf_alloc(SST_PIDF_DOC_MAX + 64);
	struct sst_pidf pd;
	size_t i;

	/* one byte over the cap, otherwise fine */
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\"><note>");
	while (mb->end < SST_PIDF_DOC_MAX + 1 - strlen("</note></presence>"))
		mbuf_write_u8(mb, 'n');
	mbuf_write_str(mb, "</note></presence>");
	CU_ASSERT_EQUAL(mb->end, SST_PIDF_DOC_MAX + 1);
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end), EMSGSIZE);
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end - 1 - 2), EBADMSG);

	/* too many elements */
	mbuf_reset(mb);
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\">");
	for (i = 0; i < SST_PIDF_ELEM_MAX; i++)
		mbuf_write_str(mb, "<x/>");
	mbuf_write_str(mb, "</presence>");
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end), EMSGSIZE);

	/* too deep */
	mbuf_reset(mb);
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\">");
	for (i = 0; i < SST_PIDF_DEPTH_MAX + 1; i++)
		mbuf_write_str(mb, "<d>");
	for (i = 0; i < SST_PIDF_DEPTH_MAX + 1; i++)
		mbuf_write_str(mb, "</d>");
	mbuf_write_str(mb, "</presence>");
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end), EMSGSIZE);

	/* entity over its cap */
	mbuf_reset(mb);
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:");
	for (i = 0; i < SST_PIDF_ENTITY_MAX; i++)
		mbuf_write_u8(mb, 'e');
	mbuf_write_str(mb, "\"/>");
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end), EMSGSIZE);
	mem_deref(mb);
}

/* A <presence> with n attributes in all: xmlns, entity and n - 2 more
 * (each value holding "=" and ">", which are no attributes), then a
 * comment, a processing instruction and text with "=" signs. */
static int decode_attrs(struct mbuf *mb, unsigned n, struct sst_pidf *pd)
{
	unsigned i;

	mbuf_reset(mb);
	mbuf_write_str(mb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		       "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\"");
	for (i = 2; i < n; i++)
		mbuf_printf(mb, " a%u='v=%u>'", i, i);
	mbuf_write_str(mb, "><!-- a=1 b=2 c=3 --><?pi x=1 y=2?>"
		       "<tuple id=\"t\"><status><basic>open</basic></status>"
		       "<note>a=b c=d</note></tuple></presence>");
	return sst_pidf_decode(pd, (char *)mb->buf, mb->end);
}

/* A note cut at SST_PIDF_NOTE_MAX where a space falls: no trailing
 * space kept, so the note reads back the same after a round trip. */
static void test_note_cut_space(void)
{
	struct mbuf *mb = mbuf_alloc(1024), *out = mbuf_alloc(1024);
	struct sst_pidf pd, again;
	size_t i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\"><tuple id=\"t\"><status><basic>"
		       "open</basic></status><note>");
	for (i = 0; i < SST_PIDF_NOTE_MAX - 1; i++)
		mbuf_write_u8(mb, 'a');
	mbuf_write_str(mb, " bbbb</note></tuple></presence>");
	CU_ASSERT_EQUAL_FATAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end),
			      0);
	CU_ASSERT_EQUAL(strlen(pd.note), SST_PIDF_NOTE_MAX - 1);
	CU_ASSERT_NOT_EQUAL(pd.note[strlen(pd.note) - 1], ' ');

	CU_ASSERT_EQUAL(sst_pidf_encode(out, pd.entity, pd.st, pd.note), 0);
	CU_ASSERT_EQUAL(sst_pidf_decode(&again, (char *)out->buf, out->end),
			0);
	CU_ASSERT_STRING_EQUAL(again.note, pd.note);
	mem_deref(out);
	mem_deref(mb);
}

/* libxml2's cost grows with the square of the attributes of one
 * element: more than SST_PIDF_ATTR_MAX are refused before parsing. */
static void test_attr_bound(void)
{
	struct mbuf *mb = mbuf_alloc(SST_PIDF_DOC_MAX);
	struct sst_pidf pd;
	unsigned i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mb);

	memset(&pd, 0, sizeof(pd));
	CU_ASSERT_EQUAL(decode_attrs(mb, SST_PIDF_ATTR_MAX, &pd), 0);
	CU_ASSERT_EQUAL(pd.st, SST_ST_ACTIVE);
	CU_ASSERT_STRING_EQUAL(pd.entity, "sip:x@y");
	CU_ASSERT_STRING_EQUAL(pd.note, "a=b c=d");

	CU_ASSERT_EQUAL(decode_attrs(mb, SST_PIDF_ATTR_MAX + 1, &pd),
			EMSGSIZE);
	CU_ASSERT_EQUAL(decode_attrs(mb, 1000, &pd), EMSGSIZE);
	CU_ASSERT_TRUE(mb->end <= SST_PIDF_DOC_MAX);

	/* the same count on a child element */
	mbuf_reset(mb);
	mbuf_write_str(mb, "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" "
		       "entity=\"sip:x@y\"><tuple id=\"t\"");
	for (i = 1; i < SST_PIDF_ATTR_MAX + 1; i++)  /* and id */
		mbuf_printf(mb, " b%u=\"\"", i);
	mbuf_write_str(mb, "/></presence>");
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end),
			EMSGSIZE);
	mb->end -= strlen(" b64=\"\"/></presence>");
	mb->pos = mb->end;
	mbuf_write_str(mb, "/></presence>");  /* 64 on the tuple: read */
	CU_ASSERT_EQUAL(sst_pidf_decode(&pd, (char *)mb->buf, mb->end), 0);

	mem_deref(mb);
}

/* Every prefix of a valid document: refused or read, never a crash. */
static void test_truncation(void)
{
	static const char doc[] = LINPHONE("<rpid:away/>", "open");
	size_t l;

	for (l = 0; l < sizeof(doc) - 1; l++) {
		struct sst_pidf pd;
		char *copy = malloc(l + 1);
		int err;

		CU_ASSERT_FATAL(copy != NULL);
		memcpy(copy, doc, l);  /* exact length: ASan sees overreads */
		err = sst_pidf_decode(&pd, copy, l);
		CU_ASSERT(err == 0 || err == EBADMSG);
		free(copy);
	}
}

static CU_TestInfo pidf_tests[] = {
	{"status round trip", test_round_trip},
	{"status names", test_names},
	{"encode refusals", test_encode_refusals},
	{"client documents", test_clients},
	{"note cut on UTF-8 boundary", test_note_cut},
	{"hostile documents refused", test_refusals},
	{"DOCTYPE in UTF-16", test_doctype_utf16},
	{"size, element and depth caps", test_bounds},
	{"attributes per element capped", test_attr_bound},
	{"note cut where a space falls", test_note_cut_space},
	{"truncated documents", test_truncation},
	CU_TEST_INFO_NULL,
};

static CU_SuiteInfo suites[] = {
	{"sst_pidf", NULL, NULL, NULL, NULL, pidf_tests},
	CU_SUITE_INFO_NULL,
};

int main(void)
{
	return cutest_main(suites);
}
