/* smtp_command: SMTP command lines (RFC 5321 4.1) and the ESMTP parameters
 * of MAIL and RCPT (RFC 1870 SIZE, RFC 6152 / RFC 3030 BODY, RFC 6531
 * SMTPUTF8, RFC 3461 DSN, RFC 4954 AUTH=), for the server side.
 *
 * Two steps, both pure:
 *   smtp_command_line_next() cuts the byte stream into lines (incremental,
 *     1 / 0 / -1, bounded, resynchronizes after an over-long line);
 *   smtp_command_parse() turns one line into a smtp_command.
 *
 * Leniency (what is accepted beyond the RFC 5321 grammar, and why):
 *   - verbs, "FROM:", "TO:", parameter keywords and their enumerated values
 *     are case-insensitive: RFC 5321 2.4 says so, this is not leniency;
 *   - spaces between "FROM:" / "TO:" and "<" ("MAIL FROM: <a@b>"): sent by
 *     old Microsoft and many scripted clients, accepted by Postfix by
 *     default; harmless since the path is still delimited by <>;
 *   - runs of spaces between parameters, and trailing spaces on any line
 *     (some clients pad);
 *   - "HELO [192.0.2.1]" (the grammar gives HELO only a Domain);
 * each sets cmd->lenient, so the server may log or refuse it. Refused:
 *   a path without angle brackets ("MAIL FROM:a@b"), spaces inside the
 *   brackets, TAB or any other control octet anywhere, "MAIL FROM :<a>",
 *   parameters glued to the path ("<a@b>SIZE=1").
 *
 * Which reply: a refusal carries its reply in smtp_error - 500 5.5.2 for a
 * line that is not a command at all (control octets, too long, empty),
 * 501 5.5.4 for bad arguments, 555 5.5.4 for a MAIL/RCPT parameter that is
 * unknown or belongs to the other command (RFC 5321 4.1.1.11), 553 5.1.7 /
 * 5.1.3 for a bad sender / recipient path, 553 5.6.7 for a non-ASCII path
 * without SMTPUTF8 (the code RFC 6531 registers for it), 501 5.5.2 for an
 * AUTH initial response that is not base64 (RFC 4954 4). An unknown verb is NOT an error here: it
 * parses as SMTP_VERB_UNKNOWN and the server answers 500 5.5.2. Whether a
 * known command is allowed now (sequence, advertised extensions, 504 for an
 * unknown mechanism, size policy) is the server's job.
 */
#ifndef OWNMAIL_SMTP_COMMAND_H
#define OWNMAIL_SMTP_COMMAND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "smtp_common.h"
#include "smtp_path.h"

/* Longest MAIL line, CRLF included: RFC 5321 4.5.3.1.4 allows extensions to
 * raise SMTP_LINE_MAX and these do: SIZE +26 (RFC 1870 4), BODY +16 (RFC
 * 6152 2), RET and ENVID +100 (RFC 3461 4), AUTH= +500 (RFC 4954 3),
 * SMTPUTF8 +10 (RFC 6531 3.1). */
#define SMTP_MAIL_LINE_MAX (SMTP_LINE_MAX + 26 + 16 + 100 + 500 + 10)
/* Longest RCPT line: NOTIFY and ORCPT +500 (RFC 3461 4). */
#define SMTP_RCPT_LINE_MAX (SMTP_LINE_MAX + 500)
/* Longest AUTH line and SASL response line. RFC 4954 4 keeps AUTH within
 * SMTP_LINE_MAX, but also says 12288 octets is the line length needed for
 * deployed mechanisms, and real clients put a 1-2 KB XOAUTH2 or GSSAPI
 * token in the initial response: refusing them helps nobody. */
#define SMTP_AUTH_LINE_MAX 12288
/* What smtp_command_line_next() should be given as max: the longest line
 * any command may have. */
#define SMTP_COMMAND_READ_MAX SMTP_AUTH_LINE_MAX

/* ENVID: its xtext fits the 100 octets RFC 3461 4 adds for RET and ENVID. */
#define SMTP_ENVID_MAX 100
/* ORCPT: its xtext fits the 500 octets RFC 3461 4 adds for NOTIFY and ORCPT. */
#define SMTP_ORCPT_MAX 500
/* The addr-type of ORCPT ("rfc822", "utf-8"): an atom (RFC 3461 4.2). */
#define SMTP_ORCPT_TYPE_MAX 32
/* MAIL AUTH=: its xtext fits the 500 octets of RFC 4954 3. */
#define SMTP_AUTH_PARAM_MAX 500
/* SASL mechanism names: 1..20 characters (RFC 4422 3.1). */
#define SMTP_SASL_MECH_MAX 20
/* RFC 1870 5: size-value = 1*20DIGIT. */
#define SMTP_SIZE_DIGITS_MAX 20

typedef enum smtp_verb {
    SMTP_VERB_UNKNOWN = 0,
    SMTP_VERB_EHLO,
    SMTP_VERB_HELO,
    SMTP_VERB_MAIL,
    SMTP_VERB_RCPT,
    SMTP_VERB_DATA,
    SMTP_VERB_BDAT,
    SMTP_VERB_RSET,
    SMTP_VERB_NOOP,
    SMTP_VERB_QUIT,
    SMTP_VERB_VRFY,
    SMTP_VERB_EXPN,
    SMTP_VERB_HELP,
    SMTP_VERB_STARTTLS,
    SMTP_VERB_AUTH,
} smtp_verb;

typedef enum smtp_body {
    SMTP_BODY_NONE = 0, /* no BODY parameter: 7BIT by default */
    SMTP_BODY_7BIT,
    SMTP_BODY_8BITMIME,   /* RFC 6152 */
    SMTP_BODY_BINARYMIME, /* RFC 3030 3 */
} smtp_body;

typedef enum smtp_ret {
    SMTP_RET_NONE = 0,
    SMTP_RET_FULL, /* RFC 3461 4.3 */
    SMTP_RET_HDRS,
} smtp_ret;

/* NOTIFY (RFC 3461 4.1): 0 = not given; NEVER alone, or a set of the others. */
#define SMTP_NOTIFY_NEVER (1u << 0)
#define SMTP_NOTIFY_SUCCESS (1u << 1)
#define SMTP_NOTIFY_FAILURE (1u << 2)
#define SMTP_NOTIFY_DELAY (1u << 3)

typedef struct smtp_mail_params {
    bool has_size;
    uint64_t size; /* SIZE=n; 20 digits over 2^64-1 read as UINT64_MAX */
    smtp_body body;
    bool smtputf8;
    smtp_ret ret;
    bool has_envid;
    char envid[SMTP_ENVID_MAX + 1]; /* decoded: printable ASCII */
    bool has_auth;
    char auth[SMTP_AUTH_PARAM_MAX + 1]; /* decoded: an addr-spec or "<>" (RFC 4954 5) */
} smtp_mail_params;

typedef struct smtp_rcpt_params {
    unsigned notify; /* SMTP_NOTIFY_* bits, 0 = not given */
    bool has_orcpt;
    char orcpt_type[SMTP_ORCPT_TYPE_MAX + 1]; /* as written ("rfc822") */
    char orcpt[SMTP_ORCPT_MAX + 1];           /* xtext decoded, no controls */
} smtp_rcpt_params;

typedef struct smtp_command {
    smtp_verb verb;
    /* Pointers into the caller's line, valid while it is. */
    const char *verb_text; /* as written: for logging an unknown verb */
    size_t verb_len;
    const char *arg; /* everything after the verb and its space, trailing
                      * spaces removed ("" when none): VRFY, EXPN, HELP, NOOP
                      * and unknown verbs use it as is */
    size_t arg_len;
    bool lenient; /* a deviation listed at the top of this file was accepted */

    /* EHLO, HELO: a Domain, or an address literal. With SMTP_PARSE_LAX_HELO
     * an argument that is neither is kept in helo.name (literal NONE) and
     * helo_invalid is set. */
    smtp_domain helo;
    bool helo_invalid;

    /* MAIL, RCPT */
    smtp_path path;
    smtp_mail_params mail;
    smtp_rcpt_params rcpt;

    /* BDAT chunk-size [SP "LAST"] (RFC 3030 2) */
    uint64_t bdat_size;
    bool bdat_last;

    /* AUTH mechanism [SP initial-response] (RFC 4954 4) */
    char auth_mech[SMTP_SASL_MECH_MAX + 1]; /* upper-cased */
    bool auth_has_initial;
    const char *auth_initial; /* base64 into the line; length 0 for "=" */
    size_t auth_initial_len;
} smtp_command;

typedef enum smtp_parse_flags {
    SMTP_PARSE_STRICT = 0,
    /* The transaction's MAIL carried SMTPUTF8 (RFC 6531 3.4): UTF-8 is
     * allowed in RCPT paths and ORCPT values. (MAIL itself is judged by its
     * own SMTPUTF8 parameter.) */
    SMTP_PARSE_SMTPUTF8 = 1 << 0,
    /* Accept any single printable token as the EHLO/HELO argument (Windows
     * clients send names with '_'); sets cmd->helo_invalid. */
    SMTP_PARSE_LAX_HELO = 1 << 1,
} smtp_parse_flags;

/* Line splitter state: zero it (or smtp_command_line_init) per connection. */
typedef struct smtp_command_line {
    bool discarding; /* inside a line over max: dropping until its LF */
} smtp_command_line;

void smtp_command_line_init(smtp_command_line *st);

/* Finds the next line in buf (len octets, the bytes received and not yet
 * consumed). Lines end with CRLF; a bare LF also ends one (many scripted
 * clients send it, and for commands it is unambiguous) and sets
 * *bare_lf_r, so the server may refuse it. The data of DATA never goes
 * through here: see smtp_data.h.
 *
 * max is the longest line accepted, CRLF included (SMTP_COMMAND_READ_MAX,
 * or a smaller one); the command parser applies the per-verb limits.
 *
 * Returns
 *   1: *line_r / *line_len_r = the line without its line end;
 *   0: no complete line yet - call again with more bytes appended;
 *  -1: a line longer than max ended: *error_r = 500 5.5.2 "line too long"
 *      (RFC 5321 4.5.3.1.10); reply and go on with the next line.
 * In every case *consumed_r octets of buf are used up (for 0, an over-long
 * line is being dropped: the caller frees them and need not keep them).
 * When 0 is returned, fewer than max octets are left unconsumed. */
int smtp_command_line_next(smtp_command_line *st, const char *buf, size_t len, size_t max,
                           const char **line_r, size_t *line_len_r, bool *bare_lf_r,
                           size_t *consumed_r, smtp_error *error_r);

/* Parses one command line (len octets, without its line end).
 *
 * Limits (CRLF counted, so len + 2): MAIL <= SMTP_MAIL_LINE_MAX, RCPT <=
 * SMTP_RCPT_LINE_MAX, AUTH <= SMTP_AUTH_LINE_MAX, others <= SMTP_LINE_MAX.
 *
 * Arguments per verb (RFC 5321 4.1.1, grammar in 4.1.2 and 4.1.3):
 *   EHLO Domain / address-literal; HELO Domain (literal: lenient);
 *   MAIL FROM:Reverse-path [SP params]; RCPT TO:Forward-path [SP params];
 *   DATA, RSET, QUIT, STARTTLS: none (501 otherwise, RFC 3207 4);
 *   NOOP, HELP: optional text; VRFY, EXPN: required text (raw in arg);
 *   BDAT 1*20DIGIT [SP "LAST"] - a -1 for BDAT means the caller cannot know
 *   how many octets follow: reply and close the connection;
 *   AUTH mechanism [SP (base64 / "=")].
 * MAIL parameters: SIZE, BODY, SMTPUTF8, RET, ENVID, AUTH. RCPT
 * parameters: NOTIFY, ORCPT. Each at most once (501), unknown ones 555.
 * UTF-8 is allowed in the MAIL path when its SMTPUTF8 parameter is given,
 * in RCPT paths and ORCPT when flags has SMTP_PARSE_SMTPUTF8.
 *
 * Returns 1 with *cmd_r filled (its pointers point into line), or -1 with
 * *error_r; never 0 (a line is complete). */
int smtp_command_parse(const char *line, size_t len, smtp_parse_flags flags, smtp_command *cmd_r,
                       smtp_error *error_r);

/* "EHLO", "MAIL"...; "UNKNOWN" for SMTP_VERB_UNKNOWN. */
const char *smtp_command_verb_name(smtp_verb verb);

#endif
