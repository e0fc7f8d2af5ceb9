// Worktrees from pull requests: `pr` fetches refs/pull/<n>/head from the project's origin (here a
// local bare repository with such refs) and checks it out on a branch of its own; a missing remote,
// an unknown pull request and a bad combination are clear errors that leave nothing behind.
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { bootstrapWorld } from "../testing/bootstrap.ts"
import { commitFile, git, tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"

const branches = (repo: string) => git(repo, "branch", "--format=%(refname:short)").trim().split("\n").sort()
const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\n\n").filter(Boolean).length

/** A bare origin whose refs/pull/7/head is a commit main does not have. */
const withOrigin = (repo: string) =>
  Effect.gen(function* () {
    const origin = join(yield* tempDir("spindle-origin-"), "origin.git")
    git(repo, "clone", "--quiet", "--bare", repo, origin)
    git(repo, "remote", "add", "origin", origin)
    git(repo, "switch", "--quiet", "-c", "feature")
    commitFile(repo, "feature.txt", "from the pull request\n")
    const head = git(repo, "rev-parse", "HEAD").trim()
    git(repo, "push", "--quiet", "origin", "HEAD:refs/pull/7/head")
    git(repo, "switch", "--quiet", "main")
    git(repo, "branch", "--quiet", "-D", "feature")
    return head
  })

describe("worktrees from pull requests", () => {
  it.live("pr checks out the pull request's head in a new worktree on a branch of its own", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const head = yield* withOrigin(world.repo)
      const result = yield* world.bootstrap("t1", { workspace: { pr: 7 } })
      assert.match(result.branch ?? "", /^spindle\/pr-7-[0-9a-f]{8}$/)
      assert.strictEqual(git(result.worktreePath, "rev-parse", "HEAD").trim(), head)
      assert.strictEqual(result.baseBranch, head)
      const thread = (yield* world.engine.getThread("t1" as ThreadId))!
      assert.strictEqual(thread.workspace.baseBranch, head)
    })
  )

  it.live("an unknown pull request, or no origin, is a git error that leaves nothing behind", () =>
    Effect.gen(function* () {
      const world = yield* bootstrapWorld()
      const before = branches(world.repo)
      const noOrigin = yield* Effect.flip(world.bootstrap("t0", { workspace: { pr: 7 } }))
      assert.strictEqual(noOrigin.reason, "git")
      assert.include(noOrigin.message, "no remote 'origin'")
      assert.strictEqual(noOrigin.field, "bootstrap.workspace.pr")
      yield* withOrigin(world.repo)
      const unknown = yield* Effect.flip(world.bootstrap("t1", { workspace: { pr: 99 } }))
      assert.strictEqual(unknown.reason, "git")
      assert.include(unknown.message, "Pull request #99 was not found on origin")
      assert.deepStrictEqual(branches(world.repo), before)
      assert.strictEqual(worktreeCount(world.repo), 1)
      assert.isUndefined(yield* world.engine.getThread("t1" as ThreadId))
    })
  )

  it.live(
    "pr with branch or baseBranch, or outside new_worktree, is refused by the schema, naming the field",
    () =>
      Effect.gen(function* () {
        const world = yield* bootstrapWorld()
        const both = yield* Effect.flip(world.bootstrap("t1", { workspace: { pr: 7, branch: "mine" } }))
        assert.strictEqual(both.reason, "validation")
        assert.strictEqual(both.field, "bootstrap.workspace.branch")
        assert.include(both.message, "Give either branch or pr")
        const base = yield* Effect.flip(world.bootstrap("t2", { workspace: { pr: 7, baseBranch: "main" } }))
        assert.strictEqual(base.field, "bootstrap.workspace.baseBranch")
        const mode = yield* Effect.flip(
          world.bootstrap("t3", { workspace: { mode: "current_checkout", pr: 7 } })
        )
        assert.strictEqual(mode.field, "bootstrap.workspace.pr")
        const zero = yield* Effect.flip(world.bootstrap("t4", { workspace: { pr: 0 } }))
        assert.strictEqual(zero.field, "bootstrap.workspace.pr")
      })
  )

  it.live(
    "an agent starts a child on a pull request over MCP; with branch too it gets a validation error naming branch",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const head = yield* withOrigin(world.repo)
        const client = yield* mcpClient(world.url, world.token)
        const started = (yield* callTool(client, "t3_thread_start", { prompt: "review it", pr: 7 }))
          .structuredContent as {
          worktreePath: string
        }
        assert.strictEqual(git(started.worktreePath, "rev-parse", "HEAD").trim(), head)
        const both = yield* callTool(client, "t3_thread_start", { prompt: "review it", pr: 7, branch: "x" })
        assert.isTrue(both.isError)
        assert.include(JSON.stringify(both.content), '\\"field\\":\\"branch\\"')
      })
  )
})
