/*
 * fake_cn_xmpp.c -- the streams' side of cn_xmpp.h as a test sees it:
 * cn_xmpp_send() writes nothing, it records each stanza as the XML the
 * stream would write and keeps its fate handler for the test to call;
 * the test plays the XMPP community through the handlers it was given.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "xmpp/xmpp.h"
#include "daemon/dmn.h"
#include "connector/cn_xmpp.h"
#include "connector/fake_cn_xmpp.h"

struct fake_xmpp fake_xmpp;

struct cn_xmpp {
	int dummy;
};

int cn_xmpp_alloc(struct cn_xmpp **xp, struct cn_px *px,
		  const struct cn_xmpp_handlers *h)
{
	struct cn_xmpp *x;

	(void)px;
	if (!xp || !h)
		return EINVAL;
	x = mem_zalloc(sizeof(*x), NULL);
	if (!x)
		return ENOMEM;
	fake_xmpp.h = *h;
	*xp = x;
	return 0;
}

int cn_xmpp_send(struct cn_xmpp *x, const char *comm,
		 const struct xmpp_el *stanza, cn_xmpp_sent_h *senth,
		 void *arg)
{
	struct mbuf *mb;
	size_t i;

	if (!x || !comm || !stanza || !senth)
		return EINVAL;
	if (fake_xmpp.fail)
		return fake_xmpp.fail;
	if (fake_xmpp.n >= FAKE_XMPP_MAX)
		return ENOMEM;
	i = fake_xmpp.n++;
	mb = mbuf_alloc(512);
	if (!mb || xmpp_el_encode(mb, stanza, XMPP_NS_SERVER)) {
		mem_deref(mb);
		return ENOMEM;
	}
	(void)re_snprintf(fake_xmpp.xml[i], sizeof(fake_xmpp.xml[i]), "%b",
			  mb->buf, mb->end);
	mem_deref(mb);
	str_ncpy(fake_xmpp.comm[i], comm, sizeof(fake_xmpp.comm[i]));
	fake_xmpp.senth[i] = senth;
	fake_xmpp.arg[i] = arg;
	return 0;
}

int cn_xmpp_apply(struct cn_xmpp *x)
{
	(void)x;
	return 0;
}

struct dmn_st *cn_xmpp_status(struct cn_xmpp *x, struct dmn_st *root)
{
	(void)x;
	return dmn_st_section(root, "xmpp");
}

/* Tell every stanza not told yet that it was written. */
void fake_xmpp_written(void)
{
	size_t i;

	for (i = 0; i < fake_xmpp.n; i++) {
		cn_xmpp_sent_h *h = fake_xmpp.senth[i];

		fake_xmpp.senth[i] = NULL;
		if (h)
			h(0, fake_xmpp.arg[i]);
	}
}

void fake_xmpp_reset(void)
{
	fake_xmpp_written();
	fake_xmpp.n = 0;
	fake_xmpp.fail = 0;
}
