// Named points in a bootstrap or an archive where the crash tests kill the server, as a power
// cut or an OOM kill would. By default reaching one does nothing; only the composition root,
// asked by the crash tests' environment, provides the layer that kills the process there.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

export const CRASH_POINTS = [
  "thread-created",
  "worktree-adding",
  "worktree-git-running",
  "worktree-added",
  "workspace-journaled",
  "turn-requested",
  // Archive: the thread archived, its worktree not yet looked at; `git worktree remove` running.
  "thread-archived",
  "worktree-removing",
  // A child's end recorded (with its parent's notice), the parent's wake not yet started.
  "wake-scheduled"
] as const
export type CrashPoint = (typeof CRASH_POINTS)[number]

export const CrashPoints = Context.Reference<{ readonly reach: (point: CrashPoint) => Effect.Effect<void> }>(
  "spindle/bootstrap/CrashPoints",
  { defaultValue: () => ({ reach: () => Effect.void }) }
)

/** Kills this process with SIGKILL when a bootstrap reaches `point`. */
export const killAt = (point: string) =>
  Layer.succeed(CrashPoints, {
    reach: (reached) =>
      Effect.sync(() => {
        if (reached === point) process.kill(process.pid, "SIGKILL")
      })
  })

/** The crash tests name a point in SPINDLE_TEST_CRASH_AT; otherwise nothing is provided. */
export const crashPointsFromEnv = (env: NodeJS.ProcessEnv): Layer.Layer<never> => {
  const point = env.SPINDLE_TEST_CRASH_AT
  return point === undefined || point === "" ? Layer.empty : killAt(point)
}
