//  Length-counted builders for the codec, which reads strings that are not
//  NUL-terminated. Private to proto/: callers must have rejected embedded NULs.
#ifndef MP_MSG_PRIV_H
#define MP_MSG_PRIV_H

#include "msg.h"

int mp_msg_add_strn (mp_msg_t *self, const char *value, size_t len);
int mp_msg_push_strn (mp_msg_t *self, const char *value, size_t len);
int mp_msg_set_fromn (mp_msg_t *self, const char *from, size_t len);
int mp_msg_set_ton (mp_msg_t *self, const char *to, size_t len);

#endif
