// kill -9 of the real server (npm start) while its `git worktree add` is still working, then a
// restart at once. git runs in its own process group, so it outlives the server: here it waits
// for a ref lock (core.filesRefLockTimeout), as a checkout of a big repository or on a slow disk
// would still be running. Recovery must end that git before it judges the bootstrap; otherwise the
// git goes on after recovery, makes its branch and worktree for a thread that was rolled back, and
// (its output pipe gone with the server) dies removing its folder but leaving the branch.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { makeClient } from "../cli/rpcClient.ts"
import { gitProcessesOn, gitProcessesWhere } from "../git/orphanedGit.ts"
import { git, gitRepo, tempHome } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startServer } from "../testing/serverProcess.ts"

const ownerToken = (home: string) => readFileSync(join(home, "owner-token"), "utf8").trim()
const serverPid = (home: string) =>
  (JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }).pid

/** Live `git worktree add` processes naming a path under `root`, whoever started them. */
const checkouts = (root: string) => gitProcessesOn(root, Number.MAX_SAFE_INTEGER, ["worktree", "add"])

/**
 * Whether git has reached the ref lock: `worktree add -b` runs `git branch <name>` once it has
 * said what it prepares, and that is what waits. Before then a kill of the server could catch git
 * about to write to the server's pipe, which ends git (SIGPIPE) instead of leaving it running.
 */
const waitingOnTheLock = (branch: string) =>
  gitProcessesWhere((argv) => argv.includes("branch") && argv.includes(branch), Number.MAX_SAFE_INTEGER)
    .length > 0

/** SIGKILL to each one's process group (git leads its own). */
const killGroups = (pids: ReadonlyArray<number>) => {
  for (const pid of pids) {
    try {
      process.kill(-pid, "SIGKILL")
    } catch {
      // gone
    }
  }
}

const branches = (repo: string) =>
  git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim().split("\n")

const worktreePaths = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length))

/** Polls `condition` every 20 ms, for at most `timeout`; answers whether it came true. */
const eventually = (condition: () => boolean, timeout: "5 seconds" | "20 seconds" = "20 seconds") =>
  Effect.sync(condition).pipe(
    Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutOption(timeout),
    Effect.map((found) => found._tag === "Some")
  )

describe("kill -9 during a checkout, restart at once", () => {
  it.live(
    "the git the crash left running is ended before recovery judges: no branch without a thread, no stale path in /health",
    () =>
      Effect.gen(function* () {
        const repo = yield* gitRepo
        const home = yield* tempHome
        const worktreesDir = join(home, "worktrees")
        git(repo, "config", "core.filesRefLockTimeout", "60000")
        mkdirSync(join(repo, ".git", "refs", "heads", "crash"), { recursive: true })
        const lock = join(repo, ".git", "refs", "heads", "crash", "branch.lock")
        writeFileSync(lock, "")
        // Whatever happens below, leave no git of this test behind.
        yield* Effect.addFinalizer(() =>
          Effect.sync(() => {
            rmSync(lock, { force: true })
            killGroups(checkouts(worktreesDir))
          })
        )

        const doomed = yield* startServer(home)
        const connection = yield* Scope.make()
        const client = yield* Scope.provide(
          makeClient({ url: doomed.url, token: ownerToken(home) }),
          connection
        )
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "project.create", commandId: "p1", projectId: "p1", workspaceRoot: repo }
        })
        yield* Effect.forkChild(
          client["orchestration.dispatchCommand"]({
            command: {
              type: "thread.turn.start",
              commandId: "start-1",
              threadId: "t1",
              prompt: "survive the crash",
              bootstrap: {
                createThread: { projectId: "p1" },
                workspace: { mode: "new_worktree", branch: "crash/branch" },
                runSetupScript: false
              }
            },
            await: "workspace"
          }).pipe(Effect.ignore)
        )
        assert.isTrue(
          yield* eventually(() => checkouts(worktreesDir).length > 0 && waitingOnTheLock("crash/branch")),
          `git worktree add never reached the ref lock:\n${doomed.output()}`
        )
        // kill -9 of the server alone, as the OOM killer would: its git has a group of its own.
        process.kill(serverPid(home), "SIGKILL")
        yield* Effect.promise(() => doomed.exited)
        yield* Scope.close(connection, Exit.void)
        assert.isNotEmpty(checkouts(worktreesDir), "the checkout did not outlive the server")

        const server = yield* startServer(home)
        // Recovery ended the orphaned checkout before it judged the bootstrap.
        assert.deepStrictEqual(
          checkouts(worktreesDir),
          [],
          "a git worktree add from before the restart still runs after recovery"
        )
        // The lock goes away (as a slow disk catches up): nothing may happen any more.
        rmSync(lock)
        yield* eventually(() => checkouts(worktreesDir).length === 0)
        assert.notInclude(branches(repo), "crash/branch")
        assert.deepStrictEqual(worktreePaths(repo), [repo])

        const owner = { authorization: `Bearer ${ownerToken(home)}` }
        const health = yield* getJson(`${server.url}/health`, owner)
        assert.strictEqual(health.body.status, "ready")
        const orphans = health.body.orphanedWorktrees as Array<{ path: string; action: string }>
        for (const orphan of orphans.filter((o) => o.action === "kept"))
          assert.isTrue(existsSync(orphan.path), `/health reports ${orphan.path}, which does not exist`)

        const after = yield* makeClient({ url: server.url, token: ownerToken(home) })
        const thread: Thread = yield* after["thread.get"]({ threadId: "t1" as Thread["id"] })
        assert.strictEqual(thread.bootstrap.status, "failed")
        assert.strictEqual(thread.bootstrap.stage, "workspace")
        assert.include(thread.bootstrap.error?.message ?? "", "server stopped")
      }),
    60_000
  )
})
