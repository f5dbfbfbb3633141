//  Reading CURVE key files.
#include "curve_cert.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "error.h"

//  The quoted Z85 value of `name = "..."` on a line, into key. 1 when found.
static int s_value (const char *line, const char *name, char *key)
{
    const char *at = strstr (line, name);
    if (!at)
        return 0;
    at = strchr (at + strlen (name), '"');
    if (!at)
        return 0;
    const char *end = strchr (at + 1, '"');
    if (!end || end - at - 1 != MP_CURVE_KEY_Z85 - 1)
        return 0;
    memcpy (key, at + 1, MP_CURVE_KEY_Z85 - 1);
    key[MP_CURVE_KEY_Z85 - 1] = '\0';
    return 1;
}

int mp_curve_cert_read (const char *path, char *public_key, char *secret_key, char *err,
                        size_t errlen)
{
    FILE *f = fopen (path, "r");
    if (!f) {
        mp_set_error (err, errlen, "cannot read the CURVE key file %s: %s", path,
                      strerror (errno));
        return MP_EIO;
    }
    struct stat st;
    if (secret_key && fstat (fileno (f), &st) == 0 && (st.st_mode & 077)) {
        fclose (f);
        mp_set_error (err, errlen, "CURVE key pair %s is readable by others (mode %04o): "
                      "chmod 600 it", path, (unsigned) (st.st_mode & 0777));
        return MP_EINVAL;
    }
    char line[512];
    int have_public = 0, have_secret = 0;
    while (fgets (line, sizeof line, f)) {
        if (line[0] == '#')
            continue;
        have_public |= s_value (line, "public-key", public_key);
        if (secret_key)
            have_secret |= s_value (line, "secret-key", secret_key);
    }
    fclose (f);
    if (!have_public || (secret_key && !have_secret)) {
        mp_set_error (err, errlen, "%s holds no CURVE %s key", path,
                      have_public ? "secret" : "public");
        return MP_EINVAL;
    }
    return MP_OK;
}
