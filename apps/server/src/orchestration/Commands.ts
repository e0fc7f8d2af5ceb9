// The one door for client commands, whatever transport they came by: decode and validate,
// resolve what needs the outside world (paths, git), pass the startup gate, then the engine.
import type { Actor, ClientCommand, DispatchResult } from "@spindle/contracts"
import { SpindleError } from "@spindle/contracts"
import { isDirectory } from "@spindle/shared/fs"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { toSpindleError } from "../git/GitError.ts"
import { Repositories } from "../git/Repositories.ts"
import { decodeClientCommand } from "./decodeCommand.ts"
import { Engine } from "./Engine.ts"
import { StartupGate } from "./StartupGate.ts"

export class Commands extends Context.Service<
  Commands,
  {
    /** Validates untrusted input and dispatches it; bad input changes nothing. */
    readonly dispatch: (input: unknown, actor: Actor) => Effect.Effect<DispatchResult, SpindleError>
  }
>()("spindle/orchestration/Commands") {
  static readonly layer = Layer.effect(
    Commands,
    Effect.gen(function* () {
      const engine = yield* Engine
      const gate = yield* StartupGate
      const repositories = yield* Repositories

      /** A registered project's root is the real path of its repository's top level. */
      const resolveProject = Effect.fn("Commands.resolveProject")(
        function* (command: Extract<ClientCommand, { type: "project.create" }>) {
          const given = command.workspaceRoot
          if (!isDirectory(given)) {
            return yield* new SpindleError({
              reason: "validation",
              field: "workspaceRoot",
              path: given,
              message: `${given} is not an existing directory. Pass the path of a git repository.`
            })
          }
          const workspaceRoot = yield* repositories.root(given)
          const defaultBranch = command.defaultBranch ?? (yield* repositories.defaultBranch(workspaceRoot))
          return {
            ...command,
            workspaceRoot,
            ...(defaultBranch === undefined ? {} : { defaultBranch })
          }
        },
        Effect.catchTag("GitError", (error) => Effect.fail(toSpindleError(error, "workspaceRoot")))
      )

      const dispatch = Effect.fn("Commands.dispatch")(function* (input: unknown, actor: Actor) {
        const command = yield* decodeClientCommand(input)
        if (command.type === "thread.turn.start" && command.bootstrap !== undefined) {
          return yield* new SpindleError({
            reason: "unavailable",
            commandId: command.commandId,
            threadId: command.threadId,
            message:
              "This server cannot bootstrap threads yet. Create the thread with thread.create, then start a turn without bootstrap."
          })
        }
        // Resolving paths only reads, so it does not wait; the mutation waits in the gate.
        const resolved = command.type === "project.create" ? yield* resolveProject(command) : command
        return yield* gate.enqueue(engine.dispatch(resolved, actor))
      })

      return { dispatch }
    })
  )
}
