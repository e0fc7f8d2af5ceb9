// Test helpers for setup runs recorded on a thread: wait for a run's end, rerun, write a file
// an agent could have written. Not shipped.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs"
import { dirname, join } from "node:path"
import type { SpindleEvent } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import type { BootstrapWorld } from "./bootstrap.ts"
import { serverActor } from "./fixtures.ts"

type SetupCompleted = Extract<SpindleEvent, { type: "thread.setup-completed" }>

/** The thread's `thread.setup-completed` for run `run`, once recorded (bounded). */
export const setupEnded = (world: BootstrapWorld, threadId: string, run: number) =>
  world.engine.events(0).pipe(
    Stream.filter(
      (e): e is SetupCompleted =>
        e.type === "thread.setup-completed" && e.payload.threadId === threadId && e.payload.run === run
    ),
    Stream.runHead,
    Effect.flatMap((o) => (o._tag === "Some" ? Effect.succeed(o.value.payload) : Effect.die("no end"))),
    Effect.timeout("20 seconds"),
    Effect.orDie
  )

export const rerun = (world: BootstrapWorld, threadId: string, commandId: string) =>
  world.commands.dispatch({ type: "thread.setup.rerun", commandId, threadId }, serverActor)

/** Writes an executable `.spindle/setup.sh` under `dir` (not committed). */
export const writeSetupFile = (dir: string, content: string) => {
  const file = join(dir, ".spindle", "setup.sh")
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, content)
  chmodSync(file, 0o755)
  return file
}

/** `spindle project update p1 --approve-setup`: the default branch's setup script as it is now. */
export const approveSetup = (world: BootstrapWorld, commandId: string) =>
  world.commands.dispatch(
    { type: "project.update", commandId, projectId: "p1", approveSetup: true },
    serverActor
  )
