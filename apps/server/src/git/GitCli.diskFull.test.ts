// A checkout onto a full disk: git says "unable to write" once per file (hundreds of KB); the error
// Spindle answers keeps the first and last lines and says how many it left out.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { MOUNT_REFUSED, smallDisk } from "../testing/smallDisk.ts"
import { GitError } from "./GitError.ts"

describe.skipIf(MOUNT_REFUSED !== undefined)("a git error on a full disk", () => {
  it.live("is a few lines long, not one per file", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      for (let i = 0; i < 600; i++) writeFileSync(join(repo, `file${i}.txt`), `${i}\n`.repeat(2000))
      git(repo, "add", ".")
      git(repo, "-c", "user.name=t", "-c", "user.email=t@spindle.invalid", "commit", "-qm", "many files")
      const disk = yield* smallDisk("1m")
      const services = yield* gitServices(join(yield* tempDir(), "home"))
      const error = yield* Effect.flip(
        services.git.runOk(["worktree", "add", "-b", "spindle/full", join(disk, "wt"), "refs/heads/main"], {
          cwd: repo
        })
      )
      assert.instanceOf(error, GitError)
      assert.match(error.message, /No space left on device|unable to write/)
      assert.include(error.message, "more lines (the full text is in the server log)")
      assert.isAtMost(error.message.length, 5_000)
    })
  )
})
