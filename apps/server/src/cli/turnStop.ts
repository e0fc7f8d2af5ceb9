// What `thread interrupt` and `thread stop` share: ask the interrupt, then wait (at most 15 s) for
// the turn to end and say how it really ended; it may complete before the interrupt reaches the
// agent, or still be running when the wait ends. The contracts' STOP_WAIT_SECONDS, as the MCP tool.
import type { Thread, ThreadId } from "@spindle/contracts"
import { hasLiveTurn } from "@spindle/read-model/turnState"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { commandId } from "./output.ts"
import type { SpindleClient } from "./rpcClient.ts"

/** How long the CLI waits for the turn to end before it answers. */
const STOP_WAIT_MS = 15_000

/** Interrupts the thread's running turn (as `before` shows it) and answers the thread once it ended. */
export const interruptAndWait = (client: SpindleClient, threadId: ThreadId, before: Thread, verb: string) =>
  Effect.gen(function* () {
    yield* client["orchestration.dispatchCommand"]({
      command: { type: "thread.turn.interrupt", commandId: commandId(verb), threadId }
    })
    const turnId = before.latestTurn?.turnId
    return yield* client["thread.get"]({ threadId }).pipe(
      Effect.repeat({
        until: (t) => t.latestTurn?.turnId !== turnId || !hasLiveTurn(t),
        schedule: Schedule.spaced("200 millis")
      }),
      Effect.timeoutOption(STOP_WAIT_MS),
      Effect.flatMap((ended) =>
        ended._tag === "Some" ? Effect.succeed(ended.value) : client["thread.get"]({ threadId })
      )
    )
  })

/** How the turn `before` showed running ended, as `after` shows it: its status, or running. */
export const endOf = (before: Thread, after: Thread) =>
  after.latestTurn?.turnId !== before.latestTurn?.turnId || hasLiveTurn(after)
    ? ("running" as const)
    : after.latestTurn!.status

export const endSentence = (before: Thread, after: Thread) => {
  const turn = `Turn ${before.latestTurn?.turnId} of ${after.id}`
  const end = endOf(before, after)
  if (end === "running")
    return `${turn}: interrupt requested; it has not ended yet ('spindle thread show ${after.id}' tells when it does).`
  return end === "interrupted"
    ? `${turn} ended interrupted.`
    : `${turn} ended ${end} before the interrupt reached the agent.`
}
