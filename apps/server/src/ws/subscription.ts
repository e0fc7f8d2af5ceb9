// An event subscription for one WebSocket client: replay then live, through a bounded buffer so
// a slow client cannot hold memory or slow anyone else. When the buffer overflows, the feed
// stops at once; the client still gets what was buffered, then an error naming the last
// sequence it was sent, from which it resubscribes.
import { SpindleError, type SpindleEvent } from "@spindle/contracts"
import type * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Stream from "effect/Stream"
import type { Engine } from "../engine/Engine.ts"

export const SUBSCRIBER_BUFFER = 4_096

export const boundedEvents = (
  engine: Engine["Service"],
  fromSequence: number,
  capacity = SUBSCRIBER_BUFFER
): Stream.Stream<SpindleEvent, SpindleError> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const buffer = yield* Queue.dropping<SpindleEvent, SpindleError | Cause.Done>(capacity)
      let enqueued = fromSequence
      const feed = engine.events(fromSequence).pipe(
        Stream.runForEachWhile((event) =>
          Effect.suspend(() => {
            if (Queue.offerUnsafe(buffer, event)) {
              enqueued = event.sequence
              return Effect.succeed(true)
            }
            return Effect.as(
              Queue.fail(
                buffer,
                new SpindleError({
                  reason: "unavailable",
                  message: `This subscriber fell ${capacity} events behind and was cut off. Subscribe again from sequence ${enqueued}.`,
                  sequence: enqueued
                })
              ),
              false
            )
          })
        ),
        Effect.catch((error) => Queue.fail(buffer, error))
      )
      yield* Effect.forkScoped(feed)
      return Stream.fromQueue(buffer)
    })
  )
