/*
 * gw_allow.c -- who may federate with an external community: the
 * ExternCommunity record's AllowGroup rule.
 *
 * The rule lives on ExternCommunity (not on a connector's
 * SupportedCommunity) because the gateway is the one that knows local
 * users and reads the directory: every connector of the community then
 * applies the same rule, and a connector never needs the directory.
 *
 * An ExternCommunity with no AllowGroup lets every local user federate
 * with it.  With one or more, only members of at least one of the
 * groups may send to it, subscribe to its users, or be reached from it
 * (MESSAGE and new SUBSCRIBE coming in); everybody else gets 403
 * "Federation not permitted for this user".  A group is named by its
 * DN (groupOfNames entry, members in the Directory member attribute)
 * or by its cn; the LDIF backend reads the same entries.  Membership
 * comes from dir_members_of(): cached with the Directory cache TTL, and
 * never on the loop thread, so a change in the directory is honoured
 * once the cached answer expires.  A group that does not exist has no
 * members (logged, counted as "no-such-group"); a directory that does
 * not answer is a temporary refusal (503 "Directory Unavailable",
 * Retry-After: 5), never a 403.
 *
 * Refusals are counted per community and reason (status: federation
 * -> federation_policy) and each refused user is listed under
 * cannot_federate with the community and the reason, like a user
 * without an email address.
 *
 * In-dialog requests of a subscription already accepted are not
 * checked again: the rule applies when a subscription or message
 * starts.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <re.h>

#include "gateway/gw.h"
#include "gateway/gw_allow.h"
#include "gateway/gw_req.h"

enum {
	GW_ALLOW_USERS_MAX = 64,   /* users listed as refused */
};

/* Refusals of one community, by reason. */
struct gw_allow_cnt {
	struct le le;
	char community[CFG_LABEL_MAX + 2];
	uint64_t not_in_group_out;   /* local user sending / subscribing */
	uint64_t not_in_group_in;    /* local user reached from outside */
	uint64_t no_such_group;      /* an AllowGroup the directory lacks */
	uint64_t dir_unavailable;    /* answered 503 */
	uint64_t allowed;            /* checked and let through */
};

/* A user refused, for the cannot_federate list. */
struct gw_allow_user {
	struct le le;
	char user[DIR_KEY_MAX + 1];
	char community[CFG_LABEL_MAX + 2];
	char reason[GW_TEXT_MAX];
	uint64_t refusals;
};

static const char *user_of(const struct gw_req *rq)
{
	return rq->allow_in ? rq->target : rq->user;
}

/* The external community of rq: its Request-URI host (outbound) or its
 * From host (inbound), looked up afresh at each step so that a reload
 * while a lookup is out is honoured and never leaves a stale pointer. */
static const struct cfg_extern *extern_of(const struct gw_req *rq)
{
	const struct pl *h = rq->allow_in ? &rq->msg->from.uri.host :
		&rq->msg->uri.host;
	char dom[CFG_DOMAIN_MAX + 1];

	if (!h->l || h->l > CFG_DOMAIN_MAX || pl_strcpy(h, dom, sizeof(dom)))
		return NULL;
	return cfg_extern_find(rq->gw->cfg, dom);
}

static struct gw_allow_cnt *cnt_of(struct gw *gw, const char *community)
{
	struct gw_allow_cnt *c;
	struct le *le;

	for (le = gw->allow_cnt.head; le; le = le->next) {
		c = le->data;
		if (!strcmp(c->community, community))
			return c;
	}
	c = mem_zalloc(sizeof(*c), NULL);
	if (!c)
		return NULL;
	str_ncpy(c->community, community, sizeof(c->community));
	list_append(&gw->allow_cnt, &c->le, c);
	return c;
}

static void user_note(struct gw *gw, const char *user, const char *community,
		      const char *reason)
{
	static struct dmn_ratelim rl = DMN_RATELIM_INIT(10, 60000);
	struct gw_allow_user *u;
	struct le *le;

	for (le = gw->allow_users.head; le; le = le->next) {
		u = le->data;
		if (!strcmp(u->user, user) && !strcmp(u->community, community)) {
			u->refusals++;
			str_ncpy(u->reason, reason, sizeof(u->reason));
			return;
		}
	}
	dmn_log_rl(&rl, DMN_LOG_INFO, "gw: federation not permitted "
		   "user=%s community=%s reason=%s", user, community, reason);
	if (list_count(&gw->allow_users) >= GW_ALLOW_USERS_MAX)
		mem_deref(list_head(&gw->allow_users)->data);
	u = mem_zalloc(sizeof(*u), NULL);
	if (!u)
		return;
	str_ncpy(u->user, user, sizeof(u->user));
	str_ncpy(u->community, community, sizeof(u->community));
	str_ncpy(u->reason, reason, sizeof(u->reason));
	u->refusals = 1;
	list_append(&gw->allow_users, &u->le, u);
}

static void refuse(struct gw_req *rq, const struct cfg_extern *x)
{
	struct gw *gw = rq->gw;
	struct gw_allow_cnt *c = cnt_of(gw, x->name ? x->name : "-");
	const bool sub = !pl_strcmp(&rq->msg->met, "SUBSCRIBE");

	if (c) {
		if (rq->allow_in)
			c->not_in_group_in++;
		else
			c->not_in_group_out++;
	}
	user_note(gw, user_of(rq), x->name ? x->name : "-",
		  rq->allow_in ? "not-in-group (reached from outside)" :
		  "not-in-group");
	if (sub)
		gw->c.sub_refused++;
	if (!rq->allow_in)
		gw->c.ext_refused++;
	gw_req_answer(rq, 403, "Federation not permitted for this user",
		      NULL);
}

static void step(struct gw_req *rq);

static void members_h(const struct dir_result *res, void *arg)
{
	struct gw_req *rq = arg;
	struct gw *gw = rq->gw;
	const struct cfg_extern *x;
	struct gw_allow_cnt *c;
	size_t i;

	list_unlink(&rq->le);
	x = extern_of(rq);
	if (res->err == 0) {
		for (i = 0; i < res->nlist; i++) {
			if (strcasecmp(res->list[i], user_of(rq)))
				continue;
			c = x ? cnt_of(gw, x->name ? x->name : "-") : NULL;
			if (c)
				c->allowed++;
			rq->allow_next(rq);
			return;
		}
	}
	else if (res->err == ENOENT) {
		static struct dmn_ratelim rl = DMN_RATELIM_INIT(5, 60000);

		c = x ? cnt_of(gw, x->name ? x->name : "-") : NULL;
		if (c)
			c->no_such_group++;
		dmn_log_rl(&rl, DMN_LOG_WARN, "gw: AllowGroup not found "
			   "group=%s community=%s: it has no members",
			   res->key, x && x->name ? x->name : "-");
	}
	else {
		c = x ? cnt_of(gw, x->name ? x->name : "-") : NULL;
		if (c)
			c->dir_unavailable++;
		gw->c.dir_unavailable++;
		gw_req_answer(rq, 503, "Directory Unavailable",
			      "Retry-After: 5\r\n");
		return;
	}
	rq->allow_i++;
	step(rq);
}

static void step(struct gw_req *rq)
{
	struct gw *gw = rq->gw;
	const struct cfg_extern *x = extern_of(rq);
	struct pl g;
	int err;


	if (!x || !x->allow_groups.n) {
		rq->allow_next(rq);
		return;
	}
	if (rq->allow_i >= x->allow_groups.n) {
		refuse(rq, x);
		return;
	}
	pl_set_str(&g, x->allow_groups.v[rq->allow_i]);
	list_append(&gw->pending, &rq->le, rq);
	err = dir_members_of(gw->dir, &g, members_h, rq);
	if (err) {
		list_unlink(&rq->le);
		gw_req_answer(rq, 500, "Server Internal Error", NULL);
	}
}

void gw_allow_check(struct gw_req *rq, bool inbound, gw_req_h *next)
{
	rq->allow_in = inbound;
	rq->allow_i = 0;
	rq->allow_next = next;
	step(rq);
}

void gw_allow_close(struct gw *gw)
{
	list_flush(&gw->allow_cnt);
	list_flush(&gw->allow_users);
}

void gw_allow_status(struct dmn_st *fed, struct dmn_st *cannot,
		     const struct gw *gw)
{
	struct dmn_st *l, *it;
	struct le *le;
	size_t i;

	for (le = gw->allow_users.head; le; le = le->next) {
		const struct gw_allow_user *u = le->data;

		it = dmn_st_item(cannot);
		dmn_st_str(it, "user", u->user);
		dmn_st_str(it, "community", u->community);
		dmn_st_str(it, "reason", u->reason);
		dmn_st_int(it, "refusals", (int64_t)u->refusals);
	}
	l = dmn_st_list(fed, "federation_policy");
	for (i = 0; i < gw->cfg->nexterns; i++) {
		const struct cfg_extern *x = &gw->cfg->externs[i];
		const struct gw_allow_cnt *c = NULL;
		char groups[512] = "";
		size_t g, off = 0;

		for (le = gw->allow_cnt.head; le; le = le->next) {
			const struct gw_allow_cnt *k = le->data;

			if (x->name && !strcmp(k->community, x->name))
				c = k;
		}
		for (g = 0; g < x->allow_groups.n; g++) {
			(void)re_snprintf(groups + off, sizeof(groups) - off,
					  "%s%s", g ? "; " : "",
					  x->allow_groups.v[g]);
			off = strlen(groups);
		}
		it = dmn_st_item(l);
		dmn_st_str(it, "community", x->name ? x->name : "-");
		dmn_st_str(it, "allow_groups", x->allow_groups.n ? groups :
			   "(every user)");
		dmn_st_int(it, "allowed", c ? (int64_t)c->allowed : 0);
		dmn_st_int(it, "not_in_group_out",
			   c ? (int64_t)c->not_in_group_out : 0);
		dmn_st_int(it, "not_in_group_in",
			   c ? (int64_t)c->not_in_group_in : 0);
		dmn_st_int(it, "no_such_group",
			   c ? (int64_t)c->no_such_group : 0);
		dmn_st_int(it, "directory_unavailable",
			   c ? (int64_t)c->dir_unavailable : 0);
	}
}
