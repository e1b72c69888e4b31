/* GET /domains/{domain}/dns: the records a hosted domain's zone needs, for the
 * admin to copy into it. Nothing here is queried from DNS: this is what the
 * zone should hold, built from the mail host name and the domain's DKIM keys. */
#include "buf.h"
#include "db.h"
#include "handlers.h"
#include "names.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define DNS_TTL 3600
#define DNS_TEXT_MAX 1024 /* an expanded name or value; the longest is a DKIM TXT */
#define DNS_MX_PREFERENCE 10
#define DNS_STS_ID_SIZE 15 /* YYYYMMDDhhmmss */

typedef enum { DNS_MX, DNS_TXT, DNS_CNAME, DNS_SRV } dns_type;

static const char *const dns_type_names[] = {
    [DNS_MX] = "MX", [DNS_TXT] = "TXT", [DNS_CNAME] = "CNAME", [DNS_SRV] = "SRV"};

/* A fixed record. In name and data "{d}" is the domain (A-label), "{h}" the
 * mail host with its trailing dot and "{id}" the MTA-STS policy id. data is
 * the TXT text, or the CNAME, MX or SRV target. */
typedef struct dns_fixed {
    dns_type type;
    const char *name; /* without the trailing dot */
    const char *data;
    int priority;            /* MX preference; SRV priority */
    int weight;              /* SRV */
    int port;                /* SRV */
    const char *purpose;     /* a stable code, for programs */
    const char *description; /* for people */
} dns_fixed;

/* Before the DKIM keys. */
static const dns_fixed dns_head[] = {
    {DNS_MX, "{d}", "{h}", DNS_MX_PREFERENCE, 0, 0, "mx", "Mail exchanger"},
    {DNS_TXT, "{d}", "v=spf1 mx -all", 0, 0, 0, "spf",
     "SPF: only the domain's MX hosts send its mail"},
};

/* After the DKIM keys. */
static const dns_fixed dns_tail[] = {
    {DNS_TXT, "_dmarc.{d}", "v=DMARC1; p=quarantine; adkim=s; aspf=s; rua=mailto:postmaster@{d}", 0,
     0, 0, "dmarc", "DMARC policy (RFC 7489)"},
    {DNS_TXT, "_mta-sts.{d}", "v=STSv1; id={id}", 0, 0, 0, "mta-sts",
     "MTA-STS policy id (RFC 8461)"},
    {DNS_CNAME, "mta-sts.{d}", "{h}", 0, 0, 0, "mta-sts", "MTA-STS policy host (RFC 8461)"},
    {DNS_TXT, "_smtp._tls.{d}", "v=TLSRPTv1; rua=mailto:tlsrpt@{d}", 0, 0, 0, "tls-rpt",
     "SMTP TLS reporting (RFC 8460)"},
    {DNS_CNAME, "autoconfig.{d}", "{h}", 0, 0, 0, "autoconfig",
     "Mail client autoconfiguration (Thunderbird)"},
    {DNS_CNAME, "autodiscover.{d}", "{h}", 0, 0, 0, "autodiscover",
     "Mail client autodiscovery (Outlook)"},
    {DNS_SRV, "_autodiscover._tcp.{d}", "{h}", 0, 1, 443, "autodiscover",
     "Autodiscover service (Outlook)"},
    /* RFC 6186 and RFC 8314: implicit TLS and STARTTLS both offered. */
    {DNS_SRV, "_submissions._tcp.{d}", "{h}", 0, 1, 465, "mail-srv",
     "Mail submission over TLS (RFC 8314)"},
    {DNS_SRV, "_submission._tcp.{d}", "{h}", 0, 1, 587, "mail-srv",
     "Mail submission with STARTTLS (RFC 6186)"},
    {DNS_SRV, "_imaps._tcp.{d}", "{h}", 0, 1, 993, "mail-srv", "IMAP over TLS (RFC 8314)"},
    {DNS_SRV, "_imap._tcp.{d}", "{h}", 0, 1, 143, "mail-srv", "IMAP with STARTTLS (RFC 6186)"},
    /* RFC 6186 3.4: a higher priority number makes IMAP the preferred access. */
    {DNS_SRV, "_pop3s._tcp.{d}", "{h}", 10, 1, 995, "mail-srv", "POP3 over TLS (RFC 8314)"},
    {DNS_SRV, "_pop3._tcp.{d}", "{h}", 10, 1, 110, "mail-srv", "POP3 with STARTTLS (RFC 6186)"},
    /* RFC 6764 sections 3 and 4. */
    {DNS_SRV, "_caldavs._tcp.{d}", "{h}", 0, 1, 443, "dav-srv", "CalDAV over TLS (RFC 6764)"},
    {DNS_TXT, "_caldavs._tcp.{d}", "path=/.well-known/caldav", 0, 0, 0, "dav-txt",
     "CalDAV context path (RFC 6764)"},
    {DNS_SRV, "_carddavs._tcp.{d}", "{h}", 0, 1, 443, "dav-srv", "CardDAV over TLS (RFC 6764)"},
    {DNS_TXT, "_carddavs._tcp.{d}", "path=/.well-known/carddav", 0, 0, 0, "dav-txt",
     "CardDAV context path (RFC 6764)"},
    /* RFC 6764 section 3 and RFC 2782: target "." = service not offered. */
    {DNS_SRV, "_caldav._tcp.{d}", ".", 0, 0, 0, "dav-srv",
     "CalDAV without TLS: not offered (RFC 6764)"},
    {DNS_SRV, "_carddav._tcp.{d}", ".", 0, 0, 0, "dav-srv",
     "CardDAV without TLS: not offered (RFC 6764)"},
};

typedef struct dns_ctx {
    const char *domain;                                    /* A-label, no trailing dot */
    char host[sizeof(((app_config *)NULL)->hostname) + 1]; /* with its trailing dot */
    char sts_id[DNS_STS_ID_SIZE];
} dns_ctx;

/* The text a "{...}" token at p stands for, with its length in *len_r;
 * NULL when p holds no token. */
static const char *dns_token(const char *p, const dns_ctx *c, size_t *len_r)
{
    *len_r = 3;
    if (strncmp(p, "{d}", 3) == 0)
        return c->domain;
    if (strncmp(p, "{h}", 3) == 0)
        return c->host;
    *len_r = 4;
    if (strncmp(p, "{id}", 4) == 0)
        return c->sts_id;
    return NULL;
}

/* Expands the tokens of tmpl into b, then a "." when fqdn. */
static int dns_expand(buf *b, const char *tmpl, const dns_ctx *c, bool fqdn)
{
    buf_reset(b);
    for (const char *p = tmpl; *p != '\0';) {
        size_t len;
        const char *v = dns_token(p, c, &len);
        if (v != NULL) {
            buf_append_str(b, v);
            p += len;
        } else {
            buf_append_char(b, *p++);
        }
    }
    if (fqdn)
        buf_append_char(b, '.');
    return b->failed ? -1 : 0;
}

static cJSON *dns_record(dns_type type, const char *name, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "type", dns_type_names[type]);
    cJSON_AddStringToObject(o, "name", name);
    cJSON_AddNumberToObject(o, "ttl", DNS_TTL);
    cJSON_AddStringToObject(o, "value", value);
    return o;
}

/* One fixed record. The RDATA of MX and SRV is written as in a zone file
 * (RFC 1035 3.3.9, RFC 2782); TXT values are the bare text, unquoted. */
static int dns_add_fixed(cJSON *records, const dns_fixed *f, const dns_ctx *c)
{
    buf name, data, value;
    buf_init(&name, DNS_TEXT_MAX);
    buf_init(&data, DNS_TEXT_MAX);
    buf_init(&value, DNS_TEXT_MAX);
    int rc = -1;
    if (dns_expand(&name, f->name, c, true) < 0 || dns_expand(&data, f->data, c, false) < 0)
        goto out;
    if (f->type == DNS_MX)
        buf_printf(&value, "%d %s", f->priority, data.data);
    else if (f->type == DNS_SRV)
        buf_printf(&value, "%d %d %d %s", f->priority, f->weight, f->port, data.data);
    else
        buf_append_str(&value, data.data);
    if (value.failed)
        goto out;
    cJSON *o = dns_record(f->type, name.data, value.data);
    if (f->type == DNS_MX || f->type == DNS_SRV)
        cJSON_AddNumberToObject(o, "priority", f->priority);
    if (f->type == DNS_SRV) {
        cJSON_AddNumberToObject(o, "weight", f->weight);
        cJSON_AddNumberToObject(o, "port", f->port);
    }
    if (f->type != DNS_TXT)
        cJSON_AddStringToObject(o, "target", data.data);
    cJSON_AddStringToObject(o, "purpose", f->purpose);
    cJSON_AddStringToObject(o, "description", f->description);
    cJSON_AddItemToArray(records, o);
    rc = 0;
out:
    buf_free(&name);
    buf_free(&data);
    buf_free(&value);
    return rc;
}

static int dns_add_table(cJSON *records, const dns_fixed *t, size_t n, const dns_ctx *c)
{
    for (size_t i = 0; i < n; i++)
        if (dns_add_fixed(records, &t[i], c) < 0)
            return -1;
    return 0;
}

/* One TXT record per DKIM key (RFC 6376 3.6.2.1). Retired keys stay
 * published until deleted so mail signed before a rotation still verifies. */
static int dns_add_dkim(req *r, cJSON *records, int64_t domain_id, const char *domain)
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT selector, status, public_txt FROM dkim_keys "
                                         "WHERE domain_id = ?1 ORDER BY selector");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, domain_id);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char name[DNS_TEXT_MAX];
        snprintf(name, sizeof(name), "%s._domainkey.%s.", db_text(st, 0), domain);
        cJSON *o = dns_record(DNS_TXT, name, db_text(st, 2));
        cJSON_AddStringToObject(o, "purpose", "dkim");
        cJSON_AddStringToObject(o, "description",
                                strcmp(db_text(st, 1), "active") == 0
                                    ? "DKIM public key (active)"
                                    : "DKIM public key (retired; keep until the key is deleted)");
        cJSON_AddItemToArray(records, o);
    }
    db_finish(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* The MTA-STS id: the domain's last change as YYYYMMDDhhmmss (RFC 8461 3.1:
 * 1 to 32 alphanumerics that change whenever the policy does). The policy
 * names only the mail host, so a change of hostname alone does not move it. */
static int dns_sts_id(req *r, int64_t domain_id, char out[DNS_STS_ID_SIZE])
{
    sqlite3_stmt *st = db_prepare(r->db, "SELECT updated_at FROM domains WHERE id = ?1");
    if (st == NULL)
        return -1;
    sqlite3_bind_int64(st, 1, domain_id);
    int64_t t = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    db_finish(st);
    time_t tt = (time_t)(t > 0 ? t : db_now());
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, DNS_STS_ID_SIZE, "%Y%m%d%H%M%S", &tm) == 0)
        return -1;
    return 0;
}

void h_dns_get(req *r)
{
    int64_t domain_id;
    char domain[NAMES_DOMAIN_MAX + 1];
    if (domain_lookup(r, r->params[0], &domain_id, domain) < 0)
        return;
    dns_ctx c = {.domain = domain};
    const char *h = r->app->cfg.hostname;
    size_t hl = strlen(h);
    snprintf(c.host, sizeof(c.host), "%s%s", h, hl > 0 && h[hl - 1] == '.' ? "" : ".");
    cJSON *records = cJSON_CreateArray();
    if (dns_sts_id(r, domain_id, c.sts_id) < 0 ||
        dns_add_table(records, dns_head, sizeof(dns_head) / sizeof(dns_head[0]), &c) < 0 ||
        dns_add_dkim(r, records, domain_id, domain) < 0 ||
        dns_add_table(records, dns_tail, sizeof(dns_tail) / sizeof(dns_tail[0]), &c) < 0) {
        cJSON_Delete(records);
        reply_internal(r, "DNS records failed");
        return;
    }
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "domain", domain);
    cJSON_AddItemToObject(o, "records", records);
    reply_json(r, 200, o);
}
