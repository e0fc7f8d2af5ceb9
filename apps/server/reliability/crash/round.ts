// One crash round: the real server runs a bootstrap on a fresh repository and is killed with
// SIGKILL at one stage (by its own crash point, or by us while a fifo holds its setup script),
// an agent's change is left in whatever worktree exists, the server restarts on the same home,
// and the stage's promised outcome is checked. The shared invariants run after every round.
import { execFileSync } from "node:child_process"
import { closeSync, constants, existsSync, openSync, readFileSync, writeSync } from "node:fs"
import { join } from "node:path"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { worktreesOf, worktreesRoot } from "../harness/disk.ts"
import type { SeededChange } from "../harness/invariants.ts"
import { promise } from "../harness/scenario.ts"
import { isAlive, kill9, type Spindle, startSpindle, waitForExit } from "../harness/spindle.ts"
import { attach, type Tracker } from "../harness/tracker.ts"
import {
  adminClient,
  bootstrap,
  bootstrapCommand,
  createProject,
  dispatch,
  getThread,
  seedAgentWork,
  seededRepo,
  waitThread
} from "../harness/world.ts"
import { GIT_STAGES, type GitStage, gitCrashRound } from "./gitRounds.ts"

export type Stage =
  | "thread-created"
  | "worktree-adding"
  | "worktree-added"
  | "workspace-journaled"
  | "setup-running"
  | "turn-requested"
  | GitStage
/**
 * In bootstrap order; all but setup-running are the server's own crash points. Then the rounds
 * where a git outlives the server (crash/gitRounds.ts): a checkout, and an archive.
 */
export const STAGES: ReadonlyArray<Stage> = [
  "thread-created",
  "worktree-adding",
  "worktree-added",
  "workspace-journaled",
  "setup-running",
  "turn-requested",
  ...GIT_STAGES
]
const isGitStage = (stage: Stage): stage is GitStage => (GIT_STAGES as ReadonlyArray<Stage>).includes(stage)

export interface RoundContext {
  readonly stage: Stage
  readonly round: number
  readonly dir: string
  readonly home: string
  readonly tracker: Tracker
  /** Changes seeded in earlier rounds of this home: all must survive this one too. */
  readonly seeded: Array<SeededChange>
  readonly outputs: Record<string, string>
  /** Where clients and subscribers live, so they can be closed before the server is stopped. */
  readonly connections: Scope.Scope
}

export interface RoundOutcome {
  readonly crashed: boolean
  readonly problems: ReadonlyArray<string>
  /** Milliseconds from the restart to ready. */
  readonly recoveryMs: number
  readonly thread: Thread | undefined
  /** The restarted server, for the invariants. */
  readonly server: Spindle
}

/** Opens the fifo for writing without blocking (nothing happens when no reader is left). */
const releaseFifo = (fifo: string) => {
  try {
    const fd = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)
    writeSync(fd, "go\n")
    closeSync(fd)
  } catch {
    // no reader: the script is already gone
  }
}

const killGroupOf = (pidFile: string) => {
  if (!existsSync(pidFile)) return
  const pid = Number(readFileSync(pidFile, "utf8").trim())
  try {
    if (pid > 0) process.kill(-pid, "SIGKILL")
  } catch {
    // gone
  }
}

const waitUntil = (condition: () => boolean, timeout: "20 seconds" | "30 seconds" = "20 seconds") =>
  Effect.sync(condition).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutOption(timeout),
    Effect.map((found) => found._tag === "Some")
  )

/** What the stage promises after recovery, beyond the shared invariants. */
const stageProblems = (stage: Stage, thread: Thread | undefined): Array<string> => {
  if (thread === undefined) return ["the thread the bootstrap created is gone after recovery"]
  const problems: Array<string> = []
  const state = `bootstrap ${thread.bootstrap.status}/${thread.bootstrap.stage}, setup ${thread.setup.status}, turn ${thread.latestTurn?.status ?? "none"}`
  if (thread.bootstrap.status !== "completed" && thread.bootstrap.status !== "failed")
    problems.push(`bootstrap neither finished nor rolled back (${state})`)
  if (thread.bootstrap.status === "failed" && (thread.bootstrap.error?.message ?? "") === "")
    problems.push(`a failed bootstrap without an error message (${state})`)
  if (stage === "setup-running" && thread.setup.status !== "interrupted")
    problems.push(`setup killed while running should be 'interrupted' (${state})`)
  if (
    stage === "turn-requested" &&
    (thread.bootstrap.status !== "completed" || thread.latestTurn?.status !== "requested")
  )
    problems.push(`a crash just before the turn request should end with the turn requested (${state})`)
  return problems
}

export const crashRound = (ctx: RoundContext) =>
  Effect.gen(function* () {
    if (isGitStage(ctx.stage)) return yield* gitCrashRound(ctx, ctx.stage)
    const label = `${ctx.stage}-${ctx.round}`
    const { repo, seeded } = seededRepo(ctx.dir, `repo-${label}`)
    ctx.seeded.push(...seeded)
    const projectId = `p-${label}`
    const threadId = `t-${label}`
    const fifo = join(ctx.dir, `setup-${label}.fifo`)
    const marker = join(ctx.dir, `setup-${label}.started`)
    const pidFile = join(ctx.dir, `setup-${label}.pid`)
    const fifoGated = ctx.stage === "setup-running"
    if (fifoGated) execFileSync("mkfifo", [fifo])
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        releaseFifo(fifo)
        killGroupOf(pidFile)
      })
    )
    const problems: Array<string> = []

    // 1. The server that will die.
    const doomed = yield* startSpindle(ctx.home, {
      env: fifoGated ? {} : { SPINDLE_TEST_CRASH_AT: ctx.stage }
    })
    const connect = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) => Scope.provide(effect, ctx.connections)
    yield* connect(attach(ctx.tracker, doomed.url, doomed.ownerToken))
    const client = yield* connect(adminClient(doomed))
    yield* createProject(client, projectId, repo, {
      ...(fifoGated
        ? {
            setupScript: `echo $$ > '${pidFile}'; echo started > '${marker}'; cat '${fifo}' > /dev/null; echo released`
          }
        : {})
    })
    const command = bootstrapCommand(
      projectId,
      threadId,
      { mode: "new_worktree" },
      { runSetupScript: fifoGated }
    )
    if (fifoGated) {
      yield* bootstrap(client, command, "workspace")
      if (!(yield* waitUntil(() => existsSync(marker)))) problems.push("the setup script never started")
      const thread = yield* getThread(client, threadId)
      if (thread.workspace.worktreePath !== null)
        ctx.seeded.push(seedAgentWork(thread.workspace.worktreePath, label))
      yield* promise(() => kill9(doomed))
      releaseFifo(fifo)
    } else {
      const sent = yield* Effect.exit(bootstrap(client, command, "turn").pipe(Effect.timeout("30 seconds")))
      if (sent._tag === "Success")
        problems.push(`the bootstrap finished: crash point '${ctx.stage}' was never reached`)
      if (!(yield* promise(() => waitForExit(doomed.pid, 20_000)))) problems.push("the server did not die")
    }
    const crashed = !isAlive(doomed.pid)
    ctx.outputs[`${label} (killed)`] = doomed.output()
    yield* promise(() => kill9(doomed))

    // 2. Whatever worktree git knows of now holds an agent's work, which recovery must keep.
    const root = worktreesRoot(ctx.home)
    for (const wt of worktreesOf(repo)) {
      if (
        wt.path.startsWith(root) &&
        existsSync(wt.path) &&
        !ctx.seeded.some((s) => s.path.startsWith(wt.path))
      )
        ctx.seeded.push(seedAgentWork(wt.path, `${label} after the crash`))
    }

    // 3. Restart on the same home: recovery runs before ready.
    const restartAt = Date.now()
    const server = yield* startSpindle(ctx.home)
    const recoveryMs = Date.now() - restartAt
    ctx.outputs[`${label} (restarted)`] = server.output()
    yield* connect(attach(ctx.tracker, server.url, server.ownerToken))
    const after = yield* connect(adminClient(server))
    const thread = yield* Effect.option(getThread(after, threadId))
    const recovered = thread._tag === "Some" ? thread.value : undefined
    problems.push(...stageProblems(ctx.stage, recovered))

    // 4. An interrupted setup reruns without another restart.
    if (fifoGated && recovered !== undefined) {
      yield* dispatch(after, {
        type: "project.update",
        commandId: `script-${label}`,
        projectId,
        setupScript: "echo rerun"
      })
      yield* dispatch(after, { type: "thread.setup.rerun", commandId: `rerun-${label}`, threadId })
      const rerun = yield* waitThread(after, threadId, (t) => t.setup.status === "succeeded")
      if (rerun.setup.status !== "succeeded")
        problems.push(`setup rerun after recovery ended ${rerun.setup.status}`)
    }
    return { crashed, problems, recoveryMs, thread: recovered, server } satisfies RoundOutcome
  })
