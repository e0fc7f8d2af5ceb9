// A thread's branch merged back into the branch it started from, on a real server core and real
// repositories: a dry run writes nothing; the merge lands in the repository's checkout of main;
// uncommitted work, a branch of its own as target, a missing target and a conflict are refused
// with what to do, and change nothing.
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import { bootstrapWorld, threadId } from "../testing/bootstrap.ts"
import { commitFile, git } from "../testing/fixtures.ts"
import { ThreadMerge } from "./ThreadMerge.ts"

const refsOf = (repo: string) => git(repo, "for-each-ref", "--format=%(refname) %(objectname)")

const world = bootstrapWorld()

describe("thread merge", () => {
  it.live("previews, then merges a thread's commits into the branch it started from", () =>
    Effect.gen(function* () {
      const w = yield* world
      const merges = Context.getUnsafe(w.context, ThreadMerge)
      const started = yield* w.bootstrap("t1")
      const worktree = started.worktreePath!
      commitFile(worktree, "feature.txt", "one\ntwo\n")
      const before = refsOf(w.repo)

      const preview = yield* merges.merge({ threadId: threadId("t1"), dryRun: true })
      assert.strictEqual(preview.strategy, "ff-only")
      assert.strictEqual(preview.target, "main")
      assert.isNull(preview.commit)
      assert.deepStrictEqual(preview.files, [{ path: "feature.txt", added: 2, removed: 0 }])
      assert.strictEqual(refsOf(w.repo), before, "a dry run writes nothing")

      const merged = yield* merges.merge({ threadId: threadId("t1") })
      const branchHead = git(worktree, "rev-parse", "HEAD").trim()
      assert.strictEqual(merged.commit, branchHead)
      assert.strictEqual(git(w.repo, "rev-parse", "refs/heads/main").trim(), branchHead)
      // main is the repository's own checkout: its files moved with it.
      assert.strictEqual(readFileSync(join(w.repo, "feature.txt"), "utf8"), "one\ntwo\n")
      assert.strictEqual(git(w.repo, "status", "--porcelain=v1"), "")
      const again = yield* merges.merge({ threadId: threadId("t1") })
      assert.isTrue(again.upToDate)
    })
  )

  it.live(
    "refuses uncommitted work, itself or a missing branch as target, and a conflict; nothing changes",
    () =>
      Effect.gen(function* () {
        const w = yield* world
        const merges = Context.getUnsafe(w.context, ThreadMerge)
        const started = yield* w.bootstrap("t1")
        const worktree = started.worktreePath!
        const refusal = (request: Parameters<typeof merges.merge>[0]) =>
          Effect.gen(function* () {
            const before = { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") }
            const error = yield* Effect.flip(merges.merge(request))
            assert.deepStrictEqual(
              { refs: refsOf(w.repo), status: git(w.repo, "status", "--porcelain=v1") },
              before
            )
            return error
          })

        writeFileSync(join(worktree, "README.md"), "edited, not committed\n")
        const dirty = yield* refusal({ threadId: threadId("t1") })
        assert.strictEqual(dirty.reason, "conflict")
        assert.include(dirty.message, "uncommitted change")
        assert.include(dirty.message, "spindle thread send t1")
        git(worktree, "checkout", "--", "README.md")

        const branch = git(worktree, "rev-parse", "--abbrev-ref", "HEAD").trim()
        const itself = yield* refusal({ threadId: threadId("t1"), into: branch })
        assert.strictEqual(itself.reason, "validation")
        assert.include(itself.message, "cannot be merged into itself")
        const missing = yield* refusal({ threadId: threadId("t1"), into: "no-such-branch" })
        assert.include(missing.message, "There is no branch no-such-branch")

        // The thread and main change the same line.
        const readme = readFileSync(join(worktree, "README.md"), "utf8")
        writeFileSync(join(worktree, "README.md"), `thread's line\n${readme}`)
        git(worktree, "commit", "--quiet", "-am", "thread edit")
        writeFileSync(join(w.repo, "README.md"), `main's line\n${readme}`)
        git(w.repo, "commit", "--quiet", "-am", "main edit")
        const conflict = yield* refusal({ threadId: threadId("t1") })
        assert.strictEqual(conflict.reason, "conflict")
        assert.include(conflict.message, "Conflicts: README.md (lines 1-5)")
        const dry = yield* merges.merge({ threadId: threadId("t1"), dryRun: true })
        assert.deepStrictEqual(dry.conflicts, [{ path: "README.md", hunks: [{ startLine: 1, endLine: 5 }] }])
        assert.strictEqual(dry.strategy, "merge")
      })
  )

  it.live("refuses to merge a thread into the branch of a thread it started", () =>
    Effect.gen(function* () {
      const w = yield* world
      const merges = Context.getUnsafe(w.context, ThreadMerge)
      const parent = yield* w.bootstrap("t1")
      const child = yield* w.bootstrap("t2", {
        dispatch: { parent: { threadId: threadId("t1"), worktreePath: parent.worktreePath } }
      })
      const before = refsOf(w.repo)
      const error = yield* Effect.flip(merges.merge({ threadId: threadId("t1"), into: child.branch! }))
      assert.strictEqual(error.reason, "validation")
      assert.include(error.message, "which t1 started: merge t2 into t1 instead")
      assert.strictEqual(refsOf(w.repo), before)
    })
  )
})
