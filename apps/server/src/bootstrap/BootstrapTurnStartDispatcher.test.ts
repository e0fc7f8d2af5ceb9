import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { type BootstrapResult, SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { git, gitRepo, serverActor, tempDir } from "../testing/fixtures.ts"

const branches = (repo: string) =>
  git(repo, "branch", "--format=%(refname:short)")
    .trim()
    .split("\n")
    .filter((b) => b !== "")
const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length

const SETUP_ENV =
  'echo "setup for $SPINDLE_THREAD_ID"; printf "%s|%s|%s" "$SPINDLE_WORKTREE_PATH" "$SPINDLE_PROJECT_ROOT" "$T3CODE_WORKTREE_PATH" > "$SPINDLE_WORKTREE_PATH/.seen"'

describe("BootstrapTurnStartDispatcher", () => {
  it.live("new_worktree: every step in order, the real worktree path, setup, then the turn", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: SETUP_ENV })
      const result = yield* world.bootstrap("t1", { prompt: "  fix   the\nlogin bug  " })
      assert.strictEqual(result.mode, "new_worktree")
      assert.match(result.branch!, /^spindle\/[0-9a-f]{8}$/)
      assert.strictEqual(result.baseBranch, "main")
      assert.isTrue(existsSync(join(result.worktreePath, "README.md")))
      assert.strictEqual(result.worktreePath, realpathSync(result.worktreePath))
      assert.strictEqual(result.setup.status, "succeeded")
      assert.strictEqual(result.turn.status, "requested")
      assert.strictEqual(
        readFileSync(join(result.worktreePath, ".seen"), "utf8"),
        `${result.worktreePath}|${world.repo}|${result.worktreePath}`
      )
      // The conflict radar counts the worktree's changes (setup wrote .seen) whenever it looks:
      // its event may fall anywhere after the workspace; the bootstrap's own steps are in order.
      assert.deepStrictEqual(
        (yield* world.eventTypes("t1")).filter((type) => type !== "thread.changes-updated"),
        [
          "thread.created",
          "thread.ports-assigned",
          "thread.workspace-prepared",
          "thread.setup-started",
          "thread.setup-completed",
          "thread.turn-start-requested",
          "thread.bootstrap-completed"
        ]
      )
      const thread = (yield* world.engine.getThread(threadId("t1")))!
      assert.strictEqual(thread.title, "fix the login bug")
      assert.strictEqual(thread.workspace.worktreePath, result.worktreePath)
      assert.isTrue(thread.workspace.createdByUs)
      assert.strictEqual(thread.latestTurn?.status, "requested")
      assert.strictEqual(thread.bootstrap.status, "completed")
      assert.include(thread.setup.logTail, "setup for t1")
    })
  )

  it.live("existing_worktree with runSetupScript: setup runs there and sees its path", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: SETUP_ENV })
      const path = join(yield* tempDir(), "mine")
      git(world.repo, "worktree", "add", "--quiet", "-b", "mine", path)
      const result = yield* world.bootstrap("t1", {
        workspace: { mode: "existing_worktree", worktreePath: path },
        runSetupScript: true
      })
      assert.strictEqual(result.worktreePath, path)
      assert.strictEqual(result.branch, "mine")
      assert.strictEqual(result.setup.status, "succeeded")
      assert.strictEqual(readFileSync(join(path, ".seen"), "utf8").split("|")[0], path)
      assert.isFalse((yield* world.engine.getThread(threadId("t1")))!.workspace.createdByUs)
      // Without the flag, existing worktrees skip setup.
      const other = join(yield* tempDir(), "other")
      git(world.repo, "worktree", "add", "--quiet", "-b", "other", other)
      const skipped = yield* world.bootstrap("t2", {
        workspace: { mode: "existing_worktree", worktreePath: other }
      })
      assert.strictEqual(skipped.setup.status, "not-requested")
      assert.isFalse(existsSync(join(other, ".seen")))
    })
  )

  it.live("current_checkout: the project root, with a warning; setup only when asked", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ setupScript: SETUP_ENV })
      const result = yield* world.bootstrap("t1", { workspace: { mode: "current_checkout" } })
      assert.strictEqual(result.worktreePath, world.repo)
      assert.strictEqual(result.branch, "main")
      assert.isTrue(result.warnings.some((w) => w.includes("concurrent writes may conflict")))
      assert.strictEqual(result.setup.status, "not-requested")
      const withSetup = yield* world.bootstrap("t2", {
        workspace: { mode: "current_checkout" },
        runSetupScript: true
      })
      assert.strictEqual(withSetup.setup.status, "succeeded")
      assert.isTrue(existsSync(join(world.repo, ".seen")))
    })
  )

  it.live("a failed setup starts no turn; a rerun and then a plain turn start carry on", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({
        setupScript: 'echo broken; test -f "$SPINDLE_WORKTREE_PATH/fixed"'
      })
      const result = yield* world.bootstrap("t1")
      assert.strictEqual(result.setup.status, "failed")
      assert.strictEqual(result.turn.status, "not-started")
      const thread = (yield* world.engine.getThread(threadId("t1")))!
      assert.isNull(thread.latestTurn)
      assert.strictEqual(thread.setup.exitCode, 1)
      assert.include(thread.setup.logTail, "broken")
      assert.notInclude(yield* world.eventTypes("t1"), "thread.turn-start-requested")
      writeFileSync(join(result.worktreePath, "fixed"), "")
      yield* world.commands.dispatch(
        { type: "thread.setup.rerun", commandId: "rerun-1", threadId: "t1" },
        serverActor
      )
      const completed = yield* world
        .waitFor("t1", "thread.setup-completed")
        .pipe(Effect.andThen(() => world.engine.getThread(threadId("t1"))))
      yield* Effect.repeat(world.engine.getThread(threadId("t1")), {
        until: (t) => t?.setup.runs === 2 && t.setup.status !== "running",
        schedule: Schedule.spaced("10 millis")
      }).pipe(Effect.timeout("20 seconds"))
      void completed
      const rerun = (yield* world.engine.getThread(threadId("t1")))!
      assert.strictEqual(rerun.setup.status, "succeeded")
      assert.strictEqual(rerun.setup.runs, 2)
      // The same rerun sent again (a retry after a lost answer) starts nothing new.
      yield* world.commands.dispatch(
        { type: "thread.setup.rerun", commandId: "rerun-1", threadId: "t1" },
        serverActor
      )
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.setup.runs, 2)
      yield* world.commands.dispatch(
        { type: "thread.turn.start", commandId: "turn-after-setup", threadId: "t1", prompt: "now go" },
        serverActor
      )
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.latestTurn?.status, "requested")
    })
  )

  it.live(
    "a setup timeout records timed-out and starts no turn; onSetupFailure continue starts it anyway",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld({ setupScript: "echo waiting; sleep 30", setupTimeoutSeconds: 1 })
        const timedOut = yield* world.bootstrap("t1")
        assert.strictEqual(timedOut.setup.status, "timed-out")
        assert.strictEqual(timedOut.turn.status, "not-started")
        const continued = yield* world.bootstrap("t2", { onSetupFailure: "continue" })
        assert.strictEqual(continued.setup.status, "timed-out")
        assert.strictEqual(continued.turn.status, "requested")
        assert.isTrue(continued.warnings.some((w) => w.includes("onSetupFailure")))
      })
  )

  it.live("await workspace answers before setup ends, and setup goes on without the caller", () =>
    Effect.gen(function* () {
      const gate = join(yield* tempDir(), "release")
      const world = yield* bootstrapWorld({
        setupScript: `while [ ! -f '${gate}' ]; do sleep 0.05; done; echo released`
      })
      const result = yield* world.bootstrap("t1", { dispatch: { await: "workspace" } })
      assert.strictEqual(result.turn.status, "waiting-for-setup")
      assert.isTrue(existsSync(result.worktreePath))
      assert.notInclude(yield* world.eventTypes("t1"), "thread.turn-start-requested")
      writeFileSync(gate, "")
      yield* world.waitFor("t1", "thread.turn-start-requested")
      assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.setup.status, "succeeded")
    })
  )

  it.live("refuses a base that does not resolve before any side effect", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const error = yield* Effect.flip(world.bootstrap("t1", { workspace: { baseBranch: "no-such-branch" } }))
      assert.strictEqual(error.reason, "validation")
      assert.strictEqual(error.field, "bootstrap.workspace.baseBranch")
      assert.strictEqual(error.threadId, "t1")
      assert.isUndefined(yield* world.engine.getThread(threadId("t1")))
      assert.deepStrictEqual(branches(world.repo), ["main"])
      assert.strictEqual(worktreeCount(world.repo), 1)
    })
  )

  it.live(
    "a failure while creating the worktree leaves nothing on disk and the thread failed at that stage",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        // Another git process holds the branch's ref lock for good.
        writeFileSync(join(world.repo, ".git", "refs", "heads", "stuck.lock"), "")
        const error = yield* Effect.flip(world.bootstrap("t1", { workspace: { branch: "stuck" } }))
        assert.strictEqual(error.threadId, "t1")
        const thread = (yield* world.engine.getThread(threadId("t1")))!
        assert.strictEqual(thread.bootstrap.status, "failed")
        assert.strictEqual(thread.bootstrap.stage, "workspace")
        assert.isString(thread.bootstrap.error?.message)
        assert.deepStrictEqual(branches(world.repo), ["main"])
        assert.strictEqual(worktreeCount(world.repo), 1)
        // The same thread can be bootstrapped again with a new commandId once the cause is gone.
        const again = yield* Effect.flip(world.bootstrap("t1", { workspace: { branch: "stuck" } }))
        assert.strictEqual(again.message, error.message)
        const retried = yield* world.bootstrap("t1", {
          commandId: "retry-t1",
          workspace: { branch: "unstuck" }
        })
        assert.strictEqual(retried.branch, "unstuck")
        assert.strictEqual((yield* world.engine.getThread(threadId("t1")))!.bootstrap.status, "completed")
      })
  )

  it.live("100 identical concurrent sends make one thread and one worktree", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const results = yield* Effect.all(
        Array.from({ length: 100 }, () => world.bootstrap("t1")),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results.map((r: BootstrapResult) => r.worktreePath)).size, 1)
      assert.strictEqual(worktreeCount(world.repo), 2)
      assert.strictEqual((yield* world.eventTypes("t1")).filter((t) => t === "thread.created").length, 1)
      // And again after it finished: the recorded result.
      const later = yield* world.bootstrap("t1")
      assert.strictEqual(later.worktreePath, results[0]!.worktreePath)
      assert.strictEqual(worktreeCount(world.repo), 2)
      // The same commandId with another payload is a conflict.
      const conflict = yield* Effect.flip(world.bootstrap("t1", { prompt: "something else" }))
      assert.strictEqual(conflict.reason, "conflict")
    })
  )

  it.live("16 different bootstraps in one repository at once all succeed", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const results = yield* Effect.all(
        Array.from({ length: 16 }, (_, i) => world.bootstrap(`t${i}`)),
        { concurrency: "unbounded" }
      )
      assert.strictEqual(new Set(results.map((r) => r.branch)).size, 16)
      assert.strictEqual(new Set(results.map((r) => r.worktreePath)).size, 16)
      assert.strictEqual(worktreeCount(world.repo), 17)
      assert.isTrue(results.every((r) => r.turn.status === "requested"))
    })
  )

  it.live("two bootstraps racing for one branch: the loser removes nothing of the winner's", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const [a, b] = yield* Effect.all(
        [
          Effect.result(world.bootstrap("t1", { workspace: { branch: "feature/same" } })),
          Effect.result(world.bootstrap("t2", { workspace: { branch: "feature/same" } }))
        ],
        { concurrency: "unbounded" }
      )
      const outcomes = [a, b]
      const won = outcomes.filter((o) => o._tag === "Success")
      const lost = outcomes.filter((o) => o._tag === "Failure")
      assert.strictEqual(won.length, 1)
      assert.strictEqual(lost.length, 1)
      const winner = (won[0] as { success: BootstrapResult }).success
      assert.isTrue(existsSync(join(winner.worktreePath, "README.md")))
      assert.include(branches(world.repo), "feature/same")
      assert.strictEqual(worktreeCount(world.repo), 2)
    })
  )

  it.live("a burst of bootstraps cannot slip past the per-project limit (queue: false)", () =>
    Effect.gen(function* () {
      const release = join(yield* tempDir(), "release")
      const world = yield* bootstrapWorld({
        setupScript: `while [ ! -f '${release}' ]; do sleep 0.05; done`,
        limits: { bootstrapsPerProject: 2 }
      })
      const runs: Array<Fiber.Fiber<Result.Result<BootstrapResult, SpindleError>>> = []
      for (const id of ["t1", "t2", "t3", "t4", "t5", "t6"]) {
        runs.push(yield* Effect.forkChild(Effect.result(world.bootstrap(id, { queue: false }))))
      }
      // Four are refused at once; the two that got in wait for setup until released.
      yield* Effect.sync(() => runs.filter((fiber) => fiber.pollUnsafe() !== undefined).length).pipe(
        Effect.repeat({ until: (done) => done >= 4, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("10 seconds")
      )
      writeFileSync(release, "")
      const all = yield* Effect.forEach(runs, Fiber.join)
      const capacity = all.filter((r) => r._tag === "Failure" && r.failure.reason === "capacity")
      assert.strictEqual(all.filter((r) => r._tag === "Success").length, 2)
      assert.strictEqual(capacity.length, 4)
    })
  )

  it.live("refuses an existing worktree bound to an active thread", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* world.bootstrap("t1")
      const error = yield* Effect.flip(
        world.bootstrap("t2", { workspace: { mode: "existing_worktree", worktreePath: first.worktreePath } })
      )
      assert.strictEqual(error.reason, "conflict")
      assert.include(error.message, "t1")
      assert.isUndefined(yield* world.engine.getThread(threadId("t2")))
    })
  )

  it.live("three concurrent bootstraps of one existing worktree: exactly one gets it", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const path = join(yield* tempDir(), "shared")
      git(world.repo, "worktree", "add", "-q", "-b", "shared", path)
      const results = yield* Effect.forEach(
        ["t1", "t2", "t3"],
        (id) =>
          Effect.result(
            world.bootstrap(id, { workspace: { mode: "existing_worktree", worktreePath: path } })
          ),
        { concurrency: "unbounded" }
      )
      const won = results.filter((r) => r._tag === "Success")
      const lost = results.filter((r) => r._tag === "Failure")
      assert.strictEqual(won.length, 1)
      assert.deepStrictEqual(
        lost.map((r) => (r as { failure: SpindleError }).failure.reason),
        ["conflict", "conflict"]
      )
      const threads = (yield* world.engine.snapshot).threads
      assert.strictEqual(threads.length, 1)
      assert.strictEqual(threads[0]!.workspace.worktreePath, realpathSync(path))
      // Refused before anything was made: no journal entry is left to recover.
      const refused = lost.map((r) => (r as { failure: SpindleError }).failure.threadId!)
      for (const id of refused) assert.isUndefined(yield* world.engine.getThread(threadId(id)))
    })
  )

  it.live("a worktree another bootstrap is still creating cannot be adopted", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const path = realpathSync(yield* tempDir())
      git(world.repo, "worktree", "add", "-q", "-b", "in-progress", join(path, "wt"))
      // As a bootstrap leaves it between journaling its planned path and recording the workspace.
      yield* world.journal
        .begin(
          {
            commandId: "other",
            payloadHash: "h",
            threadId: "t-other",
            projectId: "p1",
            repo: world.repo,
            mode: "new_worktree",
            stage: "creating-worktree",
            branch: "in-progress",
            worktreePath: join(path, "wt"),
            prompt: "p",
            turnId: "other",
            createdByUs: false,
            result: null,
            error: null,
            gitGroup: null
          },
          "2026-01-01T00:00:00.000Z"
        )
        .pipe(Effect.orDie)
      const error = yield* Effect.flip(
        world.bootstrap("t1", { workspace: { mode: "existing_worktree", worktreePath: join(path, "wt") } })
      )
      assert.strictEqual(error.reason, "conflict")
      assert.include(error.message, "being created")
      assert.isUndefined(yield* world.engine.getThread(threadId("t1")))
    })
  )

  it.live("a plain thread.create counts against the active-thread limit too", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ limits: { activeThreadsPerProject: 2 } })
      const create = (id: string) =>
        world.commands.dispatch(
          { type: "thread.create", commandId: `c-${id}`, threadId: id, projectId: "p1", title: id },
          serverActor
        )
      yield* world.bootstrap("t1", { workspace: { mode: "current_checkout" } })
      yield* create("t2")
      const full = yield* Effect.flip(create("t3"))
      assert.strictEqual(full.reason, "capacity")
      const alsoFull = yield* Effect.flip(
        world.bootstrap("t4", { workspace: { mode: "current_checkout" }, queue: false })
      )
      assert.strictEqual(alsoFull.reason, "capacity")
      // Capacity is not an outcome: the same command goes through once there is room.
      yield* world.commands.dispatch(
        { type: "thread.archive", commandId: "arch-t2", threadId: "t2" },
        serverActor
      )
      yield* create("t3")
    })
  )

  it.live("while starting, a second bootstrap of a busy thread does not hold up the queue", () =>
    Effect.gen(function* () {
      const release = join(yield* tempDir(), "release")
      const world = yield* bootstrapWorld({
        setupScript: `while [ ! -f '${release}' ]; do sleep 0.05; done`,
        ready: false
      })
      const waitQueued = (n: number) =>
        Effect.repeat(world.gate.waiting, {
          until: (w) => w === n,
          schedule: Schedule.spaced("5 millis")
        }).pipe(Effect.timeout("5 seconds"))
      const first = yield* Effect.forkChild(Effect.result(world.bootstrap("t1")))
      yield* waitQueued(1)
      const again = yield* Effect.forkChild(Effect.result(world.bootstrap("t1", { commandId: "again" })))
      yield* waitQueued(2)
      const later = yield* Effect.forkChild(
        world.commands.dispatch(
          { type: "project.update", commandId: "later", projectId: "p1", title: "renamed" },
          serverActor
        )
      )
      yield* waitQueued(3)
      yield* world.gate.markReady
      // The update goes through while t1's setup still runs and the second bootstrap waits for it.
      yield* Fiber.join(later).pipe(Effect.timeout("10 seconds"))
      assert.include(["pending", "running"], (yield* world.engine.getThread(threadId("t1")))?.setup.status)
      writeFileSync(release, "")
      assert.strictEqual((yield* Fiber.join(first))._tag, "Success")
      const second = yield* Fiber.join(again)
      assert.strictEqual(second._tag === "Failure" ? second.failure.reason : "ok", "conflict")
    })
  )

  it.live("while starting, a project.create sent before a bootstrap on it runs first", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ ready: false })
      const other = yield* gitRepo
      const register = yield* Effect.forkChild(
        world.commands.dispatch(
          { type: "project.create", commandId: "reg-p2", projectId: "p2", workspaceRoot: other },
          serverActor
        )
      )
      yield* Effect.repeat(world.gate.waiting, {
        until: (n) => n === 1,
        schedule: Schedule.spaced("5 millis")
      }).pipe(Effect.timeout("5 seconds"))
      const start = yield* Effect.forkChild(
        world.commands.dispatch(
          {
            type: "thread.turn.start",
            commandId: "start-p2",
            threadId: "t-p2",
            prompt: "go",
            bootstrap: { createThread: { projectId: "p2" }, workspace: { mode: "current_checkout" } }
          },
          serverActor
        )
      )
      yield* Effect.repeat(world.gate.waiting, {
        until: (n) => n === 2,
        schedule: Schedule.spaced("5 millis")
      }).pipe(Effect.timeout("5 seconds"))
      yield* world.gate.markReady
      yield* Fiber.join(register)
      const started = (yield* Fiber.join(start)) as BootstrapResult
      assert.strictEqual(started.projectId, "p2")
      assert.strictEqual(started.turn.status, "requested")
    })
  )

  it.live("answers capacity past the per-project limits with queue: false, changing nothing", () =>
    Effect.gen(function* () {
      const release = join(yield* tempDir(), "release")
      const world = yield* bootstrapWorld({
        setupScript: `while [ ! -f '${release}' ]; do sleep 0.05; done`,
        limits: { bootstrapsPerProject: 1, activeThreadsPerProject: 2 }
      })
      const slow = yield* Effect.forkChild(world.bootstrap("t1"))
      yield* world.waitFor("t1", "thread.setup-started")
      const busy = yield* Effect.flip(world.bootstrap("t2", { queue: false }))
      assert.strictEqual(busy.reason, "capacity")
      assert.include(busy.message, "--max-bootstraps-per-project")
      assert.isUndefined(yield* world.engine.getThread(threadId("t2")))
      writeFileSync(release, "")
      yield* Fiber.join(slow)
      yield* world.bootstrap("t2")
      const full = yield* Effect.flip(world.bootstrap("t3", { queue: false }))
      assert.strictEqual(full.reason, "capacity")
      assert.include(full.message, "2 active threads")
      assert.isUndefined(yield* world.engine.getThread(threadId("t3")))
    })
  )

  it.live("while starting, bootstraps wait in the gate and all run once ready", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ ready: false })
      const fibers: Array<Fiber.Fiber<BootstrapResult, SpindleError>> = []
      for (const id of ["t1", "t2", "t3"]) {
        fibers.push(yield* Effect.forkChild(world.bootstrap(id)))
        yield* Effect.repeat(world.gate.waiting, {
          until: (n) => n === fibers.length,
          schedule: Schedule.spaced("5 millis")
        }).pipe(Effect.timeout("5 seconds"))
      }
      assert.strictEqual((yield* world.engine.readModel).sequence, 1)
      yield* world.gate.markReady
      const results = yield* Effect.forEach(fibers, Fiber.join)
      assert.isTrue(results.every((r) => r.turn.status === "requested"))
      // They start in arrival order (StartupGate.test checks that); their validations then run
      // concurrently, so only the set of threads is fixed, not the order they are created in.
      const created = (yield* world.engine.snapshot).threads.map((t) => t.id)
      assert.deepStrictEqual([...created].sort(), ["t1", "t2", "t3"])
    })
  )

  it.live("a failed startup fails the bootstraps waiting for it, changing nothing", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld({ ready: false })
      const waiting = yield* Effect.forkChild(world.bootstrap("t1"))
      yield* Effect.repeat(world.gate.waiting, {
        until: (n) => n === 1,
        schedule: Schedule.spaced("5 millis")
      }).pipe(Effect.timeout("5 seconds"))
      yield* world.gate.markFailed(new SpindleError({ reason: "unavailable", message: "recovery failed" }))
      const error = yield* Effect.flip(Fiber.join(waiting))
      assert.strictEqual(error.message, "recovery failed")
      assert.isUndefined(yield* world.engine.getThread(threadId("t1")))
      assert.strictEqual(worktreeCount(world.repo), 1)
    })
  )
})
