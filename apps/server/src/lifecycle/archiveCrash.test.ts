// kill -9 of the real server (npm start) during an archive, at a chosen step (CrashPoints), then a
// restart at once: the thread's cleanup is recorded as it really ended (removed, with what
// unarchive needs to bring the worktree back; or kept, with the change that made it stay),
// nothing a user changed is lost, no journal entry is left, and unarchive makes a real worktree.
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DatabaseSync } from "node:sqlite"
import { assert, describe, it } from "@effect/vitest"
import type { ArchiveResult, BootstrapResult, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { makeClient, type SpindleClient } from "../cli/rpcClient.ts"
import { git, gitRepo, tempHome } from "../testing/fixtures.ts"
import { startServer } from "../testing/serverProcess.ts"

const ARGS = ["--providers", "off"]
const ownerToken = (home: string) => readFileSync(join(home, "owner-token"), "utf8").trim()

const dispatch = (client: SpindleClient, command: Record<string, unknown>, awaitWhat?: "turn") =>
  client["orchestration.dispatchCommand"]({
    command,
    ...(awaitWhat === undefined ? {} : { await: awaitWhat })
  })

const worktreePaths = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain")
    .split("\n")
    .filter((line) => line.startsWith("worktree "))
    .map((line) => line.slice("worktree ".length))

const branches = (repo: string) =>
  git(repo, "for-each-ref", "--format=%(refname:short)", "refs/heads/").trim().split("\n")

const removalsLeft = (home: string) => {
  const db = new DatabaseSync(join(home, "spindle.db"), { readOnly: true })
  try {
    return (db.prepare("SELECT COUNT(*) AS n FROM worktree_removals").get() as { n: number }).n
  } finally {
    db.close()
  }
}

/**
 * A thread with a worktree on a server that dies at `point` once asked to archive it (`prepare`
 * runs on the worktree first); then the server restarted on the same home, and a client of it.
 */
const archiveAndCrash = (point: string, prepare: (worktree: string) => void = () => {}) =>
  Effect.gen(function* () {
    const repo = yield* gitRepo
    const home = yield* tempHome
    const doomed = yield* startServer(home, ARGS, 20_000, { SPINDLE_TEST_CRASH_AT: point })
    const connection = yield* Scope.make()
    const client = yield* Scope.provide(makeClient({ url: doomed.url, token: ownerToken(home) }), connection)
    yield* dispatch(client, { type: "project.create", commandId: "p1", projectId: "p1", workspaceRoot: repo })
    const started = (yield* dispatch(
      client,
      {
        type: "thread.turn.start",
        commandId: "start-1",
        threadId: "t1",
        prompt: "work",
        bootstrap: {
          createThread: { projectId: "p1" },
          workspace: { mode: "new_worktree" },
          runSetupScript: false
        }
      },
      "turn"
    )) as BootstrapResult
    prepare(started.worktreePath)
    const archived = yield* Effect.exit(
      dispatch(client, { type: "thread.archive", commandId: "a1", threadId: "t1" })
    )
    assert.isTrue(Exit.isFailure(archived), `the archive finished: crash point ${point} was never reached`)
    // npm answers its child's SIGKILL as 128 + 9.
    assert.include(["SIGKILL", 137], yield* Effect.promise(() => doomed.exited), doomed.output())
    yield* Scope.close(connection, Exit.void)

    const server = yield* startServer(home, ARGS)
    const after = yield* makeClient({ url: server.url, token: ownerToken(home) })
    const thread: Thread = yield* after["thread.get"]({ threadId: "t1" as Thread["id"] })
    return { repo, home, client: after, started, thread }
  })

describe("kill -9 during archive, restart at once", () => {
  it.live(
    "killed while git worktree remove runs: recorded removed with its commit, the branch deleted, and unarchive makes a real worktree",
    () =>
      Effect.gen(function* () {
        const { repo, home, client, started, thread } = yield* archiveAndCrash("worktree-removing")
        const path = started.worktreePath
        assert.strictEqual(thread.status, "archived")
        assert.strictEqual(thread.cleanup?.outcome, "removed", JSON.stringify(thread.cleanup))
        assert.strictEqual(thread.cleanup?.head, git(repo, "rev-parse", "main").trim())
        assert.isTrue(thread.cleanup?.branchDeleted)
        assert.isFalse(existsSync(path))
        assert.deepStrictEqual(worktreePaths(repo), [repo])
        assert.notInclude(branches(repo), started.branch)
        assert.strictEqual(removalsLeft(home), 0)

        const back = (yield* dispatch(client, {
          type: "thread.unarchive",
          commandId: "u1",
          threadId: "t1"
        })) as ArchiveResult
        assert.strictEqual(back.status, "active")
        assert.strictEqual(back.worktreePath, path)
        assert.include(worktreePaths(repo), path)
        assert.isTrue(existsSync(join(path, "README.md")))
        assert.strictEqual(git(path, "branch", "--show-current").trim(), started.branch)
      }),
    90_000
  )

  it.live(
    "killed after the thread was archived, before its worktree was looked at: a user's change keeps it, recorded kept",
    () =>
      Effect.gen(function* () {
        const { repo, home, client, started, thread } = yield* archiveAndCrash(
          "thread-archived",
          (worktree) => writeFileSync(join(worktree, "notes.txt"), "a user's notes\n")
        )
        const path = started.worktreePath
        assert.strictEqual(thread.status, "archived")
        assert.strictEqual(thread.cleanup?.outcome, "kept", JSON.stringify(thread.cleanup))
        assert.match(thread.cleanup?.reasons.join(" ") ?? "", /notes\.txt/)
        assert.strictEqual(readFileSync(join(path, "notes.txt"), "utf8"), "a user's notes\n")
        assert.include(branches(repo), started.branch)
        assert.strictEqual(removalsLeft(home), 0)

        const back = (yield* dispatch(client, {
          type: "thread.unarchive",
          commandId: "u1",
          threadId: "t1"
        })) as ArchiveResult
        assert.strictEqual(back.status, "active")
        assert.strictEqual(back.worktreePath, path)
        assert.strictEqual(readFileSync(join(path, "notes.txt"), "utf8"), "a user's notes\n")
      }),
    90_000
  )
})
