/* platform.h -- what pyad needs from the OS and the compiler: a mutex,
 * thread-local storage, a flag one thread raises and others poll, and a
 * counter threads add to. */
#ifndef PYAD_PLATFORM_H
#define PYAD_PLATFORM_H

#if defined(_WIN32)
#include <windows.h>
typedef SRWLOCK pyad_mutex_t;
#define PYAD_MUTEX_INIT SRWLOCK_INIT
#define PYAD_THREAD_LOCAL __declspec(thread)
static inline void pyad_lock(pyad_mutex_t *m) { AcquireSRWLockExclusive(m); }
static inline void pyad_unlock(pyad_mutex_t *m) { ReleaseSRWLockExclusive(m); }
/* Flags: aligned int reads and writes are atomic on every Windows target;
 * the barriers keep the compiler from caching the flag in a register. */
static inline int pyad_flag_get(const int *f) { return InterlockedCompareExchange((volatile LONG *)f, 0, 0) != 0; }
static inline void pyad_flag_set(int *f, int v) { InterlockedExchange((volatile LONG *)f, v); }
/* Counters: read without a barrier (a thread sees its own updates). */
static inline int pyad_count_get(const int *c) { return *(volatile const int *)c; }
static inline void pyad_count_add(int *c, int d) { InterlockedExchangeAdd((volatile LONG *)c, d); }
#else
#include <pthread.h>
typedef pthread_mutex_t pyad_mutex_t;
#define PYAD_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define PYAD_THREAD_LOCAL _Thread_local
static inline void pyad_lock(pyad_mutex_t *m) { pthread_mutex_lock(m); }
static inline void pyad_unlock(pyad_mutex_t *m) { pthread_mutex_unlock(m); }
/* Flags (cancel requests): relaxed atomics; a poller may see a set flag one
 * poll late, which only delays the stop by one block. */
static inline int pyad_flag_get(const int *f) { return __atomic_load_n(f, __ATOMIC_RELAXED) != 0; }
static inline void pyad_flag_set(int *f, int v) { __atomic_store_n(f, v, __ATOMIC_RELAXED); }
/* Counters: relaxed atomics (a thread sees its own updates in order). */
static inline int pyad_count_get(const int *c) { return __atomic_load_n(c, __ATOMIC_RELAXED); }
static inline void pyad_count_add(int *c, int d) { __atomic_add_fetch(c, d, __ATOMIC_RELAXED); }
#endif

#endif
