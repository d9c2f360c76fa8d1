/* Preallocated open-addressing hash indexes over the mapping pools, keyed with a secret SipHash. */
#include "maptab.h"

#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CAPACITY_MAX (1u << 24)
#define KEY_MAX	     34 /* the longest index key: ver, ctx_ver, context, reference */
#define EMPTY	     0

/*
 * One index: slots hold a pool position + 1 (0 is empty), linear probing, backward-shift
 * deletion so that no tombstones accumulate. The key of an entry is rebuilt from the pool.
 */
struct index {
	uint32_t *slots;
	uint32_t mask;
	size_t (*key_of)(const struct maptab *t, uint32_t pos, uint8_t *key);
};

struct maptab {
	uint8_t hash_key[crypto_shorthash_KEYBYTES];
	uint32_t capacity;
	struct maptab_remote *remote;
	struct maptab_local *local;
	bool *remote_live, *local_live;
	uint32_t *remote_free, *local_free; /* stacks of free pool positions */
	uint32_t remote_nfree, local_nfree;
	struct index by_encoded, by_remote, by_ref, by_local;
	uint32_t scan_remote, scan_local; /* where the use collection goes on */
	uint32_t epoch;
	uint64_t generation; /* changes with every addition or removal */
};

static size_t key_encoded(uint8_t ver, const uint8_t *addr, uint8_t *key)
{
	key[0] = ver;
	memcpy(key + 1, addr, 16);
	return 17;
}

static size_t key_remote(uint8_t ver, uint8_t ctx_ver, const uint8_t *ctx,
			 const struct ipr_ref *ref, uint8_t *key)
{
	key[0] = ver;
	key[1] = ctx_ver;
	memcpy(key + 2, ctx, 16);
	ipr_ref_to_bytes(ref, key + 18);
	return KEY_MAX;
}

static size_t key_ref(const struct ipr_ref *ref, uint8_t *key)
{
	ipr_ref_to_bytes(ref, key);
	return 16;
}

static size_t kof_encoded(const struct maptab *t, uint32_t pos, uint8_t *key)
{
	return key_encoded(t->remote[pos].ver, t->remote[pos].encoded, key);
}

static size_t kof_remote(const struct maptab *t, uint32_t pos, uint8_t *key)
{
	const struct maptab_remote *r = &t->remote[pos];

	return key_remote(r->ver, r->ctx_ver, r->ctx, &r->ref, key);
}

static size_t kof_ref(const struct maptab *t, uint32_t pos, uint8_t *key)
{
	return key_ref(&t->local[pos].ref, key);
}

static size_t kof_local(const struct maptab *t, uint32_t pos, uint8_t *key)
{
	return key_encoded(t->local[pos].ver, t->local[pos].addr, key);
}

static uint32_t hash(const struct maptab *t, const uint8_t *key, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint32_t h;

	crypto_shorthash(out, key, len, t->hash_key);
	memcpy(&h, out, sizeof(h));
	return h;
}

static bool key_at(const struct maptab *t, const struct index *ix, uint32_t pos, const uint8_t *key,
		   size_t len)
{
	uint8_t other[KEY_MAX];

	return ix->key_of(t, pos, other) == len && memcmp(other, key, len) == 0;
}

/* The slot holding key, or the empty slot where it would go. */
static uint32_t probe(const struct maptab *t, const struct index *ix, const uint8_t *key,
		      size_t len)
{
	uint32_t i = hash(t, key, len) & ix->mask;

	while (ix->slots[i] != EMPTY && !key_at(t, ix, ix->slots[i] - 1, key, len))
		i = (i + 1) & ix->mask;
	return i;
}

static int64_t index_find(const struct maptab *t, const struct index *ix, const uint8_t *key,
			  size_t len)
{
	uint32_t slot = probe(t, ix, key, len);

	return ix->slots[slot] == EMPTY ? -1 : (int64_t)ix->slots[slot] - 1;
}

/* The index has twice the pool's slots, so an empty slot always exists. */
static void index_put(const struct maptab *t, struct index *ix, uint32_t pos)
{
	uint8_t key[KEY_MAX];
	size_t len = ix->key_of(t, pos, key);

	ix->slots[probe(t, ix, key, len)] = pos + 1;
}

/* Removes pos if the index points at it for its key; later entries of the run shift back. */
static void index_del(const struct maptab *t, struct index *ix, uint32_t pos)
{
	uint8_t key[KEY_MAX];
	size_t len = ix->key_of(t, pos, key);
	uint32_t i = probe(t, ix, key, len), j;

	if (ix->slots[i] != pos + 1)
		return;
	ix->slots[i] = EMPTY;
	for (j = (i + 1) & ix->mask; ix->slots[j] != EMPTY; j = (j + 1) & ix->mask) {
		uint8_t k[KEY_MAX];
		size_t n = ix->key_of(t, ix->slots[j] - 1, k);
		uint32_t home = hash(t, k, n) & ix->mask;

		/* move j back to i unless its home lies cyclically in (i, j] */
		if (((j - home) & ix->mask) >= ((j - i) & ix->mask)) {
			ix->slots[i] = ix->slots[j];
			ix->slots[j] = EMPTY;
			i = j;
		}
	}
}

static int index_init(struct index *ix, uint32_t capacity,
		      size_t (*key_of)(const struct maptab *, uint32_t, uint8_t *))
{
	uint32_t size = 2;

	while (size < 2 * capacity)
		size <<= 1;
	ix->slots = calloc(size, sizeof(*ix->slots));
	ix->mask = size - 1;
	ix->key_of = key_of;
	return ix->slots ? 0 : -ENOMEM;
}

static void reset_free(struct maptab *t)
{
	for (uint32_t i = 0; i < t->capacity; i++) {
		t->remote_free[i] = t->capacity - 1 - i;
		t->local_free[i] = t->capacity - 1 - i;
	}
	t->remote_nfree = t->local_nfree = t->capacity;
}

int maptab_new(uint32_t capacity, struct maptab **out)
{
	struct maptab *t;
	int rc = -ENOMEM;

	if (capacity == 0 || capacity > CAPACITY_MAX)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->capacity = capacity;
	t->remote = calloc(capacity, sizeof(*t->remote));
	t->local = calloc(capacity, sizeof(*t->local));
	t->remote_live = calloc(capacity, sizeof(bool));
	t->local_live = calloc(capacity, sizeof(bool));
	t->remote_free = calloc(capacity, sizeof(uint32_t));
	t->local_free = calloc(capacity, sizeof(uint32_t));
	if (!t->remote || !t->local || !t->remote_live || !t->local_live || !t->remote_free ||
	    !t->local_free)
		goto out;
	if (index_init(&t->by_encoded, capacity, kof_encoded) < 0 ||
	    index_init(&t->by_remote, capacity, kof_remote) < 0 ||
	    index_init(&t->by_ref, capacity, kof_ref) < 0 ||
	    index_init(&t->by_local, capacity, kof_local) < 0)
		goto out;
	crypto_shorthash_keygen(t->hash_key);
	reset_free(t);
	*out = t;
	return 0;
out:
	maptab_free(t);
	return rc;
}

void maptab_free(struct maptab *t)
{
	if (!t)
		return;
	free(t->by_encoded.slots);
	free(t->by_remote.slots);
	free(t->by_ref.slots);
	free(t->by_local.slots);
	free(t->remote);
	free(t->local);
	free(t->remote_live);
	free(t->local_live);
	free(t->remote_free);
	free(t->local_free);
	sodium_memzero(t->hash_key, sizeof(t->hash_key));
	free(t);
}

void maptab_clear(struct maptab *t)
{
	t->generation++;
	struct index *all[] = { &t->by_encoded, &t->by_remote, &t->by_ref, &t->by_local };

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		memset(all[i]->slots, 0, ((size_t)all[i]->mask + 1) * sizeof(uint32_t));
	memset(t->remote_live, 0, t->capacity * sizeof(bool));
	memset(t->local_live, 0, t->capacity * sizeof(bool));
	reset_free(t);
}

static uint8_t ver_of(int family)
{
	return family == AF_INET ? 4 : family == AF_INET6 ? 6 : 0;
}

static uint8_t ctx_ver_of(const struct ipr_context *c)
{
	return c->kind == IPR_CONTEXT_IPV4 ? 4 : c->kind == IPR_CONTEXT_IPV6 ? 6 : 0;
}

static void remote_from(const struct ipr_mapping *m, struct maptab_remote *r)
{
	memset(r, 0, sizeof(*r));
	r->ver = ver_of(m->family);
	memcpy(r->encoded, m->address, r->ver == 4 ? 4 : 16);
	r->ctx_ver = ctx_ver_of(&m->context);
	if (r->ctx_ver)
		memcpy(r->ctx, m->context.ipv6, r->ctx_ver == 4 ? 4 : 16);
	r->ref = m->ref;
}

static void local_from(const struct ipr_mapping *m, struct maptab_local *l)
{
	memset(l, 0, sizeof(*l));
	l->ver = ver_of(m->family);
	memcpy(l->addr, m->address, l->ver == 4 ? 4 : 16);
	l->ref = m->ref;
	l->kind = (uint8_t)m->kind;
}

static void remote_unlink(struct maptab *t, uint32_t pos)
{
	index_del(t, &t->by_encoded, pos);
	if (t->remote[pos].ctx_ver)
		index_del(t, &t->by_remote, pos);
	t->remote_live[pos] = false;
	t->remote_free[t->remote_nfree++] = pos;
}

/* Frees a remote entry that the new one replaces, keeping what traffic taught about the peer. */
static void remote_replace(struct maptab *t, int64_t old, struct maptab_remote *r)
{
	const struct maptab_remote *o;

	if (old < 0)
		return;
	o = &t->remote[old];
	if (o->ctx_ver == r->ctx_ver && memcmp(o->ctx, r->ctx, 16) == 0 &&
	    ipr_ref_equal(&o->ref, &r->ref)) {
		r->port = o->port;
		r->used = o->used;
		r->has_via = o->has_via;
		r->via = o->via;
	}
	remote_unlink(t, (uint32_t)old);
}

static int add_remote(struct maptab *t, const struct ipr_mapping *m)
{
	struct maptab_remote r;
	uint8_t key[KEY_MAX];
	uint32_t pos;

	remote_from(m, &r);
	r.epoch = t->epoch;
	/* the encoded address is unique in gwctld; so is (family, context, ref) */
	remote_replace(t, index_find(t, &t->by_encoded, key, key_encoded(r.ver, r.encoded, key)),
		       &r);
	if (r.ctx_ver)
		remote_replace(t,
			       index_find(t, &t->by_remote, key,
					  key_remote(r.ver, r.ctx_ver, r.ctx, &r.ref, key)),
			       &r);
	if (t->remote_nfree == 0)
		return -ENOSPC;
	pos = t->remote_free[--t->remote_nfree];
	t->remote[pos] = r;
	t->remote_live[pos] = true;
	index_put(t, &t->by_encoded, pos);
	if (r.ctx_ver)
		index_put(t, &t->by_remote, pos);
	return 0;
}

/* The address index points at one mapping per host: a published one when there is one. */
static void local_reindex_addr(struct maptab *t, const struct maptab_local *gone)
{
	uint32_t best = UINT32_MAX;

	for (uint32_t i = 0; i < t->capacity; i++) {
		const struct maptab_local *l = &t->local[i];
		if (!t->local_live[i] || l->ver != gone->ver || memcmp(l->addr, gone->addr, 16))
			continue;
		if (best == UINT32_MAX || l->kind == IPR_MAP_PUBLISHED)
			best = i;
	}
	if (best != UINT32_MAX)
		index_put(t, &t->by_local, best);
}

static void local_unlink(struct maptab *t, uint32_t pos)
{
	uint8_t key[KEY_MAX];
	struct maptab_local gone = t->local[pos];
	bool indexed = index_find(t, &t->by_local, key, key_encoded(gone.ver, gone.addr, key)) ==
		       (int64_t)pos;

	index_del(t, &t->by_ref, pos);
	index_del(t, &t->by_local, pos);
	t->local_live[pos] = false;
	t->local_free[t->local_nfree++] = pos;
	if (indexed)
		local_reindex_addr(t, &gone);
}

static int add_local(struct maptab *t, const struct ipr_mapping *m)
{
	struct maptab_local l;
	uint8_t key[KEY_MAX];
	int64_t old;
	uint32_t pos;

	local_from(m, &l);
	l.epoch = t->epoch;
	old = index_find(t, &t->by_ref, key, key_ref(&l.ref, key));
	if (old >= 0)
		local_unlink(t, (uint32_t)old);
	if (t->local_nfree == 0)
		return -ENOSPC;
	pos = t->local_free[--t->local_nfree];
	t->local[pos] = l;
	t->local_live[pos] = true;
	index_put(t, &t->by_ref, pos);
	old = index_find(t, &t->by_local, key, key_encoded(l.ver, l.addr, key));
	if (old < 0)
		index_put(t, &t->by_local, pos);
	else if (l.kind == IPR_MAP_PUBLISHED && t->local[old].kind != IPR_MAP_PUBLISHED)
		t->by_local.slots[probe(t, &t->by_local, key, 17)] = pos + 1;
	return 0;
}

int maptab_add(struct maptab *t, const struct ipr_mapping *m)
{
	t->generation++;
	if (!ver_of(m->family))
		return -EINVAL;
	switch (m->kind) {
	case IPR_MAP_PUBLISHED:
	case IPR_MAP_DYNAMIC_LOCAL:
		return add_local(t, m);
	case IPR_MAP_DYNAMIC_REMOTE:
	case IPR_MAP_STATIC_EXTERNAL:
		return add_remote(t, m);
	}
	return -EINVAL;
}

int maptab_remove(struct maptab *t, const struct ipr_mapping *m)
{
	t->generation++;
	uint8_t key[KEY_MAX];
	int64_t pos;

	if (!ver_of(m->family))
		return -EINVAL;
	if (ipr_mapping_is_local(m)) {
		pos = index_find(t, &t->by_ref, key, key_ref(&m->ref, key));
		if (pos < 0)
			return -ENOENT;
		local_unlink(t, (uint32_t)pos);
		return 0;
	}
	pos = index_find(t, &t->by_encoded, key, key_encoded(ver_of(m->family), m->address, key));
	if (pos < 0)
		return -ENOENT;
	remote_unlink(t, (uint32_t)pos);
	return 0;
}

struct maptab_remote *maptab_find_encoded(struct maptab *t, uint8_t ver, const uint8_t *addr)
{
	uint8_t key[KEY_MAX], a[16] = { 0 };
	int64_t pos;

	memcpy(a, addr, ver == 4 ? 4 : 16);
	pos = index_find(t, &t->by_encoded, key, key_encoded(ver, a, key));
	return pos < 0 ? NULL : &t->remote[pos];
}

struct maptab_local *maptab_find_local(struct maptab *t, uint8_t ver, const uint8_t *addr)
{
	uint8_t key[KEY_MAX], a[16] = { 0 };
	int64_t pos;

	memcpy(a, addr, ver == 4 ? 4 : 16);
	pos = index_find(t, &t->by_local, key, key_encoded(ver, a, key));
	return pos < 0 ? NULL : &t->local[pos];
}

struct maptab_local *maptab_find_ref(struct maptab *t, const struct ipr_ref *ref)
{
	uint8_t key[KEY_MAX];
	int64_t pos = index_find(t, &t->by_ref, key, key_ref(ref, key));

	return pos < 0 ? NULL : &t->local[pos];
}

struct maptab_remote *maptab_find_remote(struct maptab *t, uint8_t ver, uint8_t ctx_ver,
					 const uint8_t *ctx, const struct ipr_ref *ref)
{
	uint8_t key[KEY_MAX], c[16] = { 0 };
	int64_t pos;

	memcpy(c, ctx, ctx_ver == 4 ? 4 : 16);
	pos = index_find(t, &t->by_remote, key, key_remote(ver, ctx_ver, c, ref, key));
	return pos < 0 ? NULL : &t->remote[pos];
}

uint32_t maptab_remote_count(const struct maptab *t)
{
	return t->capacity - t->remote_nfree;
}

uint32_t maptab_local_count(const struct maptab *t)
{
	return t->capacity - t->local_nfree;
}

unsigned maptab_collect_used(struct maptab *t, const struct maptab_use_visitor *v, unsigned limit)
{
	unsigned n = 0;

	for (; t->scan_remote < t->capacity && n < limit; t->scan_remote++) {
		struct maptab_remote *r = &t->remote[t->scan_remote];
		if (!t->remote_live[t->scan_remote] || !r->used)
			continue;
		if (!v->remote(v->ctx, r))
			return n;
		r->used = r->replied = false;
		n++;
	}
	for (; t->scan_local < t->capacity && n < limit; t->scan_local++) {
		struct maptab_local *l = &t->local[t->scan_local];
		if (!t->local_live[t->scan_local] || !l->used)
			continue;
		if (!v->local(v->ctx, l))
			return n;
		l->used = false;
		n++;
	}
	if (t->scan_remote >= t->capacity && t->scan_local >= t->capacity)
		t->scan_remote = t->scan_local = 0;
	return n;
}

void maptab_resync_begin(struct maptab *t)
{
	t->epoch++;
}

uint32_t maptab_resync_end(struct maptab *t)
{
	uint32_t gone = 0;

	t->generation++;
	for (uint32_t i = 0; i < t->capacity; i++) {
		if (t->remote_live[i] && t->remote[i].epoch != t->epoch) {
			remote_unlink(t, i);
			gone++;
		}
		if (t->local_live[i] && t->local[i].epoch != t->epoch) {
			local_unlink(t, i);
			gone++;
		}
	}
	return gone;
}

uint64_t maptab_generation(const struct maptab *t)
{
	return t->generation;
}
