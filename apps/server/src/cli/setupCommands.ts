// `spindle setup rerun <thread> [--follow]`: runs the project's setup script again in the thread's
// worktree; with --follow, its output as it streams, and exit 1 unless it succeeded.
import type { ThreadId } from "@spindle/contracts"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT } from "./errors.ts"
import { followThread } from "./follow.ts"
import { globalOptions } from "./globals.ts"
import { idArgument } from "./ids.ts"
import { commandId, print, writeLine } from "./output.ts"

const rerun = Command.make(
  "rerun",
  {
    thread: idArgument("thread", "The thread's id"),
    follow: Flag.Boolean("follow").pipe(
      Flag.withDescription("Show its output until it ends (exit 1 unless it succeeded)"),
      Flag.withDefault(false)
    ),
    runTurn: Flag.Boolean("run-turn").pipe(
      Flag.withDescription(
        "Once it passes, start the thread's first turn with the prompt it was started with (after a failed setup)"
      ),
      Flag.withDefault(false)
    )
  },
  ({ thread: threadId, follow, runTurn }) =>
    Effect.gen(function* () {
      const { json } = yield* globalOptions
      const result = yield* withClient((client) =>
        Effect.gen(function* () {
          const from = (yield* client["server.getStatus"]()).sequence
          const progress = follow
            ? yield* Effect.forkChild(
                followThread(client, threadId, from, writeLine, { json, untilSetupFinished: true })
              )
            : undefined
          const dispatched = yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "thread.setup.rerun",
              commandId: commandId("rerun"),
              threadId,
              ...(runTurn ? { runTurn: true } : {})
            }
          }).pipe(Effect.onError(() => (progress === undefined ? Effect.void : Fiber.interrupt(progress))))
          if (progress !== undefined) yield* Effect.ignore(Fiber.await(progress))
          const thread = yield* client["thread.get"]({ threadId: threadId as ThreadId })
          if (
            progress !== undefined &&
            thread.setup.status !== "succeeded" &&
            thread.setup.status !== "no-script"
          ) {
            return yield* new CliFailure({
              code: EXIT.failed,
              reason: "setup-failed",
              message: `setup ${thread.setup.status}. See 'spindle thread logs ${threadId}'.`,
              details: { threadId }
            })
          }
          return {
            sequence: dispatched.sequence,
            setup: thread.setup.status,
            runTurn,
            // Its first prompt never ran (the setup failed before it): said, with how to run it.
            firstTurnPending: thread.latestTurn === null
          }
        })
      )
      yield* print(result, (r) =>
        [
          `Setup ${r.setup} for ${threadId}`,
          ...(!r.firstTurnPending
            ? []
            : r.runTurn
              ? [
                  `Its first turn starts with its original prompt once the setup passes: spindle thread follow ${threadId}`
                ]
              : [
                  `Its original prompt was not run${follow ? "" : " and will not be when this run passes"}. Run it: spindle setup rerun ${threadId} --run-turn (or send another: spindle thread send ${threadId} --prompt …)`
                ])
        ].join("\n")
      )
    })
).pipe(Command.withDescription("Run the project's setup script again in the thread's worktree"))

export const setupCommand = Command.make("setup").pipe(
  Command.withDescription("A thread's setup script"),
  Command.withSubcommands([rerun])
)
