/* A binary min-heap of intrusive nodes, each of which knows its own position.
 *
 * The element embeds a struct heap_node and the caller supplies a strict-weak "less" over two
 * nodes (use container_of style offsets to reach the element). Because every node records its
 * slot, removing or re-keying an arbitrary element is O(log n), which is what a timer wheel of
 * absolute deadlines needs (the io loop's timers). Storage is either a caller-provided array of
 * node pointers (fixed capacity, no allocation) or grown with realloc (allocation failure
 * aborts). A zero-initialised node is "not in a heap". Not thread-safe. */
#ifndef NOSPOF_BASE_HEAP_H
#define NOSPOF_BASE_HEAP_H

#include <stdbool.h>
#include <stddef.h>

struct heap_node {
    size_t slot; /* 0: not in a heap; otherwise 1 + index in heap.v (private) */
};

struct heap {
    struct heap_node **v;
    size_t n, cap;
    bool (*less)(const struct heap_node *a, const struct heap_node *b);
    bool growable; /* v is owned and grown with realloc */
};

/* Initialises an empty heap. With storage == NULL the heap grows on demand (and owns its
 * array); otherwise storage[0..cap) is used and pushes beyond cap fail with -ENOSPC. */
void heap_init(struct heap *h, bool (*less)(const struct heap_node *, const struct heap_node *),
               struct heap_node **storage, size_t cap);

/* Marks every contained node as "not in a heap" and frees owned storage; accepts NULL. */
void heap_fini(struct heap *h);

/* Inserts n, which must not be in a heap. 0, or -ENOSPC when fixed storage is full. */
int heap_push(struct heap *h, struct heap_node *n);

/* The least node, or NULL when empty. */
struct heap_node *heap_top(const struct heap *h);

/* Removes and returns the least node, or NULL when empty. */
struct heap_node *heap_pop(struct heap *h);

/* Removes n from h; a node not in a heap is ignored. */
void heap_remove(struct heap *h, struct heap_node *n);

/* Restores the order after the key of n (which is in h) changed in either direction. */
void heap_update(struct heap *h, struct heap_node *n);

static inline bool heap_contains(const struct heap_node *n)
{
    return n->slot != 0;
}

static inline size_t heap_len(const struct heap *h)
{
    return h->n;
}

#endif
