/* Internal: the ESMTP parameters of MAIL and RCPT (smtp_param.c). */
#ifndef OWNMAIL_SMTP_PARAM_H
#define OWNMAIL_SMTP_PARAM_H

#include "smtp_command.h"

/* Parses the parameters in s (len octets: what follows the path, which is
 * empty or starts with a space) into cmd->mail or cmd->rcpt, by cmd->verb.
 * Sets cmd->lenient for runs of spaces. Returns 1 or -1 with *error_r. */
int smtp_param_parse(const char *s, size_t len, smtp_parse_flags flags, smtp_command *cmd,
                     smtp_error *error_r);

#endif
