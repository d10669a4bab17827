/*
 * cfg.h -- the community config file, loaded into typed structures.
 *
 * Owns: the XML file's records (Community, CommunityGateway,
 *	ExternCommunity, CommunityConnector, CommunityConnectivity,
 *	Directory, Tls, Trace, Dns), their defaults (the field table of
 *	cfg_table.c, with the constants below), the RelaxNG schema
 *	compiled into the program, every check beyond the schema, and
 *	domain matching (exact or "*." wildcard).
 * Not here: anything that acts on the configuration (sockets, DNS
 *	lookups, LDAP).  This module uses libxml2 and the C library only.
 * Memory: cfg_load() returns one struct cfg that owns every string and
 *	array below it; cfg_free() releases all of it.  A reload builds a
 *	whole new struct cfg and the daemon swaps it in only when it loaded
 *	without a single error.
 *
 * Every record and field carries the line it came from, so that later
 * checks (and the daemons) can say FILE:LINE about it.
 */
#ifndef STC_CFG_H
#define STC_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* Default file and bounds, as named constants.  The directory is
 * configure's --sysconfdir (common.am passes it). */
#ifndef STC_SYSCONFDIR
#define STC_SYSCONFDIR     "/etc"
#endif
#define CFG_DEFAULT_PATH   STC_SYSCONFDIR "/stconnector/community.xml"
enum {
	CFG_FILE_MAX      = 1024 * 1024, /* bytes in a config file */
	CFG_DOMAIN_MAX    = 253,         /* RFC 1035 name length */
	CFG_LABEL_MAX     = 63,
	CFG_SIP_PORT      = 5060,
	CFG_SIPS_PORT     = 5061,
	CFG_XMPP_PORT     = 5269,        /* XMPP server-to-server, RFC 6120 */
	CFG_XMPP_IDLE_S   = 600,         /* quiet XMPP stream closed after */
	CFG_XMPP_IDLE_MIN = 5,           /* xmppIdleTimeout: 0 or from this */
	CFG_XMPP_IDLE_MAX = 86400,
	CFG_RETRY_DEFAULT = 60,          /* seconds between link retries */
	CFG_DNS_STALE_S   = 3600,        /* Dns serveStale when absent */
};

enum cfg_transport {
	CFG_TP_UDP = 0,
	CFG_TP_TCP,
	CFG_TP_TLS,
};

/* What an ExternCommunity speaks at the edge. */
enum cfg_protocol {
	CFG_PROTO_SIP = 0,
	CFG_PROTO_XMPP,
};

enum cfg_verify {
	CFG_VERIFY_NONE = 0,
	CFG_VERIFY_REQUIRED,
};

enum cfg_dir_backend {
	CFG_DIR_FILE = 0,  /* LDIF file: the embedded default */
	CFG_DIR_LDAP,
};

enum cfg_scope {
	CFG_SCOPE_BASE = 0,
	CFG_SCOPE_ONE,
	CFG_SCOPE_SUB,
};

/* Who may see a local user's presence from outside the community. */
enum cfg_privacy {
	CFG_PRIVACY_ALL = 0,     /* every external community */
	CFG_PRIVACY_DOMAINS,     /* only the domains the user lists */
	CFG_PRIVACY_NONE,        /* nobody outside */
};

/* A list of strings, each with the line it was read from. */
struct cfg_strv {
	char **v;
	unsigned *line;
	size_t n;
};

/* One listening (or target) address. */
struct cfg_listen {
	enum cfg_transport tp;
	char *addr;          /* numeric IPv4 or IPv6, no brackets */
	uint16_t port;
	unsigned line;
};

struct cfg_listenv {
	struct cfg_listen *v;
	size_t n;
};

/* Community: the local community, its name and DNS domains. */
struct cfg_community {
	char *name;
	struct cfg_strv domains;
	unsigned line;
};

/* CommunityGateway: one stgateway. */
struct cfg_gateway {
	char *name;
	bool support_external;       /* SupportExternalCommunities */
	bool convert_id;             /* ConvertID */
	struct cfg_listenv clients;  /* where local SIP clients connect */
	struct cfg_listenv connectors; /* where connectors reach it */
	char *control;               /* control socket path */
	char *pidfile;
	char *user;                  /* drop root to this user */
	char *control_group;         /* group that may use the socket */
	char *metrics;               /* "ip:port" of /metrics, or NULL */
	unsigned retry;              /* seconds between connector retries */
	char *statefile;             /* stateFile: the SQLite state store,
				      * or NULL: state in memory only */
	char *statestore;            /* stateStore: the PostgreSQL store
				      * shared by the community's
				      * gateways (libpq conninfo or
				      * postgresql:// URI), or NULL */
	unsigned line;
};

/* ExternCommunity: one federated community outside. */
struct cfg_extern {
	char *name;
	struct cfg_strv domains;  /* "acme.com" or "*.acme.com" */
	char *proxy;              /* proxy DNS name, or NULL */
	uint16_t port;            /* default CFG_SIP_PORT, CFG_XMPP_PORT
				   * for XMPP */
	enum cfg_transport tp;    /* default CFG_TP_TLS; unused for XMPP
				   * (TCP with STARTTLS, always) */
	enum cfg_protocol protocol; /* default CFG_PROTO_SIP */
	struct cfg_strv allow_groups; /* AllowGroup: directory groups whose
				   * members alone may federate with this
				   * community; none: every user */
	unsigned line;
	unsigned accept_tp;       /* acceptTransports: 1 << CFG_TP_x each,
				   * 0 when absent */
	unsigned message_rate;    /* MESSAGEs per second each way, 0: none */
	unsigned notify_rate;     /* NOTIFY and PUBLISH per second each way */
	unsigned subscribe_rate;  /* new SUBSCRIBE dialogs per second each way */
	unsigned subs_max;        /* subscriptionsMax: subscription dialogs
				   * held at once each way, 0: none */
};

/* The largest subscriptionsMax: what the connector's table can hold. */
enum { CFG_SUBS_MAX = 100000 };

/* One community a connector supports, enabled or not. */
struct cfg_supported {
	char *community;          /* an ExternCommunity name */
	bool enabled;
	unsigned line;
};

/* CommunityConnector: one stconnector. */
struct cfg_connector {
	char *name;
	char *ip;                 /* bind address, also the source address */
	char *advertise;          /* public host name or address written in
				   * Via, Record-Route, Contact (static
				   * NAT); NULL: advertise_ip, else ip */
	char *advertise_ip;       /* public address partners see (static
				   * NAT): check --dns compares our records
				   * with it; NULL: ip */
	uint16_t port;            /* UDP and TCP, default 5060 */
	uint16_t tls_port;        /* TLS, default 5061 */
	uint16_t xmpp_port;       /* XMPP server-to-server listener,
				   * default 5269; opened only when an
				   * XMPP community is supported */
	uint32_t xmpp_idle;       /* xmppIdleTimeout: seconds a stream may
				   * hear nothing before we close it,
				   * default 600; 0: never */
	struct cfg_strv gateways; /* CommunityGateway names it serves */
	struct cfg_supported *communities;
	size_t ncommunities;
	char *control;            /* control socket path */
	char *pidfile;
	char *user;               /* drop root to this user */
	char *control_group;      /* group that may use the socket */
	char *metrics;            /* "ip:port" of /metrics, or NULL */
	unsigned retry;           /* seconds between link retries */
	unsigned max_conns;       /* inbound TCP/TLS cap; 0: the budget's */
	char *topos_key;          /* toposKey: absolute path of the key
				   * that seals topology-hiding tokens,
				   * made at start when absent; NULL: a
				   * key for this process only */
	unsigned line;
};

/* CommunityConnectivity: the connectors a gateway accepts. */
struct cfg_connectivity {
	struct cfg_strv trusted_ips;
	unsigned line;
};

/* Directory defaults: the one definition.  The loader fills them in when
 * the file says nothing, and the directory uses them for a zero field of
 * a struct it is given (as the tests build them), so both agree.  A
 * cache_size of 0 given to the directory means no cache. */
enum {
	CFG_DIR_CACHE_SIZE = 10000,  /* entries */
	CFG_DIR_CACHE_TTL  = 300,    /* seconds */
	CFG_DIR_NEG_TTL    = 60,     /* seconds for "no such user" */
	CFG_DIR_TIMEOUT_MS = 2000,   /* per LDAP operation */
	CFG_DIR_ANSWER_MS  = 5000,   /* a request waiting on the directory is
				      * answered 503 by then: well under
				      * Timer F (32 s) */
};

/* Directory: where local IDs, emails and credentials live. */
struct cfg_directory {
	enum cfg_dir_backend backend;
	char *file;               /* LDIF file (backend file) */
	struct cfg_strv urls;     /* ldap:// or ldaps:// URLs, in order */
	bool starttls;
	char *bind_dn;
	char *password_file;      /* secret: owner-only */
	char *ca_file;
	char *base;
	enum cfg_scope scope;
	char *filter;             /* extra filter ANDed to each lookup */
	char *attr_id;            /* default "uid" */
	char *attr_email;         /* default "mail" */
	char *attr_password;      /* default "userPassword" */
	char *attr_privacy;       /* per-user privacy attribute, or NULL */
	char *attr_member;        /* group membership, default "member" */
	enum cfg_privacy privacy; /* default when the user has none */
	unsigned cache_size;      /* entries, 0: no cache */
	unsigned cache_ttl;       /* seconds, 0: CFG_DIR_CACHE_TTL */
	unsigned neg_ttl;         /* seconds for "no such user", 0: default */
	unsigned timeout_ms;      /* per LDAP operation, 0: default */
	unsigned answer_ms;       /* gateway: a request waiting on the
				   * directory is answered 503 after this;
				   * 0: CFG_DIR_ANSWER_MS */
	bool present;             /* the record was in the file */
	unsigned line;
};

/* Tls: this deployment's certificate, key and trust anchors. */
struct cfg_tls {
	char *cert;
	char *key;                /* secret: owner-only */
	char *ca;
	enum cfg_verify verify;
	bool present;
	unsigned line;
};

/* Trace: write every SIP message to a file, credentials masked;
 * scoped to one ExternCommunity or one user address when either is
 * set (at most one). */
struct cfg_trace {
	bool enable;
	char *file;
	unsigned level;
	char *community;          /* an ExternCommunity name, or NULL */
	char *user;               /* "user@domain" (sip: optional), or NULL */
	unsigned line;
};

/* Audit: one JSON line per federated event, written by the connector
 * to a file and/or to syslog.  Off unless the record says enable. */
struct cfg_audit {
	bool enable;
	char *file;               /* absolute path, or NULL */
	int facility;             /* syslogFacility local0..7 as 0..7, or -1 */
	bool bodies;              /* keep MESSAGE bodies (default no) */
	unsigned line;
};

/* Dns: resolver for federation names; none means the system's. */
struct cfg_dns {
	struct cfg_strv servers;  /* "ip" or "ip:port" / "[v6]:port" */
	unsigned timeout_ms;      /* our own deadline per lookup; 0: the
				   * resolver's default (SST_DNS_TIMEOUT_MS) */
	unsigned stale_s;         /* serveStale: s an expired answer is
				   * still used while refreshes fail */
	unsigned line;
};

struct cfg {
	char *path;
	time_t loaded;
	struct cfg_community community;
	struct cfg_gateway *gateways;
	size_t ngateways;
	struct cfg_extern *externs;
	size_t nexterns;
	struct cfg_connector *connectors;
	size_t nconnectors;
	struct cfg_connectivity connectivity;
	struct cfg_directory directory;
	struct cfg_tls tls;
	struct cfg_trace trace;
	struct cfg_dns dns;
	struct cfg_audit audit;
};

/*
 * Problems found while loading, each "FILE:LINE: message".  A load
 * reports every problem it can find, not just the first.
 */
struct cfg_diag {
	char **msg;
	size_t n;
	size_t nerr;    /* how many of them are errors (the rest warn) */
};

/*
 * Load and check PATH.  0 and *cfgp set when the file has no error (it
 * may have warnings, in diag); EBADMSG when it has errors, all of them
 * in diag; ENOENT, EACCES, ... when it cannot be read; EFBIG when it is
 * larger than CFG_FILE_MAX.  Relative paths inside the file are made
 * absolute against the directory of PATH.
 */
int  cfg_load(struct cfg **cfgp, const char *path, struct cfg_diag *diag);
/*
 * Like cfg_load(), but a file that parses as XML and has errors still
 * gives what could be read: EBADMSG with *cfgp set.  Only for finding
 * things the daemon needs to be reached (its control socket); never
 * run with such a configuration.
 */
int  cfg_load_partial(struct cfg **cfgp, const char *path,
		      struct cfg_diag *diag);
void cfg_free(struct cfg *cfg);
void cfg_diag_reset(struct cfg_diag *diag);
void cfg_diag_print(const struct cfg_diag *diag, FILE *f);
/* After a failed load: the file's FILE:LINE errors on f, or when it
 * gave none the system's reason, "[PROG: ]PATH: reason"; diag is
 * reset.  prog may be NULL. */
void cfg_diag_fail(FILE *f, const char *prog, const char *path,
		   struct cfg_diag *diag, int err);
/*
 * cfg_load() for a program at the terminal: every problem goes to f as
 * FILE:LINE: message, or "prog: path: reason" when the file could not
 * be read at all.  Returns cfg_load()'s result.
 */
int  cfg_load_print(struct cfg **cfgp, const char *path, const char *prog,
		    FILE *f);

/*
 * A control client's search for the daemon's socket (cfg_ctl.c): load
 * path even when it has errors (cfg_load_partial), pick the record with
 * pickh, copy its control attribute into buf.  Every problem goes to
 * stderr as "prog: ..."; returns 0, or 1 (the programs' failure
 * status).  With hold, the file's problems wait in held and
 * cfg_ctl_done() prints them only when the daemon did not answer (its
 * reload answer lists them).  The shapes fit struct dmn_cli_ctl's hooks
 * with arg = the struct cfg_ctl_find.
 */
typedef int (cfg_self_ctl_h)(const struct cfg *cfg, const char *name,
			     const char **controlp, const char **recnamep,
			     const char **whyp);

struct cfg_ctl_find {
	const char *prog;	/* "stconnector" */
	const char *record;	/* "CommunityConnector" */
	cfg_self_ctl_h *pickh;
	struct cfg_diag held;
};

int  cfg_ctl_find(char *buf, size_t size, const char *path,
		  const char *name, bool hold, void *arg);
void cfg_ctl_done(bool answered, void *arg);

/* Domain matching: exact or "*." wildcard, case-insensitive. */
bool cfg_domain_match(const char *pattern, const char *domain);
const struct cfg_extern *cfg_extern_find(const struct cfg *cfg,
					 const char *domain);
bool cfg_domain_is_local(const struct cfg *cfg, const char *domain);

/* Look-ups by name; NULL when absent. */
const struct cfg_connector *cfg_connector_find(const struct cfg *cfg,
					       const char *name);
const struct cfg_gateway *cfg_gateway_find(const struct cfg *cfg,
					   const char *name);
const struct cfg_supported *cfg_supported_find(const struct cfg_connector *cn,
					       const char *community);

/* The ExternCommunity a Trace record is scoped to, or NULL. */
const struct cfg_extern *cfg_trace_extern(const struct cfg *cfg);

const char *cfg_transport_name(enum cfg_transport tp);

/* Transport masks: one CFG_TP_BIT() per transport.  A community is
 * accepted on its configured transport, every stronger one (udp < tcp <
 * tls) and what its acceptTransports adds; TLS always. */
#define CFG_TP_BIT(tp) (1u << (unsigned)(tp))
unsigned cfg_accepted_transports(const struct cfg_extern *ex);
/* mask as "udp tcp tls" (weakest first) in buf; returns buf */
const char *cfg_transports_str(unsigned mask, char *buf, size_t size);

/* Whether two optional settings differ (NULL equals only NULL): what a
 * reload compares to say what needs a restart. */
bool cfg_str_differ(const char *a, const char *b);
const char *cfg_privacy_name(enum cfg_privacy p);
const char *cfg_scope_name(enum cfg_scope s);

#endif /* STC_CFG_H */
