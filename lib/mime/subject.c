/* The base subject of RFC 5256 2.1, for SORT (SUBJECT) and THREAD
 * (ORDEREDSUBJECT, REFERENCES): reply and forward markers, blobs
 * ("[list]") and "(fwd)" trailers removed. The input is the decoded UTF-8
 * Subject (mime_header_get); case is kept, comparisons are the caller's. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "mime_int.h"

static bool is_wsp(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* subj-blob = "[" *BLOBCHAR "]" *WSP; returns the length or 0. */
static size_t blob_len(const char *s, size_t len)
{
    if (len == 0 || s[0] != '[')
        return 0;
    size_t i = 1;
    while (i < len && s[i] != '[' && s[i] != ']')
        i++;
    if (i >= len || s[i] != ']')
        return 0;
    i++;
    while (i < len && is_wsp(s[i]))
        i++;
    return i;
}

/* subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; returns the
 * length or 0. */
static size_t refwd_len(const char *s, size_t len)
{
    size_t i;
    if (len >= 3 && strncasecmp(s, "fwd", 3) == 0)
        i = 3;
    else if (len >= 2 && (strncasecmp(s, "fw", 2) == 0 || strncasecmp(s, "re", 2) == 0))
        i = 2;
    else
        return 0;
    while (i < len && is_wsp(s[i]))
        i++;
    i += blob_len(s + i, len - i);
    return i < len && s[i] == ':' ? i + 1 : 0;
}

/* RFC 5256 2.1 steps 3-4: subj-leader = (*subj-blob subj-refwd) / WSP, and
 * a leading subj-blob when something remains after it. *reply is set when
 * a subj-refwd went. */
static bool strip_leader(const char **s, size_t *len, bool *reply)
{
    const char *p = *s;
    size_t n = *len;
    if (n > 0 && is_wsp(p[0])) {
        while (n > 0 && is_wsp(p[0]))
            p++, n--;
        *s = p, *len = n;
        return true;
    }
    size_t i = 0, b;
    while ((b = blob_len(p + i, n - i)) > 0)
        i += b;
    size_t r = refwd_len(p + i, n - i);
    if (r > 0) {
        *s = p + i + r, *len = n - i - r;
        *reply = true;
        return true;
    }
    b = blob_len(p, n);
    if (b > 0 && b < n) {
        *s = p + b, *len = n - b;
        return true;
    }
    return false;
}

/* Step 2: subj-trailer = "(fwd)" / WSP, repeatedly; *reply is set when a
 * "(fwd)" went. */
static void strip_trailer(const char *s, size_t *len, bool *reply)
{
    for (;;) {
        while (*len > 0 && is_wsp(s[*len - 1]))
            (*len)--;
        if (*len >= 5 && strncasecmp(s + *len - 5, "(fwd)", 5) == 0) {
            *len -= 5;
            *reply = true;
        } else {
            return;
        }
    }
}

char *mime_subject_base(const char *subject)
{
    return mime_subject_base_reply(subject, NULL);
}

char *mime_subject_base_reply(const char *subject, bool *is_reply_r)
{
    bool reply = false;
    size_t n = strlen(subject);
    char *norm = malloc(n + 1);
    if (norm == NULL)
        return NULL;
    /* step 1: every run of white space becomes one space */
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (is_wsp(subject[i])) {
            if (k == 0 || norm[k - 1] != ' ')
                norm[k++] = ' ';
        } else {
            norm[k++] = subject[i];
        }
    }
    const char *s = norm;
    size_t len = k;
    for (;;) {
        strip_trailer(s, &len, &reply);
        while (strip_leader(&s, &len, &reply))
            ;
        /* step 5: subj-fwd-hdr "[fwd:" ... subj-fwd-trl "]" */
        if (len >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[len - 1] == ']') {
            s += 5;
            len -= 6;
            reply = true;
            continue;
        }
        break;
    }
    char *out = malloc(len + 1);
    if (out != NULL) {
        memcpy(out, s, len);
        out[len] = '\0';
    }
    free(norm);
    if (is_reply_r != NULL)
        *is_reply_r = reply;
    return out;
}
