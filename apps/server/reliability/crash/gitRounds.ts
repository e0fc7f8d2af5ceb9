// Crash rounds at the server's own crash points where a git of the killed server outlives it, each
// followed by a restart at once: during a checkout (right after `git worktree add` started; in odd rounds
// that git waits on a ref lock another git holds, so it is certainly still running when the server
// is back; in even rounds it runs free and ends however it ends) and during an archive (while
// `git worktree remove` runs, and just after the thread was archived, with an agent's change in
// its worktree). The round then lets any orphaned git finish before the shared invariants run, so
// a git that recovery failed to end has done its damage by then.
import { mkdirSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { gitProcessesOn } from "../../src/git/orphanedGit.ts"
import { git } from "../../src/testing/fixtures.ts"
import { worktreesOf, worktreesRoot } from "../harness/disk.ts"
import { promise } from "../harness/scenario.ts"
import { isAlive, kill9, startSpindle, waitForExit } from "../harness/spindle.ts"
import { attach } from "../harness/tracker.ts"
import {
  adminClient,
  bootstrap,
  bootstrapCommand,
  createProject,
  dispatch,
  getThread,
  seedAgentWork,
  seededRepo
} from "../harness/world.ts"
import type { RoundContext, RoundOutcome } from "./round.ts"

/** The crash-point stages: a checkout (held on a ref lock in odd rounds), an archive mid-remove, one before its cleanup. */
export type PointStage = "checkout-locked" | "archive-removing" | "archive-archived"
export const POINT_STAGES: ReadonlyArray<PointStage> = [
  "checkout-locked",
  "archive-removing",
  "archive-archived"
]

const CRASH_POINT: Record<PointStage, string> = {
  "checkout-locked": "worktree-git-running",
  "archive-removing": "worktree-removing",
  "archive-archived": "thread-archived"
}

/** Live `git worktree add` or `remove` processes naming a path under `root`, whoever started them. */
const gitWorking = (root: string) => [
  ...gitProcessesOn(root, Number.MAX_SAFE_INTEGER, ["worktree", "add"]),
  ...gitProcessesOn(root, Number.MAX_SAFE_INTEGER, ["worktree", "remove"])
]

/** True once `condition` holds (checked every 20 ms, at most 20 s). */
const eventually = (condition: () => boolean) =>
  Effect.sync(condition).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutOption("20 seconds"),
    Effect.map((found) => found._tag === "Some")
  )

const describeThread = (t: Thread) =>
  `${t.status}, bootstrap ${t.bootstrap.status}/${t.bootstrap.stage}, cleanup ${t.cleanup?.outcome ?? "none"}`

export const gitCrashRound = (ctx: RoundContext, stage: PointStage) =>
  Effect.gen(function* () {
    const label = `${ctx.stage}-${ctx.round}`
    const { repo, seeded } = seededRepo(ctx.dir, `repo-${label}`)
    ctx.seeded.push(...seeded)
    const projectId = `p-${label}`
    const threadId = `t-${label}`
    const branch = `spindle/crash-${ctx.round}`
    const problems: Array<string> = []
    const root = worktreesRoot(ctx.home)
    const checkout = stage === "checkout-locked"
    // Odd checkout rounds: another git holds the new branch's ref lock for now.
    const lock = join(repo, ".git", "refs", "heads", "spindle", `crash-${ctx.round}.lock`)
    if (checkout && ctx.round % 2 === 1) {
      git(repo, "config", "core.filesRefLockTimeout", "60000")
      mkdirSync(join(repo, ".git", "refs", "heads", "spindle"), { recursive: true })
      writeFileSync(lock, "")
    }
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        rmSync(lock, { force: true })
        // git leads its own process group.
        for (const pid of gitWorking(root)) {
          try {
            process.kill(-pid, "SIGKILL")
          } catch {
            // gone
          }
        }
      })
    )

    const connect = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Scope.provide(effect, ctx.connections)
    const doomed = yield* startSpindle(ctx.home, { env: { SPINDLE_TEST_CRASH_AT: CRASH_POINT[stage] } })
    yield* connect(attach(ctx.tracker, doomed.url, doomed.ownerToken))
    const client = yield* connect(adminClient(doomed))
    yield* createProject(client, projectId, repo)
    const command = bootstrapCommand(
      projectId,
      threadId,
      { mode: "new_worktree", branch },
      { runSetupScript: false }
    )
    if (checkout) {
      const sent = yield* Effect.exit(bootstrap(client, command, "turn").pipe(Effect.timeout("30 seconds")))
      if (sent._tag === "Success") problems.push("the bootstrap finished: its checkout never started")
    } else {
      const started = yield* bootstrap(client, command, "turn")
      if (stage === "archive-archived") ctx.seeded.push(seedAgentWork(started.worktreePath, label))
      const sent = yield* Effect.exit(
        dispatch(client, { type: "thread.archive", commandId: `archive-${label}`, threadId }).pipe(
          Effect.timeout("30 seconds")
        )
      )
      if (sent._tag === "Success")
        problems.push(`the archive finished: crash point ${CRASH_POINT[stage]} was never reached`)
    }
    if (!(yield* promise(() => waitForExit(doomed.pid, 20_000)))) problems.push("the server did not die")
    const crashed = !isAlive(doomed.pid)
    ctx.outputs[`${label} (killed)`] = doomed.output()
    yield* promise(() => kill9(doomed))

    // Restart at once: whatever git the killed server left may still be running.
    const restartAt = Date.now()
    const server = yield* startSpindle(ctx.home)
    const recoveryMs = Date.now() - restartAt
    ctx.outputs[`${label} (restarted)`] = server.output()
    const leftRunning = gitWorking(root)
    if (leftRunning.length > 0)
      problems.push(`recovery left a git from before the restart running (pid ${leftRunning.join(", ")})`)
    // The other git lets go of its lock; an orphaned git would now go on and finish or fail.
    rmSync(lock, { force: true })
    if (!(yield* eventually(() => gitWorking(root).length === 0)))
      problems.push("a git worktree add was still running 20 s after the restart")
    yield* connect(attach(ctx.tracker, server.url, server.ownerToken))
    const after = yield* connect(adminClient(server))
    const found = yield* Effect.option(getThread(after, threadId))
    let thread = found._tag === "Some" ? found.value : undefined

    if (thread === undefined) problems.push("the thread is gone after recovery")
    else if (checkout) {
      if (thread.bootstrap.status !== "failed" || thread.bootstrap.stage !== "workspace")
        problems.push(`a checkout cut short should be rolled back (${describeThread(thread)})`)
    } else {
      const expected = stage === "archive-removing" ? "removed" : "kept"
      if (thread.status !== "archived" || thread.cleanup?.outcome !== expected)
        problems.push(
          `the archive should be recorded with its worktree ${expected} (${describeThread(thread)})`
        )
      // Even rounds bring the thread back: unarchive must make a real worktree.
      if (ctx.round % 2 === 0) {
        yield* dispatch(after, { type: "thread.unarchive", commandId: `unarchive-${label}`, threadId })
        thread = yield* getThread(after, threadId)
        const path = thread.workspace.worktreePath
        if (thread.status !== "active" || path === null)
          problems.push(`unarchive did not bring the thread back (${describeThread(thread)})`)
        else if (!worktreesOf(repo).some((w) => w.path === path && w.branch === thread?.workspace.branch))
          problems.push(`unarchive answered ${path}, which git does not list with the thread's branch`)
      }
    }
    const outcome: RoundOutcome = { crashed, problems, recoveryMs, thread, server }
    return outcome
  })
