import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"
import { GitError } from "./GitError.ts"

describe("Repositories", () => {
  it.live("finds the root from a subdirectory and refuses a non-repository", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      commitFile(repo, "a/b/c.txt", "x")
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      assert.strictEqual(yield* repositories.root(join(repo, "a", "b")), repo)
      const plain = yield* tempDir()
      const error = yield* Effect.flip(repositories.root(plain))
      assert.strictEqual(error.reason, "not-a-repository")
      assert.include(error.message, plain)
    })
  )

  it.live("resolves local branches, remote-tracking branches, tags and commits", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      const head = git(repo, "rev-parse", "HEAD").trim()
      git(repo, "tag", "v1")
      git(repo, "update-ref", "refs/remotes/origin/remote-only", head)
      assert.strictEqual((yield* repositories.resolveBase(repo, "main")).ref, "refs/heads/main")
      assert.strictEqual((yield* repositories.resolveBase(repo, "v1")).ref, "refs/tags/v1")
      const remote = yield* repositories.resolveBase(repo, "remote-only")
      assert.strictEqual(remote.name, "origin/remote-only")
      assert.strictEqual(
        (yield* repositories.resolveBase(repo, "origin/remote-only")).ref,
        "refs/remotes/origin/remote-only"
      )
      const commit = yield* repositories.resolveBase(repo, head.slice(0, 10))
      assert.strictEqual(commit.sha, head)
      const missing = yield* Effect.flip(repositories.resolveBase(repo, "nope"))
      assert.strictEqual(missing.reason, "base-not-found")
    })
  )

  it.live("warns and uses the local branch when there is no origin to fetch from", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      const base = yield* repositories.resolveBase(repo, "main", { fetch: true })
      assert.strictEqual(base.ref, "refs/heads/main")
      assert.strictEqual(base.warnings.length, 1)
      assert.include(base.warnings[0]!, "No remote 'origin'")
    })
  )

  it.live("summarizes a worktree: branch, head, changes, ahead and behind its base", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      git(repo, "checkout", "--quiet", "-b", "topic")
      commitFile(repo, "one.txt", "1")
      commitFile(repo, "two.txt", "2")
      git(repo, "checkout", "--quiet", "main")
      commitFile(repo, "main.txt", "m")
      git(repo, "checkout", "--quiet", "topic")
      writeFileSync(join(repo, "one.txt"), "changed")
      writeFileSync(join(repo, "new.txt"), "untracked")
      const status = yield* repositories.status(repo, "main")
      assert.strictEqual(status.branch, "topic")
      assert.strictEqual(status.head, git(repo, "rev-parse", "HEAD").trim())
      assert.strictEqual(status.changedFiles, 2)
      assert.strictEqual(status.ahead, 2)
      assert.strictEqual(status.behind, 1)
      git(repo, "checkout", "--quiet", "--detach")
      assert.isNull((yield* repositories.status(repo)).branch)
    })
  )

  it.live("lists worktrees, and falls back to the newline format where -z is unsupported", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const extra = join(yield* tempDir(), "extra wt")
      git(repo, "worktree", "add", "--quiet", "-b", "extra", extra)
      const home = join(yield* tempDir(), "home")
      const modern = yield* gitServices(home)
      const calls: Array<string> = []
      const old = yield* gitServices(home, (git) => ({
        ...git,
        run: (args, options) => {
          calls.push(args.join(" "))
          // What git before 2.36 answers to -z here.
          return args.includes("-z") && args[0] === "worktree"
            ? Effect.succeed({ exitCode: 129, stdout: "", stderr: "error: unknown switch `z'" })
            : git.run(args, options)
        }
      }))
      const expected = yield* modern.repositories.listWorktrees(repo)
      assert.deepStrictEqual(
        expected.map((w) => [w.path, w.branch]),
        [
          [repo, "main"],
          [extra, "extra"]
        ]
      )
      assert.deepStrictEqual(yield* old.repositories.listWorktrees(repo), expected)
      assert.isTrue(calls.some((c) => c === "worktree list --porcelain -z"))
    })
  )

  it.live("checks branch names like git does", () =>
    Effect.gen(function* () {
      const repo = yield* gitRepo
      const { repositories } = yield* gitServices(join(yield* tempDir(), "home"))
      yield* repositories.checkBranchName(repo, "feature/ok-name_1.2")
      for (const bad of ["-x", "a..b", "a b", "a~1", "a^", "a:b", "x.lock", "/x", "a\u0001b", "@", "@{-1}"]) {
        const error = yield* Effect.flip(repositories.checkBranchName(repo, bad))
        assert.instanceOf(error, GitError)
        assert.strictEqual(error.reason, "invalid-branch-name", bad)
      }
    })
  )
})
