// One lock per key (a thread, a repository): work on the same key runs one at a time, work on
// different keys runs side by side. Locks are made on first use and kept (keys are few and small).
import type * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"

export const makeKeyedLock = <K>() => {
  const locks = new Map<K, Semaphore.Semaphore>()
  return <A, E, R>(key: K, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
    let lock = locks.get(key)
    if (lock === undefined) {
      lock = Semaphore.makeUnsafe(1)
      locks.set(key, lock)
    }
    return lock.withPermit(effect)
  }
}
