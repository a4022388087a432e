#include "policy/config/setdb.h"

#include <stdlib.h>
#include <string.h>

/*
 * A plain array: runs know tens of sets, rarely thousands, and every question asked of the store
 * (which sets does this selector reach?) looks at all of them anyway.
 */
struct setdb {
    struct setdb_entry *items;
    size_t n, alloc;
    bool complete[SETDB_N_KINDS];
    const char *why[SETDB_N_KINDS];
};

struct setdb *setdb_new(void)
{
    return calloc(1, sizeof(struct setdb));
}

void setdb_entry_release(struct setdb_entry *entry)
{
    size_t i;

    if (!entry)
        return;
    free(entry->ns);
    free(entry->name);
    json_decref(entry->labels);
    cidrset_free(entry->nets);
    for (i = 0; i < entry->n_domains; i++)
        free(entry->domains[i]);
    free(entry->domains);
    free(entry->error);
    free(entry->where);
    memset(entry, 0, sizeof(*entry));
}

void setdb_free(struct setdb *db)
{
    size_t i;

    if (!db)
        return;
    for (i = 0; i < db->n; i++)
        setdb_entry_release(&db->items[i]);
    free(db->items);
    free(db);
}

static bool same(const struct setdb_entry *a, enum setdb_kind kind, const char *ns,
                 const char *name)
{
    return a->kind == kind && !strcmp(a->ns ? a->ns : "", ns ? ns : "") &&
           !strcmp(a->name ? a->name : "", name ? name : "");
}

int setdb_add(struct setdb *db, struct setdb_entry *entry)
{
    struct setdb_entry *slot = NULL;
    size_t i;

    if (!entry->labels && !(entry->labels = json_object()))
        goto fail;
    if (!entry->ns && !(entry->ns = strdup("")))
        goto fail;
    if (!entry->name && !(entry->name = strdup("")))
        goto fail;
    for (i = 0; i < db->n && !slot; i++)
        if (same(&db->items[i], entry->kind, entry->ns, entry->name))
            slot = &db->items[i];
    if (slot) {
        setdb_entry_release(slot);
    } else {
        if (db->n == db->alloc) {
            size_t na = db->alloc ? db->alloc * 2 : 16;
            struct setdb_entry *grown = realloc(db->items, na * sizeof(*grown));

            if (!grown)
                goto fail;
            db->items = grown;
            db->alloc = na;
        }
        slot = &db->items[db->n++];
    }
    *slot = *entry;
    memset(entry, 0, sizeof(*entry));
    return 0;
fail:
    setdb_entry_release(entry);
    return -1;
}

void setdb_set_complete(struct setdb *db, bool complete)
{
    for (int k = 0; k < SETDB_N_KINDS; k++)
        setdb_set_kind_complete(db, (enum setdb_kind)k, complete, NULL);
}

void setdb_set_kind_complete(struct setdb *db, enum setdb_kind kind, bool complete,
                             const char *why)
{
    if ((int)kind < 0 || kind >= SETDB_N_KINDS)
        return;
    db->complete[kind] = complete;
    db->why[kind] = complete ? NULL : why;
}

bool setdb_complete(const struct setdb *db)
{
    for (int k = 0; k < SETDB_N_KINDS; k++)
        if (!setdb_kind_complete(db, (enum setdb_kind)k))
            return false;
    return true;
}

bool setdb_kind_complete(const struct setdb *db, enum setdb_kind kind)
{
    return db && (int)kind >= 0 && kind < SETDB_N_KINDS && db->complete[kind];
}

const char *setdb_kind_why(const struct setdb *db, enum setdb_kind kind)
{
    return db && (int)kind >= 0 && kind < SETDB_N_KINDS ? db->why[kind] : NULL;
}

size_t setdb_count(const struct setdb *db)
{
    return db ? db->n : 0;
}

const struct setdb_entry *setdb_get(const struct setdb *db, size_t i)
{
    return db && i < db->n ? &db->items[i] : NULL;
}

const struct setdb_entry *setdb_find(const struct setdb *db, enum setdb_kind kind, const char *ns,
                                     const char *name)
{
    size_t i;

    for (i = 0; db && i < db->n; i++)
        if (same(&db->items[i], kind, ns, name))
            return &db->items[i];
    return NULL;
}

const char *setdb_kind_name(enum setdb_kind kind)
{
    switch (kind) {
    case SETDB_NETWORKSET:
        return "NetworkSet";
    case SETDB_GLOBALNETWORKSET:
        return "GlobalNetworkSet";
    case SETDB_HOSTENDPOINT:
        return "HostEndpoint";
    case SETDB_CIDRGROUP:
        return "CiliumCIDRGroup";
    }
    return "?";
}
