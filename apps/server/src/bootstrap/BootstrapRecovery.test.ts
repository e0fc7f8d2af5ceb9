import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { bootstrapWorld } from "../testing/bootstrap.ts"
import { git } from "../testing/fixtures.ts"

describe("BootstrapRecovery: worktrees no thread owns", () => {
  it.live("removes clean ones Spindle created, and reports the rest without touching them", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const owned = yield* world.bootstrap("t1")
      const root = join(world.home, "worktrees", "p1")
      mkdirSync(root, { recursive: true })
      const journaled = (branch: string) =>
        world.journal.begin(
          {
            commandId: `old-${branch.replace("/", "-")}`,
            payloadHash: "x",
            threadId: `gone-${branch.replace("/", "-")}`,
            projectId: "p1",
            repo: world.repo,
            mode: "new_worktree",
            stage: "done",
            branch,
            worktreePath: join(root, branch.replace("/", "-")),
            prompt: "old",
            turnId: "old",
            createdByUs: true,
            result: null,
            error: null,
            gitGroup: null
          },
          "2026-01-01T00:00:00.000Z"
        )
      // Ours and clean: removed. Ours but dirty: kept. Not ours: kept.
      for (const branch of ["spindle/clean", "spindle/dirty"]) {
        git(world.repo, "worktree", "add", "--quiet", "-b", branch, join(root, branch.replace("/", "-")))
        yield* journaled(branch)
      }
      writeFileSync(join(root, "spindle-dirty", "wip.txt"), "unsaved work\n")
      git(world.repo, "worktree", "add", "--quiet", "-b", "by-hand", join(root, "by-hand"))

      const report = yield* world.recovery.recover
      const byPath = new Map(report.orphanedWorktrees.map((o) => [o.path.split("/").pop(), o]))
      assert.strictEqual(byPath.get("spindle-clean")?.action, "removed")
      assert.strictEqual(byPath.get("spindle-dirty")?.action, "kept")
      assert.include(byPath.get("spindle-dirty")?.reason ?? "", "uncommitted")
      assert.strictEqual(byPath.get("by-hand")?.action, "kept")
      assert.strictEqual(report.orphanedWorktrees.length, 3)
      assert.isFalse(existsSync(join(root, "spindle-clean")))
      assert.isTrue(existsSync(join(root, "spindle-dirty", "wip.txt")))
      assert.isTrue(existsSync(join(root, "by-hand")))
      // The live thread's worktree is nobody's orphan.
      assert.isTrue(existsSync(owned.worktreePath))
      assert.deepStrictEqual(yield* world.recovery.report, report)
    })
  )
})
