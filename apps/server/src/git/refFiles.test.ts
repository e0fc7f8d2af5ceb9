import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { isRemoteName, readBranchCommit, readRefId } from "./refFiles.ts"

const read = (repo: string, branch: string) => Effect.sync(() => readBranchCommit(repo, branch))

describe("readBranchCommit", () => {
  it.live("reads a loose branch and a packed one as git resolves them", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      git(repo, "branch", "feature/x")
      commitFile(repo, "more.txt", "more\n")
      const main = git(repo, "rev-parse", "main").trim()
      const feature = git(repo, "rev-parse", "feature/x").trim()
      assert.notStrictEqual(main, feature)
      assert.strictEqual(yield* read(repo, "main"), main)
      assert.strictEqual(yield* read(repo, "feature/x"), feature)
      git(repo, "pack-refs", "--all")
      assert.strictEqual(yield* read(repo, "main"), main)
      assert.strictEqual(yield* read(repo, "feature/x"), feature)
      // A loose ref written after packing wins, as in git.
      commitFile(repo, "again.txt", "again\n")
      assert.strictEqual(yield* read(repo, "main"), git(repo, "rev-parse", "main").trim())
    })
  )

  it.live("leaves to git what is not a plain branch in a plain repository", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      git(repo, "symbolic-ref", "refs/heads/alias", "refs/heads/main")
      assert.isUndefined(yield* read(repo, "alias"))
      for (const name of ["../config", "../../HEAD", ".hidden", "a..b", "x.lock", "nope"])
        assert.isUndefined(yield* read(repo, name), name)
      const linked = join(yield* tempDir(), "linked")
      git(repo, "worktree", "add", "--quiet", "-b", "linked", linked)
      assert.isUndefined(yield* read(linked, "main"))
      assert.isUndefined(yield* read(join(yield* tempDir(), "not-a-repo"), "main"))
    })
  )

  it.live("reads any plain ref by its full name, and says when the store plainly has none", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      git(repo, "tag", "-a", "-m", "annotated", "v1")
      const tagObject = git(repo, "rev-parse", "refs/tags/v1").trim()
      assert.strictEqual(readRefId(repo, "refs/tags/v1"), tagObject)
      assert.isNull(readRefId(repo, "refs/tags/v2"))
      assert.isNull(readRefId(repo, "refs/remotes/origin/main"))
      git(repo, "pack-refs", "--all")
      assert.strictEqual(readRefId(repo, "refs/tags/v1"), tagObject)
      assert.isNull(readRefId(repo, "refs/heads/v1"))
      // Not a full name, or not plain: git is asked.
      assert.isUndefined(readRefId(repo, "main"))
      assert.isUndefined(readRefId(repo, "refs/../config"))
    })
  )

  it.live("counts a name as a remote by its config section or by remote-tracking refs under it", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const head = git(repo, "rev-parse", "HEAD").trim()
      git(repo, "remote", "add", "upstream", join(yield* tempDir(), "nowhere.git"))
      git(repo, "update-ref", "refs/remotes/fetched-only/main", head)
      assert.isTrue(isRemoteName(repo, "upstream"))
      assert.isTrue(isRemoteName(repo, "fetched-only"))
      assert.isFalse(isRemoteName(repo, "origin"))
      assert.isFalse(isRemoteName(repo, "main"))
      git(repo, "pack-refs", "--all")
      assert.isTrue(isRemoteName(repo, "fetched-only"))
      git(repo, "config", "include.path", "elsewhere")
      assert.isUndefined(isRemoteName(repo, "upstream"))
    })
  )
})
