// Several children in one call: refused whole, before anything is made, when they would not all
// fit under the parent's children limit; otherwise each entry starts on its own and is answered on
// its own (ok with its ids, or its error with the stage it failed at), so ids always come back.
import {
  SpindleError,
  type ThreadId,
  type ThreadStartInput,
  type ThreadStartOutput
} from "@spindle/contracts"
import * as Effect from "effect/Effect"

/** Each entry as the transport decoded it: a start, or why it is not one. */
export type BatchRequest = ReadonlyArray<ThreadStartInput | SpindleError>

export type BatchEntry =
  | ({ readonly ok: true } & ThreadStartOutput)
  | {
      readonly ok: false
      readonly error: {
        readonly reason: SpindleError["reason"]
        readonly message: string
        readonly stage: string
        readonly field?: string
        readonly threadId?: ThreadId
      }
    }

export interface BatchServices {
  /** How many more live children the parent may have now. */
  readonly room: Effect.Effect<number>
  readonly start: (input: ThreadStartInput) => Effect.Effect<ThreadStartOutput, SpindleError>
  /** The bootstrap stage a thread's start failed at. */
  readonly stageOf: (threadId: ThreadId) => Effect.Effect<string>
}

const failed = (error: SpindleError, stage: string): BatchEntry => ({
  ok: false,
  error: {
    reason: error.reason,
    message: error.message,
    stage,
    ...(error.field === undefined ? {} : { field: error.field }),
    ...(error.threadId === undefined ? {} : { threadId: error.threadId })
  }
})

export const runBatch = (request: BatchRequest, services: BatchServices) =>
  Effect.gen(function* () {
    const starts = request.filter((entry): entry is ThreadStartInput => !(entry instanceof SpindleError))
    const room = yield* services.room
    // Past the limit, starts are queued unless they say queue: false; only those can be refused whole.
    if (starts.every((start) => start.queue === false) && starts.length > room) {
      return yield* new SpindleError({
        reason: "capacity",
        message: `Starting ${starts.length} threads would pass this thread's limit of live children (room for ${Math.max(room, 0)} more). Nothing was started; start fewer, or stop (archive) children you no longer need.`
      })
    }
    const threads = yield* Effect.forEach(
      request,
      (entry) =>
        entry instanceof SpindleError
          ? Effect.succeed(failed(entry, "validate"))
          : services.start(entry).pipe(
              Effect.map((output): BatchEntry => ({ ok: true, ...output })),
              Effect.catch((error) =>
                Effect.map(
                  error.threadId === undefined
                    ? Effect.succeed("validate")
                    : services.stageOf(error.threadId),
                  (stage) => failed(error, stage)
                )
              )
            ),
      { concurrency: 4 }
    )
    return { threads }
  })
