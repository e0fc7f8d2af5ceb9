// One lock per key (a thread, a repository): work on the same key runs one at a time, work on
// different keys runs side by side. A key's lock exists while someone holds it or waits for it,
// and is forgotten after, so a server that sees many threads does not keep a lock for each.
import * as Effect from "effect/Effect"
import * as Semaphore from "effect/Semaphore"

export interface KeyedLock<K> {
  /** Runs `effect` holding `key`'s lock. Not reentrant. */
  <A, E, R>(key: K, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R>
  /** Whether someone holds `key`'s lock or waits for it. */
  readonly busy: (key: K) => boolean
  /** How many keys have a lock now (held or waited for). */
  readonly size: () => number
}

export const makeKeyedLock = <K>(): KeyedLock<K> => {
  const locks = new Map<K, { readonly lock: Semaphore.Semaphore; users: number }>()
  const withLock = <A, E, R>(key: K, effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.suspend(() => {
      let entry = locks.get(key)
      if (entry === undefined) {
        entry = { lock: Semaphore.makeUnsafe(1), users: 0 }
        locks.set(key, entry)
      }
      const held = entry
      held.users += 1
      return Effect.ensuring(
        held.lock.withPermit(effect),
        Effect.sync(() => {
          held.users -= 1
          if (held.users === 0 && locks.get(key) === held) locks.delete(key)
        })
      )
    })
  return Object.assign(withLock, {
    busy: (key: K) => locks.has(key),
    size: () => locks.size
  })
}
