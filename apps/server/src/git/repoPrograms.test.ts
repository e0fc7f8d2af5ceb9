// When the config listing GitCli keeps may be reused: while the config files hold the same bytes
// (git rewrites .git/config whole for small things, such as a branch deleted), never once they
// change, however fast.
import { appendFileSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { configFingerprint } from "./repoPrograms.ts"

describe("configFingerprint", () => {
  it.effect("stays while the config's bytes do, and moves with them at once", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const config = join(repo, ".git", "config")
      const first = configFingerprint(repo)
      assert.isString(first)
      // Rewritten with the same bytes (as `git branch -D` does): the same key.
      writeFileSync(config, readFileSync(config))
      git(repo, "branch", "gone")
      git(repo, "branch", "-D", "gone")
      assert.strictEqual(configFingerprint(repo), first)
      // A driver planted right away: another key, with no clock tick needed.
      appendFileSync(config, '[filter "x"]\n\tsmudge = touch /nonexistent/marker\n')
      const second = configFingerprint(repo)
      assert.isString(second)
      assert.notStrictEqual(second, first)
      // A linked worktree's own config.worktree counts too.
      const linked = join(yield* tempDir(), "linked")
      git(repo, "worktree", "add", "--quiet", "--detach", linked)
      const before = configFingerprint(linked)
      const gitDir = git(linked, "rev-parse", "--absolute-git-dir").trim()
      writeFileSync(join(gitDir, "config.worktree"), "[core]\n\tfsmonitor = touch /nonexistent/m\n")
      assert.notStrictEqual(configFingerprint(linked), before)
    })
  )
})
