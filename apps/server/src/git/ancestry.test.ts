// Ancestry by object id: yes, no, a name that is not an object id, and a commit git did not have
// yet (asked again once it exists, rather than remembered as "no").
import { execFileSync } from "node:child_process"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

describe("Repositories.isAncestor", () => {
  it.live("answers by object id, and asks again about a commit git did not have", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      const first = git(repo, "rev-parse", "HEAD").trim()
      commitFile(repo, "next.txt", "next\n")
      const second = git(repo, "rev-parse", "HEAD").trim()
      assert.isTrue(yield* repositories.isAncestor(repo, first, second))
      assert.isFalse(yield* repositories.isAncestor(repo, second, first))
      // The same question again is answered the same (from memory).
      assert.isFalse(yield* repositories.isAncestor(repo, second, first))

      // A child of `second` whose id is known before git has the object.
      const tree = git(repo, "rev-parse", "HEAD^{tree}").trim()
      const body = `tree ${tree}\nparent ${second}\nauthor A <a@b.invalid> 1 +0000\ncommitter A <a@b.invalid> 1 +0000\n\nlater\n`
      const hash = (write: boolean) =>
        execFileSync("git", ["hash-object", "-t", "commit", ...(write ? ["-w"] : []), "--stdin"], {
          cwd: repo,
          input: body
        })
          .toString()
          .trim()
      const later = hash(false)
      assert.isFalse(yield* repositories.isAncestor(repo, second, later))
      assert.strictEqual(hash(true), later)
      assert.isTrue(yield* repositories.isAncestor(repo, second, later))
    })
  )
})
