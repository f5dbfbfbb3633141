//  Owned arrays of strings (labels, requirements, arguments).
#ifndef MP_STRS_H
#define MP_STRS_H

#include <stddef.h>

//  Replaces *dst (of *ndst owned strings) with copies of src[0..n). MP_OK, or
//  MP_ENOMEM leaving *dst as it was.
int mp_strs_set (char ***dst, size_t *ndst, const char *const *src, size_t n);
//  Frees every string and the array; *strs becomes NULL and *n 0.
void mp_strs_clear (char ***strs, size_t *n);
//  1 when labels meet every requirement: "KEY" needs a label KEY or KEY=anything,
//  "KEY=VALUE" needs that very label.
int mp_labels_meet (const char *const *labels, size_t nlabels, const char *const *needs,
                    size_t nneeds);
//  The strings joined with sep into buf (cut at its size). Returns buf.
char *mp_strs_join (const char *const *strs, size_t n, const char *sep, char *buf,
                    size_t size);

#endif
