// Unarchive asks git whether the thread's worktree is really there before it says the thread is
// back: a worktree removed behind the thread's back (or by a removal a crash cut short) is
// re-created from its branch; one Spindle did not create is refused with what to do.
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ArchiveResult, SpindleError, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { type BootstrapWorld, bootstrapWorld } from "../testing/bootstrap.ts"
import { git, serverActor } from "../testing/fixtures.ts"

let n = 0
const send = (world: BootstrapWorld, command: Record<string, unknown>) =>
  world.commands.dispatch({ commandId: `c-${++n}`, ...command }, serverActor) as Effect.Effect<
    ArchiveResult,
    SpindleError
  >

const listed = (repo: string) => git(repo, "worktree", "list", "--porcelain")

describe("unarchive checks the worktree is really there", () => {
  it.live("a kept worktree removed behind the thread's back is checked out again from its branch", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const first = yield* world.bootstrap("t1", { runSetupScript: false })
      writeFileSync(join(first.worktreePath, "notes.txt"), "half done\n")
      git(first.worktreePath, "add", "notes.txt")
      git(first.worktreePath, "-c", "user.name=a", "-c", "user.email=a@b.invalid", "commit", "-qm", "notes")
      writeFileSync(join(first.worktreePath, "scratch.txt"), "uncommitted\n")
      const kept = yield* send(world, { type: "thread.archive", threadId: "t1" })
      assert.strictEqual(kept.worktree?.outcome, "kept")
      // The folder goes (a user's rm -rf, or a git remove the server did not live to record).
      rmSync(first.worktreePath, { recursive: true, force: true })
      const back = yield* send(world, { type: "thread.unarchive", threadId: "t1" })
      assert.strictEqual(back.status, "active")
      assert.strictEqual(back.worktreePath, first.worktreePath)
      assert.isTrue(
        existsSync(join(first.worktreePath, ".git")),
        "unarchive said active but made no worktree"
      )
      assert.strictEqual(readFileSync(join(first.worktreePath, "notes.txt"), "utf8"), "half done\n")
      assert.strictEqual(git(first.worktreePath, "branch", "--show-current").trim(), first.branch)
      assert.include(listed(world.repo), `worktree ${first.worktreePath}\n`)
      const thread = yield* world.engine.getThread("t1" as ThreadId)
      assert.strictEqual(thread?.workspace.worktreePath, first.worktreePath)
    })
  )

  it.live(
    "a worktree Spindle did not create, gone, is refused with what to do; the thread stays archived",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        const theirs = join(world.home, "..", "theirs")
        git(world.repo, "worktree", "add", "--quiet", "-b", "theirs", theirs)
        yield* world.bootstrap("adopted", {
          runSetupScript: false,
          workspace: { mode: "existing_worktree", worktreePath: theirs }
        })
        const archived = yield* send(world, { type: "thread.archive", threadId: "adopted" })
        assert.strictEqual(archived.worktree?.outcome, "not-ours")
        rmSync(theirs, { recursive: true, force: true })
        const refused = yield* Effect.flip(send(world, { type: "thread.unarchive", threadId: "adopted" }))
        assert.strictEqual(refused.reason, "conflict")
        assert.include(refused.message, "worktree add")
        assert.strictEqual((yield* world.engine.getThread("adopted" as ThreadId))?.status, "archived")
        assert.isFalse(existsSync(theirs))
      })
  )
})
