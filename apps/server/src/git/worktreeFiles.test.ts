// Moving a linked worktree and pointing its HEAD on git's files: git then sees exactly what its
// own `worktree move` and `symbolic-ref` leave; anything unusual is left to git.
import { existsSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { checkoutOfRef, moveWorktree, pointHeadAt } from "./worktreeFiles.ts"

const listed = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain")
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .slice(1)

describe("worktreeFiles", () => {
  it.live("moves a linked worktree and points its HEAD at a branch as git itself would", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const dir = realpathSync(yield* tempDir())
      const ours = join(dir, "slot-a")
      const theirs = join(dir, "slot-b")
      git(repo, "worktree", "add", "--quiet", "--detach", ours, "main")
      git(repo, "worktree", "add", "--quiet", "--detach", theirs, "main")
      const target = join(dir, "placed", "ours")
      assert.isTrue(moveWorktree(ours, target))
      git(repo, "worktree", "move", theirs, join(dir, "placed", "theirs"))
      git(repo, "branch", "--no-track", "ours", "main")
      git(repo, "branch", "--no-track", "theirs", "main")
      assert.isTrue(pointHeadAt(target, "ours"))
      git(join(dir, "placed", "theirs"), "symbolic-ref", "HEAD", "refs/heads/theirs")

      assert.isFalse(existsSync(ours))
      const [a, b] = listed(repo)
      assert.strictEqual(
        a,
        `worktree ${target}\nHEAD ${git(repo, "rev-parse", "main").trim()}\nbranch refs/heads/ours`
      )
      assert.strictEqual(a?.replaceAll("ours", "theirs"), b)
      assert.strictEqual(git(target, "status", "--porcelain").trim(), "")
      assert.strictEqual(git(target, "rev-parse", "--show-toplevel").trim(), target)
      assert.notInclude(git(repo, "worktree", "prune", "--dry-run", "--verbose"), "ours")
      // The branch is checked out there as far as git knows: it refuses to check it out again.
      assert.throws(() => git(repo, "checkout", "ours"))
    })
  )

  it.live("leaves a locked worktree, a taken target, a relative link and a held lock to git", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const dir = realpathSync(yield* tempDir())
      const slot = join(dir, "slot")
      git(repo, "worktree", "add", "--quiet", "--detach", slot, "main")
      const admin = readFileSync(join(slot, ".git"), "utf8").slice("gitdir: ".length).trim()
      const before = readFileSync(join(admin, "gitdir"), "utf8")

      git(repo, "worktree", "lock", slot)
      assert.isFalse(moveWorktree(slot, join(dir, "moved")))
      git(repo, "worktree", "unlock", slot)

      assert.isFalse(moveWorktree(slot, repo))

      writeFileSync(join(slot, ".git"), "gitdir: ../somewhere\n")
      assert.isFalse(moveWorktree(slot, join(dir, "moved")))
      assert.isFalse(pointHeadAt(slot, "main"))
      writeFileSync(join(slot, ".git"), `gitdir: ${admin}\n`)

      writeFileSync(join(admin, "HEAD.lock"), "")
      assert.isFalse(pointHeadAt(slot, "main"))
      assert.isTrue(existsSync(slot))
      assert.strictEqual(readFileSync(join(admin, "gitdir"), "utf8"), before)
      assert.notInclude(readFileSync(join(admin, "HEAD"), "utf8"), "ref:")
    })
  )

  it.live(
    "finds where a branch is checked out as git worktree list does, and leaves the unusual to git",
    () =>
      Effect.gen(function* () {
        const repo = realpathSync(yield* gitRepo)
        const dir = realpathSync(yield* tempDir())
        git(repo, "branch", "--no-track", "feature", "main")
        git(repo, "branch", "--no-track", "idle", "main")
        git(repo, "worktree", "add", "--quiet", join(dir, "feature"), "feature")
        git(repo, "worktree", "add", "--quiet", "--detach", join(dir, "detached"), "main")
        /** Where git itself says the branch is checked out. */
        const byGit = (ref: string) => {
          let path: string | undefined
          for (const line of git(repo, "worktree", "list", "--porcelain").split("\n")) {
            if (line.startsWith("worktree ")) path = line.slice("worktree ".length)
            else if (line === `branch ${ref}`) return path
          }
          return undefined
        }
        for (const ref of ["refs/heads/main", "refs/heads/feature", "refs/heads/idle", "refs/heads/none"]) {
          assert.deepStrictEqual(checkoutOfRef(repo, ref), { at: byGit(ref) }, ref)
        }
        assert.strictEqual(checkoutOfRef(repo, "refs/heads/feature")?.at, join(dir, "feature"))

        // A linked worktree's link written relative: git is asked.
        const admin = join(repo, ".git", "worktrees", "feature")
        const link = readFileSync(join(admin, "gitdir"), "utf8")
        writeFileSync(join(admin, "gitdir"), "../feature/.git\n")
        assert.isUndefined(checkoutOfRef(repo, "refs/heads/feature"))
        writeFileSync(join(admin, "gitdir"), link)
        // A config that moves the work tree: git is asked.
        git(repo, "config", "core.worktree", repo)
        assert.isUndefined(checkoutOfRef(repo, "refs/heads/main"))
        git(repo, "config", "--unset", "core.worktree")
        assert.deepStrictEqual(checkoutOfRef(repo, "refs/heads/main"), { at: repo })
        // Not a repository's checkout at all.
        assert.isUndefined(checkoutOfRef(dir, "refs/heads/main"))
      })
  )
})
