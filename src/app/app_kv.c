/*
 * app_kv.c — the app's key-value store and its secret.
 *
 * The secret signs session cookies. It is the `secret` setting when given;
 * otherwise 32 random bytes made the first time something needs it (a
 * session or the admin signing or checking a cookie, kura_app_secret) and
 * kept in a file beside the key-value store's data (`<file>.secret`, mode
 * 0600), so cookies survive a restart. An app that never signs a cookie
 * never makes the file. An app with no data file (in memory, or Redis)
 * gets a fresh secret each run: its cookies die with it. There is no
 * built-in default: a default secret is a secret every attacker knows.
 */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app/app_private.h"
#include "kv/kv_private.h"

#define SECRET_BYTES     32
#define MIN_SECRET_BYTES 16

static bool read_secret(const char *path, unsigned char *out, kura_error *err)
{
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return kura_fail(err, KURA_IO, NULL, "cannot read the secret file '%.128s': %s", path,
                         strerror(errno));
    struct stat st;
    bool ok = false;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        kura_fail(err, KURA_CONFIG, NULL, "the secret file '%.128s' is not a regular file", path);
    } else if (st.st_mode & 077) {
        /* Anyone who reads it can forge sessions: refuse rather than use it. */
        kura_fail(err, KURA_CONFIG, NULL,
                  "the secret file '%.128s' is readable or writable by others (chmod 600 it)",
                  path);
    } else {
        unsigned char buf[SECRET_BYTES + 1];
        ssize_t n = read(fd, buf, sizeof buf);
        if (n != SECRET_BYTES)
            kura_fail(err, KURA_CONFIG, NULL,
                      "the secret file '%.128s' does not hold %d bytes (delete it to make a "
                      "new one; existing sessions end)",
                      path, SECRET_BYTES);
        else
            ok = (memcpy(out, buf, SECRET_BYTES), true);
        sodium_memzero(buf, sizeof buf);
    }
    close(fd);
    return ok;
}

/* Makes the directory entry of path durable (best effort: a secret that vanishes
 * in a power loss is made anew; only the sessions it signed end). */
static void sync_parent(const char *path)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* The old way, for file systems without hard links: create, then write. Another
 * process starting at that moment may read the file before it is written, and a
 * start killed in between leaves it short. */
static bool create_in_place(const char *path, unsigned char *out, kura_error *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST)
            return read_secret(path, out, err);
        return kura_fail(err, KURA_IO, NULL, "cannot create the secret file '%.128s': %s", path,
                         strerror(errno));
    }
    bool ok = write(fd, out, SECRET_BYTES) == SECRET_BYTES && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    if (!ok) {
        unlink(path); /* a short file would be refused at every later start */
        return kura_fail(err, KURA_IO, NULL, "cannot write the secret file '%.128s': %s", path,
                         strerror(saved));
    }
    return true;
}

/*
 * Reads path, or creates it with fresh random bytes when it does not exist.
 *
 * The file appears whole or not at all: the bytes are written and synced under a
 * temporary name beside it (mkstemp: mode 0600), and link() gives them the real
 * name, which fails with EEXIST when another process starting at the same moment
 * got there first (its secret is then read). So no process ever reads a file that
 * is still being written, and a start killed half way (kill -9, a crash) leaves at
 * most a stray temporary file, never a short secret file that every later start
 * would refuse.
 */
static bool load_or_create(const char *path, unsigned char *out, kura_error *err)
{
    struct stat st;
    if (lstat(path, &st) == 0 || errno != ENOENT)
        return read_secret(path, out, err); /* which reports a symlink or a bad file */
    size_t n = strlen(path) + sizeof ".XXXXXX";
    char *tmp = malloc(n);
    if (!tmp)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    snprintf(tmp, n, "%s.XXXXXX", path);
    int fd = mkstemp(tmp); /* mode 0600 */
    if (fd < 0) {
        int saved = errno;
        free(tmp);
        return kura_fail(err, KURA_IO, NULL, "cannot create the secret file '%.128s': %s", path,
                         strerror(saved));
    }
    (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
    randombytes_buf(out, SECRET_BYTES);
    bool ok = write(fd, out, SECRET_BYTES) == SECRET_BYTES && fsync(fd) == 0;
    int saved = errno;
    close(fd);
    bool linked = ok && link(tmp, path) == 0;
    if (ok && !linked)
        saved = errno;
    unlink(tmp);
    free(tmp);
    if (linked) {
        sync_parent(path);
        return true;
    }
    if (!ok)
        return kura_fail(err, KURA_IO, NULL, "cannot write the secret file '%.128s': %s", path,
                         strerror(saved));
    if (saved == EEXIST) /* another process made it meanwhile */
        return read_secret(path, out, err);
    return create_in_place(path, out, err); /* no hard links here (EPERM, ENOTSUP, ...) */
}

bool kura_app_kv_open(const kura_config *cfg, const char *database_url, kura_kv **kv,
                      char **secret_path, kura_error *err)
{
    *kv = NULL;
    *secret_path = NULL;
    if (sodium_init() < 0)
        return kura_fail(err, KURA_IO, NULL, "libsodium could not initialise");
    /* A configured secret too short is a mistake in the configuration: said at
     * start, not at the first log-in. */
    const char *configured = kura_config_get(cfg, "secret");
    size_t n = configured ? strlen(configured) : 0;
    if (n > 0 && n < MIN_SECRET_BYTES)
        return kura_fail(err, KURA_CONFIG, "secret", "the secret is %zu bytes: use at least %d", n,
                         MIN_SECRET_BYTES);
    char *data_file = NULL;
    *kv = kura_kv_open_for_app(kura_config_get(cfg, "redis_url"), database_url, &data_file, err);
    if (!*kv)
        return false;
    if (data_file && n == 0) {
        size_t len = strlen(data_file) + sizeof ".secret";
        if (!(*secret_path = malloc(len))) {
            free(data_file);
            kura_kv_close(*kv);
            *kv = NULL;
            return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
        }
        snprintf(*secret_path, len, "%s.secret", data_file);
    }
    free(data_file);
    return true;
}

bool kura_app_secret_load(const kura_config *cfg, const char *path, unsigned char **secret,
                          size_t *secret_len, kura_error *err)
{
    *secret = NULL;
    *secret_len = 0;
    const char *configured = kura_config_get(cfg, "secret");
    size_t n = configured && *configured ? strlen(configured) : SECRET_BYTES;
    unsigned char *s = malloc(n);
    if (!s)
        return kura_fail(err, KURA_NOMEM, NULL, "out of memory");
    bool ok = true;
    if (configured && *configured)
        memcpy(s, configured, n); /* its length was checked at open */
    else if (path)
        ok = load_or_create(path, s, err);
    else
        randombytes_buf(s, SECRET_BYTES); /* ephemeral: see the top of this file */
    if (!ok) {
        kura_app_secret_free(s, n);
        return false;
    }
    *secret = s;
    *secret_len = n;
    return true;
}

void kura_app_secret_free(unsigned char *secret, size_t secret_len)
{
    if (secret)
        sodium_memzero(secret, secret_len);
    free(secret);
}
