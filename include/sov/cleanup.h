/* cleanup.h: scope-bound cleanup with __attribute__((cleanup)).
 *
 * sov_autofree char *s = ...;       freed with free() when s leaves scope
 * sov_autoptr(T) x = NULL;          T##_autoptr_cleanup(&x) at scope exit, once
 *                                   SOV_DEFINE_AUTOPTR(T, fn) is declared
 * return SOV_TAKE_PTR(x);           hands ownership on and leaves NULL behind */
#ifndef SOV_CLEANUP_H
#define SOV_CLEANUP_H

#include <stdlib.h>
#include <unistd.h>

#define SOV_CLEANUP(fn) __attribute__((cleanup(fn)))

static inline void
sov_freep(void *p)
{
    free(*(void **) p);
}
#define sov_autofree SOV_CLEANUP(sov_freep)

static inline void
sov_closep(int *fd)
{
    if (*fd >= 0)
        close(*fd);
}
#define sov_autoclose SOV_CLEANUP(sov_closep)

#define SOV_DEFINE_AUTOPTR(T, fn)                                   \
    static inline void T##_autoptr_cleanup(T **p)                   \
    {                                                               \
        if (*p)                                                     \
            fn(*p);                                                 \
    }
#define sov_autoptr(T) SOV_CLEANUP(T##_autoptr_cleanup) T *

/* Return the pointer and leave NULL behind, so cleanup no longer frees it. */
#define SOV_TAKE_PTR(p) __extension__({ __typeof__(p) tmp_ = (p); (p) = NULL; tmp_; })

#define SOV_N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))

#endif
