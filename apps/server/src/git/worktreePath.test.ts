// Where a worktree goes, and a folder that cannot be made there: a typed GitError naming the
// folder and the fix, never a defect.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { tempDir } from "../testing/fixtures.ts"
import { choosePath } from "./worktreePath.ts"

describe("choosePath", () => {
  it.effect("answers a free path under <root>/<project>, with -2 when the first is taken", () =>
    Effect.gen(function* () {
      const root = yield* tempDir()
      const first = yield* choosePath(
        join(root, "worktrees"),
        join(root, "repo"),
        "My Project",
        "spindle/abc"
      )
      assert.match(first, /\/worktrees\/my-project\/spindle-abc$/)
    })
  )

  it.effect("a worktrees folder that cannot be created is a typed command-failed error naming it", () =>
    Effect.gen(function* () {
      const root = yield* tempDir()
      // A file where the folder should be: mkdir fails (ENOTDIR), as on a read-only or full disk.
      writeFileSync(join(root, "worktrees"), "not a folder")
      const exit = yield* Effect.exit(choosePath(join(root, "worktrees"), join(root, "repo"), "p", "b"))
      assert.isTrue(Exit.isFailure(exit))
      if (!Exit.isFailure(exit)) return
      const error = Exit.findErrorOption(exit)
      assert.strictEqual(error._tag, "Some", "a typed failure, not a defect")
      if (error._tag !== "Some") return
      assert.strictEqual(error.value.reason, "command-failed")
      assert.include(
        error.value.message,
        `Could not create the worktrees folder ${join(root, "worktrees", "p")}`
      )
    })
  )
})
