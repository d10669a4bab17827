/*
 * fake_cn_xmpp.h -- what the fake streams (fake_cn_xmpp.c) recorded.
 */
#ifndef STC_FAKE_CN_XMPP_H
#define STC_FAKE_CN_XMPP_H

#include "connector/cn_xmpp.h"

enum { FAKE_XMPP_MAX = 64 };

struct fake_xmpp {
	struct cn_xmpp_handlers h;	/* the translation's */
	char xml[FAKE_XMPP_MAX][1024];	/* stanzas sent, in order */
	char comm[FAKE_XMPP_MAX][64];
	cn_xmpp_sent_h *senth[FAKE_XMPP_MAX];
	void *arg[FAKE_XMPP_MAX];
	size_t n;
	int fail;			/* cn_xmpp_send returns it */
};

extern struct fake_xmpp fake_xmpp;

void fake_xmpp_written(void);
void fake_xmpp_reset(void);

#endif
