// Test helpers for the setup service: a service over a scoped temp home, process liveness, and
// scripts that hold still until told. Not shipped.
import { mkdirSync, readFileSync, realpathSync } from "node:fs"
import { join } from "node:path"
import * as NodeServices from "@effect/platform-node/NodeServices"
import type { ThreadId } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { SetupScripts, type SetupScriptsOptions } from "../setup/SetupScripts.ts"
import type { SetupLine, SetupRequest } from "../setup/setupModel.ts"
import { tempDir } from "./fixtures.ts"

export const thread = (id: string) => id as ThreadId

/** Short grace so stop paths stay fast. */
export const setupLayer = (logsDir: string, options?: Partial<SetupScriptsOptions>) =>
  SetupScripts.layerWith({ logsDir, killGrace: "300 millis", ...options }).pipe(
    Layer.provide(NodeServices.layer)
  )

/** A service over a fresh logs dir, and a worktree (with a space in its path) to run scripts in. */
export const setupFixture = (options?: Partial<SetupScriptsOptions>) =>
  Effect.gen(function* () {
    const home = realpathSync(yield* tempDir())
    const logsDir = join(home, "logs")
    const worktree = join(home, "work tree")
    mkdirSync(worktree)
    const context = yield* Layer.build(setupLayer(logsDir, options))
    const request = (
      threadId: string,
      script: string | null,
      more?: Partial<SetupRequest>
    ): SetupRequest => ({
      threadId: thread(threadId),
      projectRoot: join(home, "repo"),
      worktreePath: worktree,
      branch: null,
      script,
      timeoutSeconds: 10,
      ...more
    })
    return { service: Context.get(context, SetupScripts), home, logsDir, worktree, request }
  })

/** Running, and not just a zombie waiting for an init process to reap it. */
export const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, "utf8"))
  } catch {
    return false
  }
}

export const readPid = (dir: string) => Number(readFileSync(join(dir, "pid"), "utf8"))

/** Backgrounds a child that ignores SIGTERM, records its pid in `<worktree>/pid`, prints `started`, waits. */
export const stubbornChild =
  `sh -c 'trap "" TERM; while :; do sleep 0.1; done' & echo $! > "$SPINDLE_WORKTREE_PATH/pid"; ` +
  "echo started; wait"

/** Waits until `<worktree>/go` exists: the test says when a script may go on. */
export const waitForGo = 'while [ ! -e "$SPINDLE_WORKTREE_PATH/go" ]; do sleep 0.02; done'

/** Whether `text` arrives on `lines` before they end. */
export const sawLine = (lines: Stream.Stream<SetupLine>, text: string) =>
  lines.pipe(
    Stream.filter((line) => line.line === text),
    Stream.runHead,
    Effect.map(Option.isSome)
  )
