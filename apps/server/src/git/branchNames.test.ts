import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { diffSummary } from "./diffSummary.ts"

describe("checkBranchName against the repository", () => {
  it.live("refuses remotes' names, existing tags and look-alikes of existing refs, each saying why", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories, worktrees } = yield* gitServices(join(yield* tempDir(), "home"))
      git(repo, "remote", "add", "upstream", join(yield* tempDir(), "nowhere.git"))
      git(repo, "tag", "v1.0")
      git(repo, "branch", "pop")
      const main = git(repo, "rev-parse", "main").trim()
      const cases: ReadonlyArray<readonly [branch: string, says: string]> = [
        ["upstream/feature", "the remote 'upstream'"],
        ["upstream", "the remote 'upstream'"],
        ["v1.0", "a tag of that name exists"],
        ["Main", "looks like the existing branch 'main'"],
        ["\u0440\u043e\u0440", "looks like the existing branch 'pop'"],
        [main, "looks like a commit id"],
        ["origin/main", "origin"],
        ["FETCH_HEAD", "special refs"],
        ["main\u200b", "U+200B"]
      ]
      for (const [branch, says] of cases) {
        const error = yield* Effect.flip(repositories.checkBranchName(repo, branch))
        assert.strictEqual(error.reason, "invalid-branch-name", branch)
        assert.include(error.message, says, branch)
        const refused = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", branch }))
        assert.strictEqual(refused.reason, "invalid-branch-name", branch)
      }
      assert.deepStrictEqual(
        git(repo, "for-each-ref", "--format=%(refname)", "refs/heads").trim().split("\n").sort(),
        ["refs/heads/main", "refs/heads/pop"]
      )
      for (const branch of [
        "feature/x",
        "spindle/fix-login",
        "release-2.1",
        "\u6a5f\u80fd/\u30ed\u30b0\u30a4\u30f3",
        "upstreamer"
      ]) {
        yield* repositories.checkBranchName(repo, branch)
      }
    })
  )

  it.live("diffs against the remote-tracking base even when a local branch shadows its name", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { git: cli, worktrees } = yield* gitServices(join(yield* tempDir(), "home"))
      const remote = join(yield* tempDir(), "remote.git")
      git(repo, "clone", "--quiet", "--bare", repo, remote)
      git(repo, "remote", "add", "origin", remote)
      git(repo, "fetch", "--quiet", "origin")
      const created = yield* worktrees.create({ repo, projectKey: "p", base: "origin/main" })
      commitFile(created.worktreePath, "work.txt", "work\n")
      // The agent makes refs/heads/origin/main its own HEAD: a diff against it would show nothing.
      git(created.worktreePath, "update-ref", "refs/heads/origin/main", "HEAD")
      const summary = yield* diffSummary(cli, repo, created.worktreePath, "origin/main")
      assert.strictEqual(summary.commitsAhead, 1)
      assert.deepStrictEqual(
        summary.files.map((f) => f.path),
        ["work.txt"]
      )
    })
  )
})
