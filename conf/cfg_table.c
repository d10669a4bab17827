/*
 * cfg_table.c -- the community file's field table: for every element,
 * its attributes (name, type, required or not, allowed values, default,
 * and the struct member it fills), its text, and its children (how
 * many, and where their values go).
 *
 * The loader (cfg_load.c) takes from here every attribute check
 * (unknown attribute, missing required one, bad value, each with
 * FILE:LINE), every default, and the extraction into struct cfg.
 * community.rng stays the published contract; test/conf/test_cfg.c
 * (test_table_schema) checks that it and this table name the same
 * elements and attributes with the same required-ness and values.
 *
 * Adding an attribute:
 *	1. its member in the record's struct in cfg.h;
 *	2. ONE row in the record's table below, e.g.
 *	     {"subscriptionsMax", F_COUNT, OPT, NULL,
 *	      O(cfg_gateway, subscriptions_max), 0, NULL},
 *	   (F_PATH for a file name, made absolute against the file's
 *	   directory; F_ENUM with a NULL-terminated value list stores the
 *	   index, F_ENUMS a mask of 1 << index);
 *	3. the same attribute in community.rng (the test fails until the
 *	   two agree), and its line in doc/community.xml.5 / the guide;
 *	4. a free() in cfg_free() for a string.
 * The type gives the range: F_PORT 1-65535, F_COUNT 0-4294967295,
 * F_TOKEN 1-64 of [A-Za-z0-9._-], F_TEXT and F_PATH 1-1024 characters.
 * Checks that span fields or records go to cfg_check.c.
 */
#include <stddef.h>

#include "conf/cfg_int.h"

#define O(st, m) offsetof(struct st, m)
#define REQ true
#define OPT false
#define F_END {NULL, F_NONE, false, NULL, 0, 0, NULL}
#define K_END {NULL, 0, 0, K_NONE, 0, 0, 0}
#define NOLINE CFG_NOLINE

/* Enum members are stored through an int. */
_Static_assert(sizeof(enum cfg_transport) == sizeof(int) &&
	       sizeof(enum cfg_dir_backend) == sizeof(int) &&
	       sizeof(enum cfg_scope) == sizeof(int) &&
	       sizeof(enum cfg_privacy) == sizeof(int) &&
	       sizeof(enum cfg_verify) == sizeof(int) &&
	       sizeof(enum cfg_protocol) == sizeof(int),
	       "enums are int-sized");

static const char *const e_transport[] = {"udp", "tcp", "tls", NULL};
static const char *const e_backend[] = {"file", "ldap", NULL};
static const char *const e_scope[] = {"base", "one", "sub", NULL};
static const char *const e_privacy[] = {"all", "domains", "none", NULL};
static const char *const e_protocol[] = {"sip", "xmpp", NULL};
static const char *const e_verify[] = {"none", "required", NULL};
static const char *const e_facility[] = {
	"local0", "local1", "local2", "local3", "local4", "local5",
	"local6", "local7", NULL,
};

static const struct cfg_field f_none[] = {F_END};

/* ---- rules of one record, run once it is read ------------------------ */

/* A listener's port defaults to its transport's. */
static void listen_done(void *rec, const char *file, struct cfg_diag *diag)
{
	struct cfg_listen *l = rec;

	(void)file;
	(void)diag;
	if (!l->port)
		l->port = l->tp == CFG_TP_TLS ? CFG_SIPS_PORT : CFG_SIP_PORT;
}

static void gateway_done(void *rec, const char *file, struct cfg_diag *diag)
{
	const struct cfg_gateway *gw = rec;

	if (gw->statefile && gw->statestore)
		cfg_diag_add(diag, file, gw->line, false, "CommunityGateway "
			     "\"%s\": stateFile and stateStore exclude each "
			     "other (one store per gateway)",
			     gw->name ? gw->name : "");
}

static void directory_done(void *rec, const char *file,
			   struct cfg_diag *diag)
{
	(void)file;
	(void)diag;
	((struct cfg_directory *)rec)->present = true;
}

static void tls_done(void *rec, const char *file, struct cfg_diag *diag)
{
	(void)file;
	(void)diag;
	((struct cfg_tls *)rec)->present = true;
}

static void audit_done(void *rec, const char *file, struct cfg_diag *diag)
{
	const struct cfg_audit *au = rec;

	if (au->enable && !au->file && au->facility < 0)
		cfg_diag_add(diag, file, au->line, false, "Audit: enabled, "
			     "but neither file nor syslogFacility is set");
}

/* subscriptionsMax is bounded by what the connector's table holds. */
/* The port's default depends on the protocol: 5060 for SIP, 5269 for
 * XMPP. */
static void extern_done(void *rec, const char *file, struct cfg_diag *diag)
{
	struct cfg_extern *ex = rec;

	if (!ex->port)
		ex->port = ex->protocol == CFG_PROTO_XMPP ? CFG_XMPP_PORT :
			CFG_SIP_PORT;

	if (ex->subs_max > CFG_SUBS_MAX)
		cfg_diag_add(diag, file, ex->line, false, "ExternCommunity "
			     "\"%s\": subscriptionsMax %u is above %u",
			     ex->name ? ex->name : "", ex->subs_max,
			     (unsigned)CFG_SUBS_MAX);
}

/* ---- Community ------------------------------------------------------- */

static const struct cfg_el el_domain = {"Domain", f_none, F_TEXT, NULL,
					NOLINE, NULL};
static const struct cfg_field f_community[] = {
	{"name", F_TOKEN, REQ, NULL, O(cfg_community, name), 0, NULL},
	F_END,
};
static const struct cfg_kid k_community[] = {
	{&el_domain, 1, 0, K_STRV, O(cfg_community, domains), 0, 0},
	K_END,
};
static const struct cfg_el el_community = {
	"Community", f_community, F_NONE, k_community,
	O(cfg_community, line), NULL,
};

/* ---- CommunityGateway ------------------------------------------------ */

/* Daemon settings shared by gateways and connectors. */
#define DAEMON_FIELDS(st) \
	{"control", F_PATH, OPT, NULL, O(st, control), 0, NULL}, \
	{"pidFile", F_PATH, OPT, NULL, O(st, pidfile), 0, NULL}, \
	{"user", F_TEXT, OPT, NULL, O(st, user), 0, NULL}, \
	{"controlGroup", F_TEXT, OPT, NULL, O(st, control_group), 0, NULL}, \
	{"metrics", F_TEXT, OPT, NULL, O(st, metrics), 0, NULL}, \
	{"retryInterval", F_COUNT, OPT, NULL, O(st, retry), \
	 CFG_RETRY_DEFAULT, NULL}

/* port 0 here: the transport's (listen_done) */
static const struct cfg_field f_listen[] = {
	{"transport", F_ENUM, REQ, e_transport, O(cfg_listen, tp),
	 CFG_TP_UDP, NULL},
	{"address", F_TEXT, REQ, NULL, O(cfg_listen, addr), 0, NULL},
	{"port", F_PORT, OPT, NULL, O(cfg_listen, port), 0, NULL},
	F_END,
};
static const struct cfg_el el_client_listen = {
	"ClientListen", f_listen, F_NONE, NULL, O(cfg_listen, line),
	listen_done,
};
static const struct cfg_el el_connector_listen = {
	"ConnectorListen", f_listen, F_NONE, NULL, O(cfg_listen, line),
	listen_done,
};
static const struct cfg_field f_gateway[] = {
	{"name", F_TOKEN, REQ, NULL, O(cfg_gateway, name), 0, NULL},
	{"SupportExternalCommunities", F_BOOL, OPT, NULL,
	 O(cfg_gateway, support_external), true, NULL},
	{"ConvertID", F_BOOL, OPT, NULL, O(cfg_gateway, convert_id), true,
	 NULL},
	{"stateFile", F_PATH, OPT, NULL, O(cfg_gateway, statefile), 0, NULL},
	{"stateStore", F_TEXT, OPT, NULL, O(cfg_gateway, statestore), 0,
	 NULL},
	DAEMON_FIELDS(cfg_gateway),
	F_END,
};
static const struct cfg_kid k_gateway[] = {
	{&el_client_listen, 1, 0, K_ARRAY, O(cfg_gateway, clients.v),
	 O(cfg_gateway, clients.n), sizeof(struct cfg_listen)},
	{&el_connector_listen, 1, 0, K_ARRAY, O(cfg_gateway, connectors.v),
	 O(cfg_gateway, connectors.n), sizeof(struct cfg_listen)},
	K_END,
};
static const struct cfg_el el_gateway = {
	"CommunityGateway", f_gateway, F_NONE, k_gateway,
	O(cfg_gateway, line), gateway_done,
};

/* ---- ExternCommunity ------------------------------------------------- */

static const struct cfg_field f_extern[] = {
	{"name", F_TOKEN, REQ, NULL, O(cfg_extern, name), 0, NULL},
	{"protocol", F_ENUM, OPT, e_protocol, O(cfg_extern, protocol),
	 CFG_PROTO_SIP, NULL},
	{"port", F_PORT, OPT, NULL, O(cfg_extern, port), 0, NULL},
	{"transport", F_ENUM, OPT, e_transport, O(cfg_extern, tp),
	 CFG_TP_TLS, NULL},
	{"acceptTransports", F_ENUMS, OPT, e_transport,
	 O(cfg_extern, accept_tp), 0, NULL},
	{"messageRate", F_COUNT, OPT, NULL, O(cfg_extern, message_rate), 0,
	 NULL},
	{"notifyRate", F_COUNT, OPT, NULL, O(cfg_extern, notify_rate), 0,
	 NULL},
	{"subscribeRate", F_COUNT, OPT, NULL, O(cfg_extern, subscribe_rate),
	 0, NULL},
	{"subscriptionsMax", F_COUNT, OPT, NULL, O(cfg_extern, subs_max), 0,
	 NULL},
	F_END,
};
static const struct cfg_el el_proxy = {"Proxy", f_none, F_TEXT, NULL,
				       NOLINE, NULL};
static const struct cfg_el el_allow_group = {"AllowGroup", f_none, F_TEXT,
					     NULL, NOLINE, NULL};
static const struct cfg_kid k_extern[] = {
	{&el_domain, 1, 0, K_STRV, O(cfg_extern, domains), 0, 0},
	{&el_proxy, 0, 1, K_STR, O(cfg_extern, proxy), 0, 0},
	{&el_allow_group, 0, 0, K_STRV, O(cfg_extern, allow_groups), 0, 0},
	K_END,
};
static const struct cfg_el el_extern = {
	"ExternCommunity", f_extern, F_NONE, k_extern, O(cfg_extern, line),
	extern_done,
};

/* ---- CommunityConnector ---------------------------------------------- */

static const struct cfg_field f_connector[] = {
	{"name", F_TOKEN, REQ, NULL, O(cfg_connector, name), 0, NULL},
	{"ip", F_TEXT, REQ, NULL, O(cfg_connector, ip), 0, NULL},
	{"port", F_PORT, OPT, NULL, O(cfg_connector, port), CFG_SIP_PORT,
	 NULL},
	{"tlsPort", F_PORT, OPT, NULL, O(cfg_connector, tls_port),
	 CFG_SIPS_PORT, NULL},
	{"xmppPort", F_PORT, OPT, NULL, O(cfg_connector, xmpp_port),
	 CFG_XMPP_PORT, NULL},
	{"xmppIdleTimeout", F_COUNT, OPT, NULL, O(cfg_connector, xmpp_idle),
	 CFG_XMPP_IDLE_S, NULL},
	{"advertise", F_TEXT, OPT, NULL, O(cfg_connector, advertise), 0,
	 NULL},
	{"advertiseIp", F_TEXT, OPT, NULL, O(cfg_connector, advertise_ip), 0,
	 NULL},
	{"maxConnections", F_COUNT, OPT, NULL, O(cfg_connector, max_conns), 0,
	 NULL},
	{"toposKey", F_PATH, OPT, NULL, O(cfg_connector, topos_key), 0, NULL},
	DAEMON_FIELDS(cfg_connector),
	F_END,
};
static const struct cfg_el el_gw_ref = {"Gateway", f_none, F_TOKEN, NULL,
					NOLINE, NULL};
static const struct cfg_field f_supported[] = {
	{"name", F_TOKEN, REQ, NULL, O(cfg_supported, community), 0, NULL},
	{"enabled", F_BOOL, OPT, NULL, O(cfg_supported, enabled), true, NULL},
	F_END,
};
static const struct cfg_el el_supported = {
	"SupportedCommunity", f_supported, F_NONE, NULL,
	O(cfg_supported, line), NULL,
};
static const struct cfg_kid k_connector[] = {
	{&el_gw_ref, 1, 0, K_STRV, O(cfg_connector, gateways), 0, 0},
	{&el_supported, 0, 0, K_ARRAY, O(cfg_connector, communities),
	 O(cfg_connector, ncommunities), sizeof(struct cfg_supported)},
	K_END,
};
static const struct cfg_el el_connector = {
	"CommunityConnector", f_connector, F_NONE, k_connector,
	O(cfg_connector, line), NULL,
};

/* ---- CommunityConnectivity ------------------------------------------- */

static const struct cfg_el el_trusted = {"TrustedIP", f_none, F_TEXT, NULL,
					 NOLINE, NULL};
static const struct cfg_kid k_connectivity[] = {
	{&el_trusted, 1, 0, K_STRV, O(cfg_connectivity, trusted_ips), 0, 0},
	K_END,
};
static const struct cfg_el el_connectivity = {
	"CommunityConnectivity", f_none, F_NONE, k_connectivity,
	O(cfg_connectivity, line), NULL,
};

/* ---- Directory: its children fill the same struct cfg_directory ------ */

static const struct cfg_el el_file = {"File", f_none, F_TEXT, NULL, NOLINE,
				      NULL};
static const struct cfg_field f_ldap[] = {
	{"bindDN", F_TEXT, OPT, NULL, O(cfg_directory, bind_dn), 0, NULL},
	{"passwordFile", F_PATH, OPT, NULL, O(cfg_directory, password_file),
	 0, NULL},
	{"caFile", F_PATH, OPT, NULL, O(cfg_directory, ca_file), 0, NULL},
	{"startTLS", F_BOOL, OPT, NULL, O(cfg_directory, starttls), false,
	 NULL},
	{"base", F_TEXT, REQ, NULL, O(cfg_directory, base), 0, NULL},
	{"scope", F_ENUM, OPT, e_scope, O(cfg_directory, scope),
	 CFG_SCOPE_SUB, NULL},
	{"filter", F_TEXT, OPT, NULL, O(cfg_directory, filter), 0, NULL},
	{"timeout", F_COUNT, OPT, NULL, O(cfg_directory, timeout_ms),
	 CFG_DIR_TIMEOUT_MS, NULL},
	F_END,
};
static const struct cfg_el el_url = {"Url", f_none, F_TEXT, NULL, NOLINE,
				     NULL};
static const struct cfg_kid k_ldap[] = {
	{&el_url, 1, 0, K_STRV, O(cfg_directory, urls), 0, 0},
	K_END,
};
static const struct cfg_el el_ldap = {"Ldap", f_ldap, F_NONE, k_ldap,
				      NOLINE, NULL};
static const struct cfg_field f_attrs[] = {
	{"id", F_TOKEN, OPT, NULL, O(cfg_directory, attr_id), 0, "uid"},
	{"email", F_TOKEN, OPT, NULL, O(cfg_directory, attr_email), 0,
	 "mail"},
	{"password", F_TOKEN, OPT, NULL, O(cfg_directory, attr_password), 0,
	 "userPassword"},
	{"privacy", F_TOKEN, OPT, NULL, O(cfg_directory, attr_privacy), 0,
	 NULL},
	{"member", F_TOKEN, OPT, NULL, O(cfg_directory, attr_member), 0,
	 "member"},
	F_END,
};
static const struct cfg_el el_attrs = {"Attributes", f_attrs, F_NONE, NULL,
				       NOLINE, NULL};
static const struct cfg_field f_privacy[] = {
	{"default", F_ENUM, REQ, e_privacy, O(cfg_directory, privacy),
	 CFG_PRIVACY_ALL, NULL},
	F_END,
};
static const struct cfg_el el_privacy = {"Privacy", f_privacy, F_NONE, NULL,
					 NOLINE, NULL};
static const struct cfg_field f_cache[] = {
	{"size", F_COUNT, OPT, NULL, O(cfg_directory, cache_size),
	 CFG_DIR_CACHE_SIZE, NULL},
	{"ttl", F_COUNT, OPT, NULL, O(cfg_directory, cache_ttl),
	 CFG_DIR_CACHE_TTL, NULL},
	{"negativeTtl", F_COUNT, OPT, NULL, O(cfg_directory, neg_ttl),
	 CFG_DIR_NEG_TTL, NULL},
	F_END,
};
static const struct cfg_el el_cache = {"Cache", f_cache, F_NONE, NULL,
				       NOLINE, NULL};
static const struct cfg_field f_directory[] = {
	{"backend", F_ENUM, REQ, e_backend, O(cfg_directory, backend),
	 CFG_DIR_FILE, NULL},
	{"answerTimeout", F_COUNT, OPT, NULL, O(cfg_directory, answer_ms),
	 CFG_DIR_ANSWER_MS, NULL},
	F_END,
};
static const struct cfg_kid k_directory[] = {
	{&el_file, 0, 1, K_PATH, O(cfg_directory, file), 0, 0},
	{&el_ldap, 0, 1, K_SAME, 0, 0, 0},
	{&el_attrs, 0, 1, K_SAME, 0, 0, 0},
	{&el_privacy, 0, 1, K_SAME, 0, 0, 0},
	{&el_cache, 0, 1, K_SAME, 0, 0, 0},
	K_END,
};
static const struct cfg_el el_directory = {
	"Directory", f_directory, F_NONE, k_directory,
	O(cfg_directory, line), directory_done,
};

/* ---- Tls, Trace, Audit, Dns ------------------------------------------ */

static const struct cfg_field f_tls[] = {
	{"certificate", F_PATH, REQ, NULL, O(cfg_tls, cert), 0, NULL},
	{"key", F_PATH, REQ, NULL, O(cfg_tls, key), 0, NULL},
	{"ca", F_PATH, OPT, NULL, O(cfg_tls, ca), 0, NULL},
	{"verify", F_ENUM, OPT, e_verify, O(cfg_tls, verify),
	 CFG_VERIFY_REQUIRED, NULL},
	F_END,
};
static const struct cfg_el el_tls = {"Tls", f_tls, F_NONE, NULL,
				     O(cfg_tls, line), tls_done};

static const struct cfg_field f_trace[] = {
	{"enable", F_BOOL, REQ, NULL, O(cfg_trace, enable), false, NULL},
	{"file", F_PATH, OPT, NULL, O(cfg_trace, file), 0, NULL},
	{"level", F_COUNT, OPT, NULL, O(cfg_trace, level), 1, NULL},
	{"community", F_TOKEN, OPT, NULL, O(cfg_trace, community), 0, NULL},
	{"user", F_TEXT, OPT, NULL, O(cfg_trace, user), 0, NULL},
	F_END,
};
static const struct cfg_el el_trace = {"Trace", f_trace, F_NONE, NULL,
				       O(cfg_trace, line), NULL};

static const struct cfg_field f_audit[] = {
	{"enable", F_BOOL, REQ, NULL, O(cfg_audit, enable), false, NULL},
	{"file", F_PATH, OPT, NULL, O(cfg_audit, file), 0, NULL},
	{"syslogFacility", F_ENUM, OPT, e_facility, O(cfg_audit, facility),
	 -1, NULL},
	{"bodies", F_BOOL, OPT, NULL, O(cfg_audit, bodies), false, NULL},
	F_END,
};
static const struct cfg_el el_audit = {"Audit", f_audit, F_NONE, NULL,
				       O(cfg_audit, line), audit_done};

/* timeout 0: the resolver's own default (sipstack/sst_dns.h) */
static const struct cfg_field f_dns[] = {
	{"timeout", F_COUNT, OPT, NULL, O(cfg_dns, timeout_ms), 0, NULL},
	{"serveStale", F_COUNT, OPT, NULL, O(cfg_dns, stale_s),
	 CFG_DNS_STALE_S, NULL},
	F_END,
};
static const struct cfg_el el_server = {"Server", f_none, F_TEXT, NULL,
					NOLINE, NULL};
static const struct cfg_kid k_dns[] = {
	{&el_server, 1, 0, K_STRV, O(cfg_dns, servers), 0, 0},
	K_END,
};
static const struct cfg_el el_dns = {"Dns", f_dns, F_NONE, k_dns,
				     O(cfg_dns, line), NULL};

/* ---- the file -------------------------------------------------------- */

static const struct cfg_kid k_root[] = {
	{&el_community, 1, 1, K_REC, O(cfg, community), 0, 0},
	{&el_gateway, 0, 0, K_ARRAY, O(cfg, gateways), O(cfg, ngateways),
	 sizeof(struct cfg_gateway)},
	{&el_extern, 0, 0, K_ARRAY, O(cfg, externs), O(cfg, nexterns),
	 sizeof(struct cfg_extern)},
	{&el_connector, 0, 0, K_ARRAY, O(cfg, connectors),
	 O(cfg, nconnectors), sizeof(struct cfg_connector)},
	{&el_connectivity, 0, 1, K_REC, O(cfg, connectivity), 0, 0},
	{&el_directory, 0, 1, K_REC, O(cfg, directory), 0, 0},
	{&el_tls, 0, 1, K_REC, O(cfg, tls), 0, 0},
	{&el_trace, 0, 1, K_REC, O(cfg, trace), 0, 0},
	{&el_dns, 0, 1, K_REC, O(cfg, dns), 0, 0},
	{&el_audit, 0, 1, K_REC, O(cfg, audit), 0, 0},
	K_END,
};
const struct cfg_el cfg_el_root = {
	"CommunityConfig", f_none, F_NONE, k_root, NOLINE, NULL,
};
