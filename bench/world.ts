// A server core for the bootstrap benchmarks: the whole CoreLayer over a temp home, one project
// on `repo`, and a function that starts a new_worktree thread (no setup script, turn requested).
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { StartupGate } from "../apps/server/src/bootstrap/StartupGate.ts"
import { Commands } from "../apps/server/src/commands/Commands.ts"
import { Engine } from "../apps/server/src/engine/Engine.ts"
import { CoreLayer } from "../apps/server/src/main.ts"
import { serverActor, testSettings } from "../apps/server/src/testing/fixtures.ts"

export const benchWorld = async (
  dir: string,
  repo: string,
  scope: Scope.Scope,
  project: Record<string, unknown> = {}
) => {
  const home = join(dir, "home")
  mkdirSync(home, { mode: 0o700 })
  const context = await Effect.runPromise(Layer.buildWithScope(CoreLayer(testSettings(home)), scope))
  const commands = Context.get(context, Commands)
  await Effect.runPromise(Context.get(context, Engine).ready)
  await Effect.runPromise(Context.get(context, StartupGate).markReady)
  await Effect.runPromise(
    commands.dispatch(
      { type: "project.create", commandId: "bench", projectId: "bench", workspaceRoot: repo, ...project },
      serverActor
    )
  )
  let id = 0
  const bootstrap = () => {
    id++
    return Effect.runPromise(
      commands.dispatch(
        {
          type: "thread.turn.start",
          commandId: `bench-${id}`,
          threadId: `t${id}`,
          prompt: "benchmark",
          bootstrap: { createThread: { projectId: "bench" }, workspace: { mode: "new_worktree" } }
        },
        serverActor
      )
    )
  }
  return { context, bootstrap }
}
