// kill -9 of the real server (`npm start`) while its git is working, then an immediate restart on
// the same home. The git the killed server started goes on as an orphan; recovery must wait for it
// (or end it) before judging the path, so that nothing is left half-made: an archive in flight
// ends recorded and unarchive really checks the worktree out again; a checkout in flight is rolled
// back with no spindle/* branch left without its thread and no /health path that does not exist.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import { isRunning } from "@spindle/shared/processGroup"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { makeClient } from "../cli/rpcClient.ts"
import { gitProcessesOn } from "../git/orphanedGit.ts"
import { git, gitRepo, tempHome } from "../testing/fixtures.ts"
import { getJson } from "../testing/http.ts"
import { startServer } from "../testing/serverProcess.ts"

/** A repository whose checkout takes git a while: many files in many folders. */
const bigRepo = Effect.map(gitRepo, (repo) => {
  for (let d = 0; d < 100; d++) {
    const dir = join(repo, `src${d}`)
    mkdirSync(dir)
    for (let f = 0; f < 150; f++) writeFileSync(join(dir, `file${f}.txt`), `${d}/${f}\n`.repeat(200))
  }
  git(repo, "add", ".")
  git(repo, "-c", "user.name=t", "-c", "user.email=t@spindle.invalid", "commit", "-qm", "many files")
  return repo
})

/** A live `git worktree <verb>` naming a path under `root`, whoever started it. */
const gitWorking = (verb: string, root: string) =>
  gitProcessesOn(root, Number.MAX_SAFE_INTEGER, ["worktree", verb])[0]

const alive = isRunning

/**
 * kill -9 of the server's own node process, not its group: its git goes on, as after an OOM kill
 * (npm, its parent, then exits by itself).
 */
const killServer = (home: string) => {
  const { pid } = JSON.parse(readFileSync(join(home, "server.json"), "utf8")) as { pid: number }
  process.kill(pid, "SIGKILL")
  return pid
}

const until = <A>(check: () => A | undefined, what: string, seconds = 60) =>
  Effect.sync(check).pipe(
    Effect.repeat({ until: (found) => found !== undefined, schedule: Schedule.spaced("5 millis") }),
    Effect.timeoutOrElse({
      duration: `${seconds} seconds`,
      orElse: () => Effect.die(new Error(`${what} did not happen within ${seconds} s`))
    }),
    Effect.map((found) => found as A)
  )

const connect = (home: string, url: string) =>
  makeClient({ url, token: readFileSync(join(home, "owner-token"), "utf8").trim() })

const spindleBranches = (repo: string) =>
  git(repo, "branch", "--format=%(refname:short)")
    .trim()
    .split("\n")
    .filter((b) => b.startsWith("spindle/"))

describe("kill -9 while git works, then an immediate restart", () => {
  it.live(
    "during archive: the archive is finished and recorded, and unarchive really checks the worktree out",
    () =>
      Effect.gen(function* () {
        const repo = yield* bigRepo
        const home = yield* tempHome
        const first = yield* startServer(home)
        const client = yield* connect(home, first.url)
        const send = (command: Record<string, unknown>) =>
          client["orchestration.dispatchCommand"]({ command: command as never })
        yield* send({ type: "project.create", commandId: "p", projectId: "p1", workspaceRoot: repo })
        yield* client["orchestration.dispatchCommand"]({
          command: {
            type: "thread.turn.start",
            commandId: "start",
            threadId: "t1",
            prompt: "work",
            bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "new_worktree" } }
          } as never,
          await: "workspace"
        })
        const thread = yield* client["thread.get"]({ threadId: "t1" as ThreadId })
        const worktree = thread.workspace.worktreePath!
        const branch = thread.workspace.branch!
        assert.isTrue(existsSync(join(worktree, ".git")))

        // Archive (not awaited), and kill the server while its `git worktree remove` runs.
        yield* Effect.forkDetach(
          Effect.ignore(send({ type: "thread.archive", commandId: "archive", threadId: "t1" }))
        )
        const orphan = yield* until(() => gitWorking("remove", worktree), "git worktree remove")
        killServer(home)
        assert.isTrue(alive(orphan), "git outlived the server it was started by")

        const second = yield* startServer(home)
        const after = yield* connect(home, second.url)
        const archived = yield* after["thread.get"]({ threadId: "t1" as ThreadId })
        assert.strictEqual(archived.status, "archived")
        assert.isNotNull(archived.cleanup, "the archive's outcome is recorded")
        assert.strictEqual(archived.cleanup?.outcome, "removed")
        assert.isFalse(alive(orphan), "no git from before the restart still runs")
        assert.isFalse(existsSync(worktree))

        yield* after["orchestration.dispatchCommand"]({
          command: { type: "thread.unarchive", commandId: "unarchive", threadId: "t1" } as never
        })
        const back = yield* after["thread.get"]({ threadId: "t1" as ThreadId })
        assert.strictEqual(back.status, "active")
        const path = back.workspace.worktreePath!
        assert.isTrue(existsSync(join(path, ".git")), "unarchive made a real worktree")
        assert.include(git(path, "rev-parse", "--abbrev-ref", "HEAD").trim(), branch)
        assert.isTrue(existsSync(join(path, "src99", "file149.txt")))
      }),
    180_000
  )

  it.live("during checkout: rolled back with no branch left behind and no /health path that is gone", () =>
    Effect.gen(function* () {
      const repo = yield* bigRepo
      const home = yield* tempHome
      const first = yield* startServer(home)
      const client = yield* connect(home, first.url)
      yield* client["orchestration.dispatchCommand"]({
        command: { type: "project.create", commandId: "p", projectId: "p1", workspaceRoot: repo } as never
      })
      yield* Effect.forkDetach(
        Effect.ignore(
          client["orchestration.dispatchCommand"]({
            command: {
              type: "thread.turn.start",
              commandId: "start",
              threadId: "t1",
              prompt: "work",
              bootstrap: { createThread: { projectId: "p1" }, workspace: { mode: "new_worktree" } }
            } as never
          })
        )
      )
      const orphan = yield* until(() => gitWorking("add", join(home, "worktrees")), "git worktree add")
      killServer(home)
      assert.isTrue(alive(orphan), "git outlived the server it was started by")

      const second = yield* startServer(home)
      const after = yield* connect(home, second.url)
      const thread = yield* after["thread.get"]({ threadId: "t1" as ThreadId })
      assert.strictEqual(thread.bootstrap.status, "failed")
      assert.strictEqual(thread.bootstrap.stage, "workspace")
      assert.isFalse(alive(orphan), "no git from before the restart still runs")
      // Whatever the orphaned git did, nothing of it is left.
      assert.deepStrictEqual(spindleBranches(repo), [], "no spindle/* branch without its thread")
      const listed = git(repo, "worktree", "list", "--porcelain")
        .split("\n")
        .filter((line) => line.startsWith("worktree "))
      assert.deepStrictEqual(listed, [`worktree ${repo}`])
      const token = readFileSync(join(home, "owner-token"), "utf8").trim()
      const health = yield* getJson(`${second.url}/health`, { authorization: `Bearer ${token}` })
      const reported = (health.body.orphanedWorktrees ?? []) as Array<{ path: string; action: string }>
      for (const worktree of reported.filter((w) => w.action === "kept"))
        assert.isTrue(existsSync(worktree.path), `/health reports ${worktree.path}, which does not exist`)
      // A moment later still nothing reappears (an orphaned git would have finished by now).
      yield* Effect.sleep("1 second")
      assert.deepStrictEqual(spindleBranches(repo), [])
    })
  )
})
