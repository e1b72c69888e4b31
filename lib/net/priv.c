/* priv: dropping root after the ports are bound.
 *
 * Order matters: supplementary groups and the gid can only be changed while
 * still root, so setgroups, then setgid, then setuid. setuid as root sets
 * the real, effective and saved uid (POSIX), which the checks below confirm
 * by trying to get root back. glibc applies these calls to every thread of
 * the process (the pool threads included). */
#include "net.h"

#include "log.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#define NET_PW_BUF_MAX 16384 /* getpwnam_r scratch space */

int net_drop_privileges(const char *user)
{
    if (geteuid() != 0) {
        log_info(NULL, "net: not running as root (uid %u): keeping the current user",
                 (unsigned)geteuid());
        return 0;
    }
    if (user == NULL || *user == '\0') {
        log_error(NULL, "net: running as root and no user to drop to");
        return -1;
    }
    struct passwd pw, *found = NULL;
    char *scratch = malloc(NET_PW_BUF_MAX);
    if (scratch == NULL)
        return -1;
    int e = getpwnam_r(user, &pw, scratch, NET_PW_BUF_MAX, &found);
    if (e != 0 || found == NULL) {
        log_error(NULL, "net: unknown user '%s'%s%s", user, e != 0 ? ": " : "",
                  e != 0 ? strerror(e) : "");
        free(scratch);
        return -1;
    }
    uid_t uid = pw.pw_uid;
    gid_t gid = pw.pw_gid;
    free(scratch);
    if (uid == 0 || gid == 0) {
        log_error(NULL, "net: refusing to run as '%s': it is root (uid or gid 0)", user);
        return -1;
    }
    if (setgroups(1, &gid) < 0 || setgid(gid) < 0 || setuid(uid) < 0) {
        log_error(NULL, "net: dropping privileges to '%s' failed: %s", user, strerror(errno));
        return -1;
    }
    /* Each of these must fail now; if one succeeds we are still root. */
    if (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0 || setegid(0) == 0 || getuid() != uid ||
        geteuid() != uid || getgid() != gid || getegid() != gid) {
        log_error(NULL, "net: privileges of root could be regained after dropping to '%s'", user);
        return -1;
    }
    log_info(NULL, "net: running as %s (uid %u, gid %u)", user, (unsigned)uid, (unsigned)gid);
    return 0;
}
