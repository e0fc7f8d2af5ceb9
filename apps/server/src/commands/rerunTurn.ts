// `thread.setup.rerun` with `runTurn`: after a failed setup no turn was started, so once a rerun of
// the setup passes, the thread's first turn starts with the prompt (and turn id) it was started
// with, as its bootstrap would have. The prompt comes from the bootstrap's journal.
import { type Actor, type CommandId, SpindleError, type ThreadId, TurnId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { stepCommandId } from "../bootstrap/bootstrapSteps.ts"
import type { Engine } from "../engine/Engine.ts"
import { threadNotFound } from "../engine/notFound.ts"
import type { BootstrapJournal } from "../persistence/BootstrapJournal.ts"

/** The effect that starts the first turn once the setup passed; refused now if it cannot. */
export const firstTurnAfterSetup = (
  engine: Engine["Service"],
  journal: BootstrapJournal["Service"],
  threadId: ThreadId,
  commandId: CommandId,
  actor: Actor
) =>
  Effect.gen(function* () {
    const thread = yield* engine.getThread(threadId)
    if (thread === undefined) return yield* threadNotFound(threadId)
    if (thread.latestTurn !== null) {
      return yield* new SpindleError({
        reason: "conflict",
        threadId,
        message: `Thread ${threadId} already has a turn (${thread.latestTurn.turnId}); rerun its setup without runTurn, and send the next prompt with 'spindle thread send ${threadId} --prompt …'.`
      })
    }
    const first = yield* journal.firstOf(threadId).pipe(
      Effect.mapError(
        (error) =>
          new SpindleError({
            reason: "internal",
            threadId,
            message: `Could not read the thread's first prompt: ${error.message}`
          })
      )
    )
    if (first === undefined) {
      return yield* new SpindleError({
        reason: "validation",
        threadId,
        field: "runTurn",
        message: `Thread ${threadId} was not started with a prompt to run; rerun its setup without runTurn, then send one with 'spindle thread send ${threadId} --prompt …'.`
      })
    }
    return engine
      .dispatch(
        {
          type: "thread.turn.start",
          commandId: stepCommandId(commandId, "first-turn"),
          threadId,
          prompt: first.prompt,
          turnId: TurnId.make(first.turnId)
        },
        actor
      )
      .pipe(Effect.asVoid)
  })
