//  Event kinds by number and by wire name.
#include "events.h"

#include <string.h>

static const struct {
    const char *name;
    unsigned reporter;
} s_kinds[MP_EVENT_MAX] = {
#define MP_X_EVENT_ROW(NAME, wire, role, doc) [MP_EVENT_##NAME] = { wire, role },
    MP_EVENT_KINDS (MP_X_EVENT_ROW)
#undef MP_X_EVENT_ROW
};

const char *mp_event_name (int kind)
{
    return kind > MP_EVENT_NONE && kind < MP_EVENT_MAX ? s_kinds[kind].name : NULL;
}

int mp_event_parse (const char *name)
{
    for (int kind = MP_EVENT_NONE + 1; name && kind < MP_EVENT_MAX; kind++)
        if (strcmp (s_kinds[kind].name, name) == 0)
            return kind;
    return MP_EVENT_NONE;
}

unsigned mp_event_reporter (int kind)
{
    return kind > MP_EVENT_NONE && kind < MP_EVENT_MAX ? s_kinds[kind].reporter : 0;
}
