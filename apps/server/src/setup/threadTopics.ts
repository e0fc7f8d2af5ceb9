// Per-thread channels for setup output: line batches and end markers on a PubSub, the lock that
// orders log appends against `follow` snapshots, and the run in progress. It runs nothing itself.
import type { SpindleError, ThreadId } from "@spindle/contracts"
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as PubSub from "effect/PubSub"
import * as Semaphore from "effect/Semaphore"
import * as Stream from "effect/Stream"
import type { OutputLog } from "./outputLog.ts"
import type { OutputStream, SetupLine, SetupResult } from "./setupModel.ts"

/** Batches a slow subscriber may fall behind by; the oldest go first, so the end marker always arrives. */
const SUBSCRIBER_BACKLOG = 256

export type TopicEvent =
  | {
      readonly _tag: "lines"
      readonly run: number
      readonly stream: OutputStream
      readonly lines: ReadonlyArray<string>
    }
  | { readonly _tag: "end" }

export interface Running {
  run: number | undefined
  /** Set, under the topic lock, just before the log file gets its first byte. */
  started: { readonly run: number; readonly logPath: string; readonly log: OutputLog } | undefined
  /** Callers awaiting the result; the run stops when the last one is interrupted. */
  waiters: number
  readonly stop: Deferred.Deferred<void>
  readonly done: Deferred.Deferred<SetupResult, SpindleError>
}

export interface Topic {
  readonly pubsub: PubSub.PubSub<TopicEvent>
  readonly lock: Semaphore.Semaphore
  current: Running | undefined
  /** A run and each subscriber hold the topic; it goes away when none does. */
  users: number
}

/** The lines of one run from a subscription, ending at the run's end marker. */
export const liveLines = (subscription: PubSub.Subscription<TopicEvent>): Stream.Stream<SetupLine> =>
  Stream.fromSubscription(subscription).pipe(
    Stream.takeUntil((event) => event._tag === "end", { excludeLast: true }),
    Stream.map((event) =>
      event._tag === "lines"
        ? event.lines.map((line) => ({ run: event.run, stream: event.stream, line }))
        : []
    ),
    Stream.flattenIterable
  )

export const makeThreadTopics = () => {
  const topics = new Map<ThreadId, Topic>()

  const open = (threadId: ThreadId) =>
    Effect.gen(function* () {
      const pubsub = yield* PubSub.sliding<TopicEvent>(SUBSCRIBER_BACKLOG)
      // Looked up after the last yield, so two callers never create two topics for one thread.
      const existing = topics.get(threadId)
      const topic = existing ?? { pubsub, lock: Semaphore.makeUnsafe(1), current: undefined, users: 0 }
      if (existing === undefined) topics.set(threadId, topic)
      else yield* PubSub.shutdown(pubsub)
      topic.users++
      return topic
    })

  const close = (threadId: ThreadId, topic: Topic) =>
    Effect.suspend(() => {
      topic.users--
      if (topic.users > 0 || topic.current !== undefined) return Effect.void
      topics.delete(threadId)
      return PubSub.shutdown(topic.pubsub)
    })

  return {
    current: (threadId: ThreadId): Running | undefined => topics.get(threadId)?.current,
    open,
    close,
    /** Holds the thread's topic for the enclosing scope. */
    use: (threadId: ThreadId) => Effect.acquireRelease(open(threadId), (topic) => close(threadId, topic))
  }
}
