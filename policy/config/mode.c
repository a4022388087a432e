#include "policy/config/mode.h"

const char *mode_name(enum mode m)
{
    return m == MODE_WARN ? "warn" : m == MODE_AUDIT ? "audit" : "enforce";
}
