/* fileio: the two steps every durable write of the project repeats (spool
 * files, queue entries and state). */
#ifndef OWNMAIL_FILEIO_H
#define OWNMAIL_FILEIO_H

#include <stddef.h>

/* Writes all len bytes (retrying on EINTR and short writes). 0, or -1 with
 * errno set. */
int fileio_write_all(int fd, const void *data, size_t len);

/* fsyncs a directory, so that a rename or unlink in it is durable. 0, or -1
 * with errno set. */
int fileio_fsync_dir(const char *path);

#endif
