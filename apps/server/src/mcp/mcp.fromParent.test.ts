// t3_thread_start with baseBranchSource 'parent', through the SDK's real client against the real
// server: the child's branch starts at the calling thread's HEAD, with includeUncommitted at one
// commit of its uncommitted changes (tracked and untracked, not ignored); the first prompt says
// so in one line; the parent's worktree stays byte for byte (files, real index, status); refusals
// name the field and change nothing.
import { existsSync, readFileSync, truncateSync, unlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { MAX_SNAPSHOT_FILE_BYTES } from "../git/worktreeSnapshot.ts"
import { commitFile, git } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { eventsUntil } from "../testing/providers.ts"
import { worktreePrint } from "../testing/worktreePrint.ts"

const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text

interface Started {
  readonly threadId: ThreadId
  readonly worktreePath: string
  readonly branch: string
  readonly baseBranch: string
  readonly setup: { readonly status: string }
  readonly warnings: ReadonlyArray<string>
}

const started = (result: object) => {
  const { isError, structuredContent } = result as { isError?: unknown; structuredContent?: unknown }
  assert.isUndefined(isError, text(result))
  return structuredContent as Started
}

/** The first prompt the thread's agent is given. */
const firstPrompt = (engine: Parameters<typeof eventsUntil>[0], threadId: string) =>
  Effect.map(
    eventsUntil(engine, threadId, (e) => e.type === "thread.turn-start-requested"),
    (events) => {
      const last = events.at(-1)
      return last?.type === "thread.turn-start-requested" ? last.payload.prompt : undefined
    }
  )

const state = (repo: string) => ({
  refs: git(repo, "for-each-ref", "--format=%(refname) %(objectname)"),
  worktrees: git(repo, "worktree", "list", "--porcelain"),
  objects: git(repo, "count-objects", "-v")
})

/** A world whose parent thread has a worktree of its own with work of every kind in it. */
const parentAtWork = Effect.gen(function* () {
  const world = yield* mcpWorld()
  commitFile(world.repo, ".gitignore", "*.log\n")
  const root = yield* mcpClient(world.url, world.token)
  const parent = started(yield* callTool(root, "t3_thread_start", { prompt: "parent work" }))
  const wt = parent.worktreePath
  commitFile(wt, "committed.txt", "committed by the parent\n")
  writeFileSync(join(wt, "README.md"), "# edited, not committed\n")
  writeFileSync(join(wt, "untracked.txt"), "new, not committed\n")
  writeFileSync(join(wt, "debug.log"), "ignored\n")
  const agent = yield* mcpClient(world.url, yield* world.issue(parent.threadId))
  return { world, parent, wt, agent, head: git(wt, "rev-parse", "HEAD").trim() }
})

describe("t3_thread_start from the parent's present", () => {
  it.live(
    "baseBranchSource parent: HEAD, and with includeUncommitted its uncommitted changes; the parent's worktree unchanged",
    () =>
      Effect.gen(function* () {
        const { world, parent, wt, agent, head } = yield* parentAtWork
        const before = worktreePrint(wt)

        const child = started(
          yield* callTool(agent, "t3_thread_start", {
            prompt: "carry on",
            baseBranchSource: "parent",
            includeUncommitted: true
          })
        )
        assert.deepStrictEqual(worktreePrint(wt), before)
        const start = git(child.worktreePath, "rev-parse", "HEAD").trim()
        assert.notStrictEqual(start, head)
        assert.strictEqual(git(wt, "rev-parse", `${start}^`).trim(), head)
        assert.strictEqual(git(wt, "log", "-1", "--format=%an", start).trim(), "Spindle")
        assert.strictEqual(child.baseBranch, start)
        const read = (name: string) => readFileSync(join(child.worktreePath, name), "utf8")
        assert.strictEqual(read("committed.txt"), "committed by the parent\n")
        assert.strictEqual(read("README.md"), "# edited, not committed\n")
        assert.strictEqual(read("untracked.txt"), "new, not committed\n")
        assert.isFalse(existsSync(join(child.worktreePath, "debug.log")))
        // Its own branch, clean: the parent's changes are its start, not its own work.
        assert.strictEqual(git(child.worktreePath, "status", "--porcelain"), "")
        assert.strictEqual(git(wt, "rev-parse", `refs/heads/${child.branch}`).trim(), start)
        // Files an agent wrote: setup is not run on them.
        assert.strictEqual(child.setup.status, "not-requested")
        assert.isTrue(child.warnings.some((w) => w.includes("Setup was not run")))
        assert.strictEqual(
          yield* firstPrompt(world.engine, child.threadId),
          `You start from thread ${parent.threadId}'s HEAD ${head.slice(0, 12)} plus its uncommitted changes (commit ${start.slice(0, 12)}).\n\ncarry on`
        )
        const childThread = yield* world.engine.getThread(child.threadId)
        assert.strictEqual(childThread?.title, "carry on")
        assert.strictEqual(childThread?.parentThreadId, parent.threadId)

        // Without includeUncommitted: the parent's HEAD alone.
        const plain = started(
          yield* callTool(agent, "t3_thread_start", { prompt: "from HEAD", baseBranchSource: "parent" })
        )
        assert.strictEqual(git(plain.worktreePath, "rev-parse", "HEAD").trim(), head)
        assert.strictEqual(plain.baseBranch, head)
        assert.strictEqual(
          readFileSync(join(plain.worktreePath, "committed.txt"), "utf8"),
          "committed by the parent\n"
        )
        assert.strictEqual(readFileSync(join(plain.worktreePath, "README.md"), "utf8"), "# test repository\n")
        assert.isFalse(existsSync(join(plain.worktreePath, "untracked.txt")))
        assert.strictEqual(
          yield* firstPrompt(world.engine, plain.threadId),
          `You start from thread ${parent.threadId}'s HEAD ${head.slice(0, 12)}, without its uncommitted changes.\n\nfrom HEAD`
        )
        assert.deepStrictEqual(worktreePrint(wt), before)
      })
  )

  it.live("refusals name the field and change nothing: no thread, worktree, ref or object", () =>
    Effect.gen(function* () {
      const { world, parent, wt, agent } = yield* parentAtWork
      const before = worktreePrint(wt)
      const repoBefore = state(world.repo)
      const threads = (yield* world.engine.snapshot).threads.length
      const cases: ReadonlyArray<[Record<string, unknown>, string]> = [
        [{ includeUncommitted: true }, "includeUncommitted"],
        [{ baseBranchSource: "source", includeUncommitted: true }, "includeUncommitted"],
        [{ baseBranchSource: "parent", baseBranch: "main" }, "baseBranchSource"],
        [{ baseBranchSource: "parent", pr: 3 }, "baseBranchSource"],
        [{ mode: "current_checkout", includeUncommitted: true }, "includeUncommitted"],
        [{ mode: "current_checkout", baseBranchSource: "parent" }, "baseBranchSource"],
        [{ baseBranchSource: "parent", includeUncommitted: true, runSetupScript: true }, "runSetupScript"]
      ]
      for (const [args, field] of cases) {
        const refused = yield* callTool(agent, "t3_thread_start", { prompt: "go", ...args })
        assert.isTrue(refused.isError, JSON.stringify(args))
        const error = JSON.parse(text(refused)) as { field?: string }
        assert.strictEqual(error.field, field, JSON.stringify(args))
      }
      // A file too large to take: refused by the field that asked for it, before any object.
      const huge = join(wt, "huge.bin")
      writeFileSync(huge, "")
      truncateSync(huge, MAX_SNAPSHOT_FILE_BYTES + 1)
      const tooLarge = yield* callTool(agent, "t3_thread_start", {
        prompt: "go",
        baseBranchSource: "parent",
        includeUncommitted: true
      })
      unlinkSync(huge)
      assert.isTrue(tooLarge.isError)
      assert.deepInclude(JSON.parse(text(tooLarge)), { error: "validation", field: "includeUncommitted" })
      assert.include(text(tooLarge), "huge.bin")

      // Below the tool, the bootstrap itself: an agent's thread starts only from its own present.
      const other = yield* world.commands
        .dispatch(
          {
            type: "thread.turn.start",
            commandId: "from-another",
            threadId: "t-from-another",
            prompt: "go",
            bootstrap: {
              createThread: { projectId: "p1" },
              workspace: { mode: "new_worktree", fromThread: "parent" }
            }
          },
          { kind: "provider-session", sessionId: `session-${parent.threadId}` },
          { parent: { threadId: parent.threadId, worktreePath: wt } }
        )
        .pipe(Effect.flip)
      assert.strictEqual(other.reason, "forbidden")
      assert.strictEqual(other.field, "bootstrap.workspace.fromThread")

      assert.deepStrictEqual(worktreePrint(wt), before)
      assert.deepStrictEqual(state(world.repo), repoBefore)
      assert.strictEqual((yield* world.engine.snapshot).threads.length, threads)
    })
  )
})
