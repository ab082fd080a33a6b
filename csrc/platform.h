/* platform.h -- the two things pyad needs from the OS: a mutex and
 * thread-local storage. */
#ifndef PYAD_PLATFORM_H
#define PYAD_PLATFORM_H

#if defined(_WIN32)
#include <windows.h>
typedef SRWLOCK pyad_mutex_t;
#define PYAD_MUTEX_INIT SRWLOCK_INIT
#define PYAD_THREAD_LOCAL __declspec(thread)
static inline void pyad_lock(pyad_mutex_t *m) { AcquireSRWLockExclusive(m); }
static inline void pyad_unlock(pyad_mutex_t *m) { ReleaseSRWLockExclusive(m); }
#else
#include <pthread.h>
typedef pthread_mutex_t pyad_mutex_t;
#define PYAD_MUTEX_INIT PTHREAD_MUTEX_INITIALIZER
#define PYAD_THREAD_LOCAL _Thread_local
static inline void pyad_lock(pyad_mutex_t *m) { pthread_mutex_lock(m); }
static inline void pyad_unlock(pyad_mutex_t *m) { pthread_mutex_unlock(m); }
#endif

#endif
