//  Loading and generating the shared key file.
#include "key.h"
#include "error.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

//  Larger than any key plus generous trailing whitespace; bigger files are refused.
#define S_KEY_FILE_MAX 4096

static int s_is_space (uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int mp_key_load (mp_key_t *key, const char *path, char *err, size_t errlen)
{
    if (!key) {
        mp_set_error (err, errlen, "no key to load into");
        return MP_EINVAL;
    }
    if (!path || !*path) {
        memset (key, 0, sizeof *key);
        return MP_OK;
    }
    int fd = open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        mp_set_error (err, errlen, "cannot open key file %s: %s", path, strerror (errno));
        return MP_EIO;
    }
    int rc = MP_EIO;
    struct stat st;
    if (fstat (fd, &st) != 0) {
        mp_set_error (err, errlen, "cannot stat key file %s: %s", path, strerror (errno));
        goto close_fd;
    }
    if (!S_ISREG (st.st_mode)) {
        mp_set_error (err, errlen, "key file %s is not a regular file", path);
        rc = MP_EINVAL;
        goto close_fd;
    }
    if (st.st_mode & 077) {
        mp_set_error (err, errlen, "key file %s is accessible by group or others (mode %04o): "
                      "chmod 600 it", path, (unsigned) (st.st_mode & 07777));
        rc = MP_EINVAL;
        goto close_fd;
    }
    uint8_t buf[S_KEY_FILE_MAX + 1];
    size_t len = 0;
    while (len < sizeof buf) {
        ssize_t got = read (fd, buf + len, sizeof buf - len);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            mp_set_error (err, errlen, "cannot read key file %s: %s", path, strerror (errno));
            goto wipe;
        }
        if (got == 0)
            break;
        len += (size_t) got;
    }
    if (len > S_KEY_FILE_MAX) {
        mp_set_error (err, errlen, "key file %s is too large", path);
        rc = MP_ETOOBIG;
        goto wipe;
    }
    while (len > 0 && s_is_space (buf[len - 1]))
        len--;
    if (len < 16 || len > MP_KEY_MAX) {
        mp_set_error (err, errlen, "key in %s has %zu bytes, expected 16 to %d", path, len,
                      MP_KEY_MAX);
        rc = MP_EINVAL;
        goto wipe;
    }
    memset (key, 0, sizeof *key);
    memcpy (key->bytes, buf, len);
    key->len = len;
    OPENSSL_cleanse (buf, sizeof buf);
    close (fd);
    return MP_OK;

wipe:
    OPENSSL_cleanse (buf, sizeof buf);
close_fd:
    close (fd);
    return rc;
}

int mp_key_generate_file (const char *path, char *err, size_t errlen)
{
    if (!path || !*path) {
        mp_set_error (err, errlen, "no key file path given");
        return MP_EINVAL;
    }
    uint8_t raw[32];
    if (RAND_bytes (raw, sizeof raw) != 1) {
        mp_set_error (err, errlen, "cannot get random bytes for a key");
        return MP_EIO;
    }
    static const char hex[] = "0123456789abcdef";
    char text[sizeof raw * 2 + 1];
    for (size_t i = 0; i < sizeof raw; i++) {
        text[2 * i] = hex[raw[i] >> 4];
        text[2 * i + 1] = hex[raw[i] & 15];
    }
    text[sizeof raw * 2] = '\n';
    OPENSSL_cleanse (raw, sizeof raw);

    int rc = MP_EIO;
    int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0600);
    if (fd < 0) {
        mp_set_error (err, errlen, "cannot create key file %s: %s", path, strerror (errno));
        goto wipe;
    }
    //  The file may have existed with a wider mode: O_CREAT's mode would not apply.
    if (fchmod (fd, 0600) != 0) {
        mp_set_error (err, errlen, "cannot chmod key file %s: %s", path, strerror (errno));
        goto close_fd;
    }
    size_t done = 0;
    while (done < sizeof text) {
        ssize_t put = write (fd, text + done, sizeof text - done);
        if (put < 0 && errno == EINTR)
            continue;
        if (put <= 0) {
            mp_set_error (err, errlen, "cannot write key file %s: %s", path, strerror (errno));
            goto close_fd;
        }
        done += (size_t) put;
    }
    rc = MP_OK;
close_fd:
    if (close (fd) != 0 && rc == MP_OK) {
        mp_set_error (err, errlen, "cannot write key file %s: %s", path, strerror (errno));
        rc = MP_EIO;
    }
wipe:
    OPENSSL_cleanse (text, sizeof text);
    return rc;
}
