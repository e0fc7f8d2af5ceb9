// The followers of the event log: each reads every event after a sequence, then the live ones as
// the writer publishes them, with no gap and no duplicate. A follower may name the events it wants
// (it is woken by no others), and background followers hear of an event after the ones someone
// waits on, so their work does not stand between a client (or the agents' reactor) and the event.
import type { SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { SqlError } from "effect/sql/SqlError"

/** Which events a follower of the log reads; checked as each is published, so it must be quick. */
export type EventFilter = (event: SpindleEvent) => boolean

/** The events of these types. */
export const ofTypes = (...types: ReadonlyArray<SpindleEvent["type"]>): EventFilter => {
  const set = new Set<string>(types)
  return (event) => set.has(event.type)
}

/** How a follower reads the log. */
export interface Follow {
  /** Only the events it accepts: a follower of a few kinds of event is not woken by the others (`ofTypes`). */
  readonly wanted?: EventFilter
  /**
   * Nobody waits on its reaction (notifications, the radar, the pool, checks): it hears of an
   * event after the followers someone does wait on (a client, the agents' reactor), so its work
   * does not stand between them and the event.
   */
  readonly background?: boolean
}

/** A follower: what it reads, and where it is put until the follower takes it. */
interface Listener {
  readonly wanted: EventFilter | undefined
  readonly queue: Queue.Queue<SpindleEvent>
}

const PAGE_SIZE = 500

/** The followers of a log read by `readAfter` (up to `limit` events after a sequence, in order). */
export const makeFollowers = (
  readAfter: (after: number, limit: number) => Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError>
) => {
  const foreground = new Set<Listener>()
  const background = new Set<Listener>()
  const tiers = [foreground, background]

  /** Hands events just committed (in sequence order) to each follower that wants them. */
  const publish = (events: ReadonlyArray<SpindleEvent>) =>
    Effect.sync(() => {
      if (events.length === 0) return
      for (const tier of tiers) {
        for (const { wanted, queue } of tier) {
          const taken = wanted === undefined ? events : events.filter(wanted)
          if (taken.length > 0) Queue.offerAllUnsafe(queue, taken)
        }
      }
    })

  /** Ends every follower's stream (the log is closing). */
  const close = Effect.sync(() => {
    for (const tier of tiers) {
      for (const listener of tier) Queue.shutdownUnsafe(listener.queue)
      tier.clear()
    }
  })

  const events = (after: number, follow: Follow = {}): Stream.Stream<SpindleEvent, SqlError> =>
    Stream.unwrap(
      Effect.gen(function* () {
        const { wanted } = follow
        const tier = follow.background === true ? background : foreground
        // Listen before reading the backlog, so nothing committed meanwhile is missed;
        // anything seen twice is dropped by sequence.
        const listener: Listener = { wanted, queue: yield* Queue.unbounded<SpindleEvent>() }
        yield* Effect.acquireRelease(
          Effect.sync(() => tier.add(listener)),
          () =>
            Effect.sync(() => {
              tier.delete(listener)
              Queue.shutdownUnsafe(listener.queue)
            })
        )
        /** The highest sequence read or passed over. */
        let last = after
        const deliver = (event: SpindleEvent): Effect.Effect<ReadonlyArray<SpindleEvent>, SqlError> => {
          if (event.sequence <= last) return Effect.succeed([])
          // Only what is wanted comes: the sequences in between went to others.
          if (wanted !== undefined || event.sequence === last + 1) {
            last = event.sequence
            return Effect.succeed([event])
          }
          // A hole (should not happen): fill it from the log before going on.
          return Effect.map(readAfter(last, event.sequence - last), (missing) => {
            last = event.sequence
            return missing
          })
        }
        const backlog = Stream.paginate(after, (cursor: number) =>
          Effect.map(readAfter(cursor, PAGE_SIZE), (page) => {
            const tail = page.at(-1)
            if (tail !== undefined) last = Math.max(last, tail.sequence)
            return [
              wanted === undefined ? page : page.filter(wanted),
              page.length === PAGE_SIZE && tail ? Option.some(tail.sequence) : Option.none()
            ] as const
          })
        )
        return Stream.concat(
          backlog,
          Stream.fromQueue(listener.queue).pipe(Stream.mapEffect(deliver), Stream.flattenIterable)
        )
      })
    )

  return { publish, close, events }
}
