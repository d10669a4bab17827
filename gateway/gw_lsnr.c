/*
 * gw_lsnr.c -- the listeners from the services' side (gw_lsnr.h): the
 * one for a flow, our Contact there, sending and replying from it, a
 * flow written as text for the state store and read back.
 */
#include <errno.h>
#include <string.h>

#include <re.h>

#include "sipstack/sst_flow.h"
#include "gateway/gw.h"
#include "gateway/gw_out.h"
#include "gateway/gw_lsnr.h"

const struct gw_lsnr *gw_lsnr_for(const struct gw *gw, enum sst_tp tp,
				  const struct sa *laddr)
{
	const struct gw_lsnr *any = NULL, *ip = NULL;
	struct le *le;

	/* the exact address, else one on the same IP, else any client
	 * listener of that transport */
	for (le = gw ? gw->lsnrs.head : NULL; le; le = le->next) {
		const struct gw_lsnr *l = le->data;

		if (l->tp != tp)
			continue;
		if (!any && !l->fed)
			any = l;
		if (laddr && sa_cmp(&l->addr, laddr, SA_ALL))
			return l;
		if (!ip && laddr && sa_cmp(&l->addr, laddr, SA_ADDR))
			ip = l;
	}
	return ip ? ip : any;
}

/* Our Contact for a flow: the listener address the flow arrived on. */
int gw_contact_uri(const struct gw *gw, char *buf, size_t sz,
		   const struct sst_flow *fl)
{
	const struct gw_lsnr *l;

	l = gw_lsnr_for(gw, fl->tp, &fl->dst);
	if (!l)
		return ENOENT;
	if (re_snprintf(buf, sz, "sip:%J%s", &l->addr,
			gw_uri_tp_param(fl->tp)) < 0)
		return EMSGSIZE;
	return 0;
}

int gw_send_request(struct gw *gw, const struct gw_out_path *path,
		    const struct gw_out_req *req, gw_resp_h *resph,
		    void *arg, struct sst_ctrans **ctp)
{
	struct gw_out_path p;
	const struct gw_lsnr *l;

	if (!gw || !path)
		return EINVAL;
	l = gw_lsnr_for(gw, path->tp, path->laddr);
	if (!l)
		return ENOENT;
	p = *path;
	p.laddr = &l->addr;	/* sent-by and Contact: the listener's */
	return gw_out_request(gw->tstk, &p, req, resph, arg, ctp);
}

void gw_store_flow_text(const struct sst_flow *fl, char *tp, size_t tpsz,
			char *src, char *dst, size_t addrsz)
{
	tp[0] = src[0] = dst[0] = '\0';
	if (!fl)
		return;
	str_ncpy(tp, sst_tp_name(fl->tp), tpsz);
	re_snprintf(src, addrsz, "%J", &fl->src);
	if (sa_isset(&fl->dst, SA_ALL))
		re_snprintf(dst, addrsz, "%J", &fl->dst);
}

static int addr_of(struct sa *sa, const char *s)
{
	if (!s || !s[0])
		return EINVAL;
	return sa_decode(sa, s, strlen(s));
}

/* A flow back to a restored client: ENOTCONN for a stream transport
 * (its connection is gone), EADDRNOTAVAIL when no listener of ours
 * can send from there any more. */
int gw_store_flow(struct sst_flow **flp, struct gw *gw, const char *tp,
		  const char *src, const char *dst)
{
	const struct gw_lsnr *l;
	struct sa s, d;

	if (!flp || !gw || !tp)
		return EINVAL;
	if (strcmp(tp, "udp"))
		return ENOTCONN;
	if (addr_of(&s, src) || addr_of(&d, dst))
		return EINVAL;
	l = gw_lsnr_for(gw, SST_TP_UDP, &d);
	if (!l || !sa_cmp(&l->addr, &d, SA_ADDR))
		return EADDRNOTAVAIL;
	return sst_flow_alloc_udp(flp, gw->tp, &s, &l->addr);
}
