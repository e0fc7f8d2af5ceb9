// A git left working on a path: waited for while it finishes, killed when it does not; a git that
// names another path, or started after the server, is left alone. The gits are real: `git -C
// <path> cat-file --batch` runs until its stdin closes.
import { spawn } from "node:child_process"
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git, tempDir } from "../testing/fixtures.ts"
import { gitProcessesOn, settleOrphanedGit, startTicks } from "./orphanedGit.ts"

const gitIn = (path: string) => {
  mkdirSync(path, { recursive: true })
  git(path, "init", "-q")
  const child = spawn("git", ["-C", path, "cat-file", "--batch"], { stdio: ["pipe", "ignore", "ignore"] })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  return { pid: child.pid!, exited, finish: () => child.stdin.end() }
}

describe("settleOrphanedGit", () => {
  it.live("waits for a git working on the path, kills one that does not finish, ignores the rest", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir()
      const path = join(dir, "worktrees", "w1")
      // "The server" started after every git below.
      const serverStarted = startTicks("self")! + 1_000_000
      const other = gitIn(join(dir, "elsewhere"))
      const quick = gitIn(path)
      yield* Effect.sleep("200 millis")
      assert.deepStrictEqual(gitProcessesOn(path, serverStarted), [quick.pid])
      setTimeout(quick.finish, 500)
      assert.strictEqual(yield* settleOrphanedGit(path, 10_000, serverStarted), 1)
      yield* Effect.promise(() => quick.exited)

      const stuck = gitIn(join(path, "sub"))
      yield* Effect.sleep("200 millis")
      assert.strictEqual(yield* settleOrphanedGit(path, 300, serverStarted), 1)
      yield* Effect.promise(() => stuck.exited)
      assert.deepStrictEqual(gitProcessesOn(path, serverStarted), [])
      // A git started after the server is its own, never an orphan; another path's is left alone.
      assert.deepStrictEqual(gitProcessesOn(join(dir, "elsewhere"), 0), [])
      assert.deepStrictEqual(gitProcessesOn(join(dir, "elsewhere"), serverStarted), [other.pid])
      other.finish()
      yield* Effect.promise(() => other.exited)
    })
  )
})
