// An event subscription for one WebSocket client: replay then live, through a bounded buffer so
// a slow client cannot hold memory or slow anyone else; when the buffer overflows the stream
// ends with an error naming the last sequence delivered, from which the client resumes.
import { SpindleError, type SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { Engine } from "../orchestration/Engine.ts"

export const SUBSCRIBER_BUFFER = 4_096

export const boundedEvents = (
  engine: Engine["Service"],
  fromSequence: number,
  capacity = SUBSCRIBER_BUFFER
): Stream.Stream<SpindleEvent, SpindleError> => {
  let delivered = fromSequence
  return engine.events(fromSequence).pipe(
    Stream.buffer({ capacity, strategy: "dropping" }),
    // A dropped event shows up as a hole in the sequence: stop there, before the hole.
    Stream.mapEffect((event) => {
      if (event.sequence !== delivered + 1) {
        return Effect.fail(
          new SpindleError({
            reason: "unavailable",
            message: `This subscriber fell more than ${capacity} events behind and was cut off. Subscribe again from sequence ${delivered}.`,
            sequence: delivered
          })
        )
      }
      delivered = event.sequence
      return Effect.succeed(event)
    })
  )
}
