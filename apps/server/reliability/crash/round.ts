// One crash round: the real server runs a bootstrap on a fresh repository and is killed with
// SIGKILL at one stage (by its own crash point, or by us while a fifo holds its setup script),
// an agent's change is left in whatever worktree exists, the server restarts on the same home,
// and the stage's promised outcome is checked. The shared invariants run after every round.
import { execFileSync } from "node:child_process"
import {
  closeSync,
  constants,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync
} from "node:fs"
import { join } from "node:path"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { gitProcessesOn } from "../../src/git/orphanedGit.ts"
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
  outcome,
  seedAgentWork,
  seededRepo,
  waitThread
} from "../harness/world.ts"
import { gitCrashRound, POINT_STAGES, type PointStage } from "./gitRounds.ts"

export type Stage =
  | "thread-created"
  | "worktree-adding"
  | "worktree-added"
  | "workspace-journaled"
  | "setup-running"
  | "turn-requested"
  | "checkout-running"
  | "archive-running"
  | PointStage
/**
 * In bootstrap order, then the archive; setup-running and checkout-running/archive-running are
 * killed by us, the rest at the server's own crash points. checkout-running and archive-running
 * kill only the server's process while its `git worktree add` or `remove` runs (git goes on, an
 * orphan), and restart at once; the crash-point rounds of crash/gitRounds.ts do the same at a
 * chosen step (a checkout held on a ref lock, an archive mid-remove or before its cleanup).
 */
export const STAGES: ReadonlyArray<Stage> = [
  "thread-created",
  "worktree-adding",
  "worktree-added",
  "workspace-journaled",
  "setup-running",
  "turn-requested",
  "checkout-running",
  "archive-running",
  ...POINT_STAGES
]
const isPointStage = (stage: Stage): stage is PointStage =>
  (POINT_STAGES as ReadonlyArray<Stage>).includes(stage)

/** Stages whose kill lands while git works: their repository is big enough for git to take a while. */
const GIT_STAGES: ReadonlySet<Stage> = new Set(["checkout-running", "archive-running"])

/** Commits 8,000 files in 80 folders, so a checkout or a removal takes git a moment. */
const addManyFiles = (repo: string) => {
  for (let d = 0; d < 80; d++) {
    const dir = join(repo, `bulk${d}`)
    mkdirSync(dir)
    for (let f = 0; f < 100; f++) writeFileSync(join(dir, `f${f}.txt`), `${d}/${f}\n`.repeat(100))
  }
  execFileSync("git", ["add", "--", ...Array.from({ length: 80 }, (_, d) => `bulk${d}`)], { cwd: repo })
  execFileSync("git", ["-c", "user.name=t", "-c", "user.email=t@spindle.invalid", "commit", "-qm", "bulk"], {
    cwd: repo
  })
}

/** A live `git worktree <verb>` naming a path under `root`, whoever started it. */
const gitWorking = (verb: string, root: string) =>
  gitProcessesOn(root, Number.MAX_SAFE_INTEGER, ["worktree", verb]).length > 0

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
  /** For the stages killed while git works: whether git was seen at work when the kill landed. */
  readonly gitCaught?: boolean
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
  if (stage === "archive-running" && (thread.status !== "archived" || thread.cleanup === null))
    problems.push(
      `an archive killed while git removed the worktree should end archived with its outcome recorded (status ${thread.status}, cleanup ${thread.cleanup?.outcome ?? "none"})`
    )
  if (
    stage === "turn-requested" &&
    (thread.bootstrap.status !== "completed" || thread.latestTurn?.status !== "requested")
  )
    problems.push(`a crash just before the turn request should end with the turn requested (${state})`)
  return problems
}

export const crashRound = (ctx: RoundContext) =>
  Effect.gen(function* () {
    if (isPointStage(ctx.stage)) return yield* gitCrashRound(ctx, ctx.stage)
    const label = `${ctx.stage}-${ctx.round}`
    const { repo, seeded } = seededRepo(ctx.dir, `repo-${label}`)
    ctx.seeded.push(...seeded)
    const projectId = `p-${label}`
    const threadId = `t-${label}`
    const fifo = join(ctx.dir, `setup-${label}.fifo`)
    const marker = join(ctx.dir, `setup-${label}.started`)
    const pidFile = join(ctx.dir, `setup-${label}.pid`)
    const fifoGated = ctx.stage === "setup-running"
    const gitKilled = GIT_STAGES.has(ctx.stage)
    if (fifoGated) execFileSync("mkfifo", [fifo])
    if (gitKilled) addManyFiles(repo)
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        releaseFifo(fifo)
        killGroupOf(pidFile)
      })
    )
    const problems: Array<string> = []

    // 1. The server that will die.
    const doomed = yield* startSpindle(ctx.home, {
      env: fifoGated || gitKilled ? {} : { SPINDLE_TEST_CRASH_AT: ctx.stage }
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
    /**
     * kill -9 of the server's process only, once its git is at work: git goes on as an orphan. A
     * git too quick to be seen is noted, not a failure: the round still checks the outcome.
     */
    let gitCaught = true as boolean
    const killWhileGit = (verb: string, under: string) =>
      Effect.gen(function* () {
        gitCaught = yield* Effect.sync(() => gitWorking(verb, under)).pipe(
          Effect.repeat({ until: (seen) => seen, schedule: Schedule.spaced("2 millis") }),
          Effect.timeoutOption("30 seconds"),
          Effect.map((seen) => seen._tag === "Some")
        )
        try {
          process.kill(doomed.pid, "SIGKILL")
        } catch {
          // gone
        }
        yield* promise(() => waitForExit(doomed.pid, 10_000))
      })
    if (ctx.stage === "checkout-running") {
      yield* Effect.forkIn(Effect.ignore(bootstrap(client, command, "turn")), ctx.connections)
      yield* killWhileGit("add", worktreesRoot(ctx.home))
    } else if (ctx.stage === "archive-running") {
      const made = yield* bootstrap(client, command, "workspace")
      yield* Effect.forkIn(
        Effect.ignore(dispatch(client, { type: "thread.archive", commandId: `archive-${label}`, threadId })),
        ctx.connections
      )
      yield* killWhileGit("remove", made.worktreePath)
    } else if (fifoGated) {
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
    // The git stages restart at once, their orphaned git still at work; the others after a kill of the group.
    if (!gitKilled) yield* promise(() => kill9(doomed))

    // 2. Whatever worktree git knows of now holds an agent's work, which recovery must keep (not
    //    where git is still checking it out or removing it: no agent works there).
    const root = worktreesRoot(ctx.home)
    for (const wt of gitKilled ? [] : worktreesOf(repo)) {
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

    // 4. The archive a kill cut short unarchives into a real worktree.
    if (ctx.stage === "archive-running" && recovered !== undefined) {
      const back = yield* outcome(
        dispatch(after, { type: "thread.unarchive", commandId: `unarchive-${label}`, threadId })
      )
      const active = yield* getThread(after, threadId)
      const path = active.workspace.worktreePath
      if (back !== "ok" || path === null || !existsSync(join(path, ".git")))
        problems.push(`unarchive after the recovered archive made no worktree (${back}, ${path})`)
    }

    // 5. An interrupted setup reruns without another restart.
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
    return {
      crashed,
      problems,
      recoveryMs,
      thread: recovered,
      server,
      ...(gitKilled ? { gitCaught } : {})
    } satisfies RoundOutcome
  })
