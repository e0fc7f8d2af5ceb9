// Refs planted in the shared .git (by an agent with plain git in its worktree) redirect no new
// worktree: each start point reaches git as a full ref or a commit, never a bare name.
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { commitFile, git, gitRepo, tempDir } from "../testing/fixtures.ts"
import { gitServices } from "../testing/git.ts"

/** A repository whose main has an origin copy, and an agent's commit planted under names that shadow main. */
const planted = Effect.gen(function* () {
  const repo = yield* gitRepo
  const remote = join(yield* tempDir(), "remote.git")
  git(repo, "clone", "--quiet", "--bare", repo, remote)
  git(repo, "remote", "add", "origin", remote)
  git(repo, "fetch", "--quiet", "origin")
  const main = git(repo, "rev-parse", "refs/heads/main").trim()
  git(repo, "checkout", "--quiet", "-b", "agent")
  commitFile(repo, "payload.sh", "echo planted\n")
  const agent = git(repo, "rev-parse", "HEAD").trim()
  git(repo, "checkout", "--quiet", "main")
  git(repo, "update-ref", `refs/heads/${main}`, agent)
  git(repo, "update-ref", `refs/heads/${main.slice(0, 10)}`, agent)
  git(repo, "update-ref", "refs/heads/origin/main", agent)
  const services = yield* gitServices(join(yield* tempDir(), "home"))
  return { repo, main, agent, ...services }
})

const headOf = (path: string) => git(path, "rev-parse", "HEAD").trim()

describe("Worktrees with planted refs", () => {
  it.live(
    "start from main's real commit whether main is named, given by its id, abbreviated or as origin/main",
    () =>
      Effect.gen(function* () {
        const { repo, main, worktrees } = yield* planted
        for (const base of ["main", main, main.slice(0, 10), "origin/main", "refs/heads/main"]) {
          const created = yield* worktrees.create({ repo, projectKey: "p", base })
          assert.strictEqual(headOf(created.worktreePath), main, base)
          assert.strictEqual(git(repo, "rev-parse", `refs/heads/${created.branch}`).trim(), main, base)
          // Recorded so the thread's diff reads the same base again: a full id, a full ref as given.
          if (base === main.slice(0, 10)) assert.strictEqual(created.baseBranch, main)
          if (base === "refs/heads/main") assert.strictEqual(created.baseBranch, "refs/heads/main")
        }
        const fromRemote = yield* worktrees.create({ repo, projectKey: "p", base: "origin/main" })
        assert.strictEqual(fromRemote.baseBranch, "origin/main")
        assert.isTrue(fromRemote.warnings.some((w) => w.includes("refs/heads/origin/main")))
      })
  )

  it.live("give a branch made from a pool slot main's commit, not the planted ref's", () =>
    Effect.gen(function* () {
      const { repo, main, worktrees } = yield* planted
      const slot = join(yield* tempDir(), "slot")
      git(repo, "worktree", "add", "--quiet", "--detach", slot, "refs/heads/main")
      const plan = yield* worktrees.plan({ repo, projectKey: "p", base: "main", branch: "from-slot" })
      assert.strictEqual(plan.base.sha, main)
      const created = yield* worktrees.createPlanned({ ...plan, claimSlot: Effect.succeed(slot) })
      assert.strictEqual(git(repo, "rev-parse", "refs/heads/from-slot").trim(), main)
      assert.strictEqual(headOf(created.worktreePath), main)
      assert.strictEqual(git(created.worktreePath, "status", "--porcelain").trim(), "")
    })
  )

  it.live("refuse a base that names a branch and a tag at once, and take either by its full name", () =>
    Effect.gen(function* () {
      const { repo, main, agent, worktrees, repositories } = yield* planted
      git(repo, "tag", "v1", main)
      git(repo, "update-ref", "refs/heads/v1", agent)
      const error = yield* Effect.flip(worktrees.create({ repo, projectKey: "p", base: "v1" }))
      assert.strictEqual(error.reason, "ambiguous-base")
      assert.include(error.message, "refs/heads/v1")
      assert.include(error.message, "refs/tags/v1")
      assert.strictEqual((yield* repositories.resolveBase(repo, "refs/tags/v1")).sha, main)
      // A base starting with a remote's name that the remote does not have is not read as the local branch.
      git(repo, "update-ref", "refs/heads/origin/only-local", agent)
      const missing = yield* Effect.flip(repositories.resolveBase(repo, "origin/only-local"))
      assert.strictEqual(missing.reason, "base-not-found")
      assert.include(missing.message, "refs/heads/origin/only-local")
    })
  )

  it.live(
    "start from the default branch with no base given, even when a tag or remote ref shares its name",
    () =>
      Effect.gen(function* () {
        const { repo, main, agent, worktrees } = yield* planted
        // What an agent can do with plain git in its worktree: a tag and a remote-tracking ref named main.
        git(repo, "tag", "main", agent)
        git(repo, "update-ref", "refs/remotes/main", agent)
        const created = yield* worktrees.create({ repo, projectKey: "p" })
        assert.strictEqual(headOf(created.worktreePath), main)
        assert.strictEqual(created.baseBranch, "main")
      })
  )
})
