/* Binary min-heap of intrusive nodes (see heap.h). Slots are 1-based in the node so that a
 * zeroed node reads as "not in a heap". */
#include "base/heap.h"

#include <errno.h>
#include <stdlib.h>

void heap_init(struct heap *h, bool (*less)(const struct heap_node *, const struct heap_node *),
               struct heap_node **storage, size_t cap)
{
    h->v = storage;
    h->n = 0;
    h->cap = storage ? cap : 0;
    h->less = less;
    h->growable = storage == NULL;
}

void heap_fini(struct heap *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->n; i++)
        h->v[i]->slot = 0;
    if (h->growable)
        free(h->v);
    h->v = NULL;
    h->n = h->cap = 0;
}

static void place(struct heap *h, size_t i, struct heap_node *n)
{
    h->v[i] = n;
    n->slot = i + 1;
}

/* Moves the node at i up while it is less than its parent. */
static void sift_up(struct heap *h, size_t i)
{
    struct heap_node *n = h->v[i];

    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!h->less(n, h->v[parent]))
            break;
        place(h, i, h->v[parent]);
        i = parent;
    }
    place(h, i, n);
}

/* Moves the node at i down while a child is less than it. */
static void sift_down(struct heap *h, size_t i)
{
    struct heap_node *n = h->v[i];

    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->less(h->v[c + 1], h->v[c]))
            c++;
        if (!h->less(h->v[c], n))
            break;
        place(h, i, h->v[c]);
        i = c;
    }
    place(h, i, n);
}

static void grow(struct heap *h)
{
    size_t cap = h->cap ? h->cap * 2 : 16;
    struct heap_node **v = realloc(h->v, cap * sizeof(*v));

    if (!v)
        abort();
    h->v = v;
    h->cap = cap;
}

int heap_push(struct heap *h, struct heap_node *n)
{
    if (h->n == h->cap) {
        if (!h->growable)
            return -ENOSPC;
        grow(h);
    }
    place(h, h->n++, n);
    sift_up(h, h->n - 1);
    return 0;
}

struct heap_node *heap_top(const struct heap *h)
{
    return h->n ? h->v[0] : NULL;
}

void heap_remove(struct heap *h, struct heap_node *n)
{
    if (!n->slot)
        return;
    size_t i = n->slot - 1;
    struct heap_node *last = h->v[--h->n];

    n->slot = 0;
    if (last == n)
        return;
    place(h, i, last);
    heap_update(h, last);
}

struct heap_node *heap_pop(struct heap *h)
{
    struct heap_node *top = heap_top(h);

    if (top)
        heap_remove(h, top);
    return top;
}

void heap_update(struct heap *h, struct heap_node *n)
{
    size_t i = n->slot - 1;

    if (i > 0 && h->less(n, h->v[(i - 1) / 2]))
        sift_up(h, i);
    else
        sift_down(h, i);
}
