#include "strs.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

int mp_strs_set (char ***dst, size_t *ndst, const char *const *src, size_t n)
{
    char **copy = (char **) calloc (n ? n : 1, sizeof (char *));
    if (!copy)
        return MP_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        copy[i] = strdup (src[i]);
        if (!copy[i]) {
            while (i > 0)
                free (copy[--i]);
            free (copy);
            return MP_ENOMEM;
        }
    }
    mp_strs_clear (dst, ndst);
    *dst = copy;
    *ndst = n;
    return MP_OK;
}

void mp_strs_clear (char ***strs, size_t *n)
{
    for (size_t i = 0; *strs && i < *n; i++)
        free ((*strs)[i]);
    free (*strs);
    *strs = NULL;
    *n = 0;
}

static int s_has (const char *const *labels, size_t nlabels, const char *need)
{
    size_t keylen = strlen (need);
    int exact = strchr (need, '=') != NULL;
    for (size_t i = 0; i < nlabels; i++) {
        const char *label = labels[i];
        if (strcmp (label, need) == 0)
            return 1;
        if (!exact && strncmp (label, need, keylen) == 0 && label[keylen] == '=')
            return 1;
    }
    return 0;
}

int mp_labels_meet (const char *const *labels, size_t nlabels, const char *const *needs,
                    size_t nneeds)
{
    for (size_t i = 0; i < nneeds; i++)
        if (!s_has (labels, nlabels, needs[i]))
            return 0;
    return 1;
}

char *mp_strs_join (const char *const *strs, size_t n, const char *sep, char *buf,
                    size_t size)
{
    size_t used = 0;
    if (size)
        buf[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < size; i++) {
        int wrote = snprintf (buf + used, size - used, "%s%s", i ? sep : "", strs[i]);
        if (wrote < 0)
            break;
        used += (size_t) wrote < size - used ? (size_t) wrote : size - used - 1;
    }
    return buf;
}
