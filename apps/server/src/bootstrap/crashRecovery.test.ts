// Crash tests: a real process runs a bootstrap and is killed with SIGKILL at a step; then the
// real server (npm start) starts on the same home, recovers before it is ready, and the state on
// disk and in the database must be explained, with nothing orphaned and no event lost.
import { existsSync, readFileSync } from "node:fs"
import { join, resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { git, gitRepo, tempDir, tempHome } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startProcess, startServer } from "../testing/serverProcess.ts"
import { readTestStore } from "../testing/testStore.ts"

const BOOTSTRAP_PROCESS = resolve(import.meta.dirname, "../testing/bootstrapProcess.ts")

const commandWith = (bootstrap: Record<string, unknown>) =>
  JSON.stringify({
    type: "thread.turn.start",
    commandId: "crash-1",
    threadId: "t1",
    prompt: "survive the crash",
    bootstrap: { createThread: { projectId: "p1" }, ...bootstrap }
  })

const command = JSON.stringify({
  type: "thread.turn.start",
  commandId: "crash-1",
  threadId: "t1",
  prompt: "survive the crash",
  bootstrap: {
    createThread: { projectId: "p1" },
    workspace: { mode: "new_worktree", branch: "crash/branch" }
  }
})

/** Runs the bootstrap in its own process; `exited` resolves with how it ended. */
const runBootstrap = (home: string, repo: string, setupScript: string, crashAt?: string, sent = command) =>
  startProcess(process.execPath, [BOOTSTRAP_PROCESS, home, repo, setupScript, sent], {
    env: crashAt === undefined ? {} : { SPINDLE_TEST_CRASH_AT: crashAt }
  })

const readDatabase = (home: string) => {
  const file = join(home, "spindle.db")
  const row = readTestStore(file, "SELECT data FROM projection_threads WHERE id = 't1'")[0] as
    | { data: string }
    | undefined
  const sequences = readTestStore(file, "SELECT sequence, type FROM events ORDER BY sequence") as Array<{
    sequence: number
    type: string
  }>
  return { thread: row === undefined ? undefined : (JSON.parse(row.data) as Thread), events: sequences }
}

const worktreePaths = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length))

const branches = (repo: string) => git(repo, "branch", "--format=%(refname:short)").trim().split("\n")

/** Crash at `point`, restart the real server, and hand back what it left. */
const crashAndRecover = (
  point: string,
  setupScript = "-",
  killWhen?: (home: string) => boolean,
  sent = command
) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    const home = yield* tempHome
    const run = runBootstrap(home, repo, setupScript, killWhen === undefined ? point : undefined, sent)
    if (killWhen !== undefined) {
      yield* Effect.sync(() => killWhen(home)).pipe(
        Effect.repeat({ until: (ready) => ready, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("20 seconds")
      )
      run.child.kill("SIGKILL")
    }
    const ended = yield* Effect.promise(() => run.exited)
    assert.strictEqual(ended, "SIGKILL", run.output())
    const before = readDatabase(home)
    const server = yield* startServer(home)
    // Only a client may see the orphaned worktrees' paths.
    const ownerToken = readFileSync(join(home, "owner-token"), "utf8").trim()
    const health = yield* getJson(`${server.url}/health`, { authorization: `Bearer ${ownerToken}` })
    assert.strictEqual(health.body.status, "ready")
    const after = readDatabase(home)
    // Every event committed before the crash is still there, and the log has no hole.
    assert.deepStrictEqual(after.events.slice(0, before.events.length), before.events)
    assert.deepStrictEqual(
      after.events.map((e) => e.sequence),
      after.events.map((_, i) => i + 1)
    )
    return { repo, home, server, health, before, after }
  })

describe("crash recovery (kill -9 of a real process, then the real server)", () => {
  it.live("killed while the worktree is being created: rolled back, thread failed with the stage", () =>
    Effect.gen(function* () {
      const { repo, health, before, after } = yield* crashAndRecover("worktree-added")
      // The crash came after git made the worktree and before the thread heard of it.
      assert.deepStrictEqual(
        before.events.map((e) => e.type),
        ["project.created", "thread.created", "thread.ports-assigned"]
      )
      assert.deepStrictEqual(worktreePaths(repo), [repo])
      assert.notInclude(branches(repo), "crash/branch")
      assert.strictEqual(after.thread?.bootstrap.status, "failed")
      assert.strictEqual(after.thread?.bootstrap.stage, "workspace")
      assert.include(after.thread?.bootstrap.error?.message ?? "", "server stopped")
      assert.deepStrictEqual(health.body.orphanedWorktrees, [])
    })
  )

  it.live("killed while setup runs: setup interrupted and rerunnable, the worktree kept", () =>
    Effect.gen(function* () {
      const marker = join(yield* tempDir(), "setup-running")
      const script = `echo $$ > '${marker}.pid'; touch '${marker}'; exec sleep 600`
      // Killed once the script runs and the server has recorded its group (under load the kill
      // could otherwise land between the spawn and that record, a window recovery cannot see).
      const { repo, after, health } = yield* crashAndRecover(
        "setup",
        script,
        (home) => existsSync(marker) && existsSync(join(home, "logs", "t1", "setup-1.pgid"))
      )
      // The setup script's process group outlived the killed process; recovery ended it.
      const pid = Number(readFileSync(`${marker}.pid`, "utf8").trim())
      const groupAlive = () => {
        try {
          process.kill(-pid, 0)
          return true
        } catch {
          return false
        }
      }
      // Whatever happens below, leave no process of this test behind.
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => {
          if (groupAlive()) process.kill(-pid, "SIGKILL")
        })
      )
      const ended = yield* Effect.sync(() => !groupAlive()).pipe(
        Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("50 millis") }),
        Effect.timeout("10 seconds"),
        Effect.orElseSucceed(() => false)
      )
      assert.isTrue(ended, "the orphaned setup group is still running after recovery")
      assert.strictEqual(after.thread?.setup.status, "interrupted")
      assert.include(after.thread?.setup.logTail ?? "", "thread.setup.rerun")
      assert.strictEqual(after.thread?.bootstrap.status, "completed")
      assert.isNull(after.thread?.latestTurn ?? null)
      const path = after.thread?.workspace.worktreePath ?? ""
      assert.isTrue(existsSync(join(path, "README.md")))
      assert.include(worktreePaths(repo), path)
      assert.deepStrictEqual(health.body.orphanedWorktrees, [])
    })
  )

  it.live(
    "killed after the workspace was journaled but before the thread heard of it: both kept, turn requested",
    () =>
      Effect.gen(function* () {
        const { repo, health, after } = yield* crashAndRecover(
          "workspace-journaled",
          "-",
          undefined,
          commandWith({ workspace: { mode: "new_worktree", branch: "crash/branch" }, runSetupScript: false })
        )
        const path = after.thread?.workspace.worktreePath ?? ""
        assert.isTrue(existsSync(join(path, "README.md")))
        assert.include(worktreePaths(repo), path)
        assert.strictEqual(after.thread?.workspace.branch, "crash/branch")
        assert.strictEqual(after.thread?.latestTurn?.status, "requested")
        assert.strictEqual(after.thread?.bootstrap.status, "completed")
        assert.deepStrictEqual(health.body.orphanedWorktrees, [])
      })
  )

  it.live("killed just after the turn request: the bootstrap completes on restart, one turn", () =>
    Effect.gen(function* () {
      const { repo, before, after } = yield* crashAndRecover("turn-requested")
      assert.include(
        before.events.map((e) => e.type),
        "thread.turn-start-requested"
      )
      assert.notInclude(
        before.events.map((e) => e.type),
        "thread.bootstrap-completed"
      )
      assert.strictEqual(after.events.filter((e) => e.type === "thread.turn-start-requested").length, 1)
      assert.strictEqual(after.thread?.latestTurn?.status, "requested")
      assert.strictEqual(after.thread?.latestTurn?.turnId, "crash-1")
      assert.strictEqual(after.thread?.bootstrap.status, "completed")
      assert.include(worktreePaths(repo), after.thread?.workspace.worktreePath ?? "")
    })
  )
})
