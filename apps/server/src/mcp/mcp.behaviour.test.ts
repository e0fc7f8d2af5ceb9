import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { git, serverActor, tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld, rawInitialize } from "../testing/mcp.ts"

const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length
const text = (result: unknown) => (result as { content: Array<{ text: string }> }).content[0]!.text

describe("MCP tokens and capabilities", () => {
  it.live(
    "no, bad, revoked or expired tokens get 401 with WWW-Authenticate; sessions stay with their token",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const none = yield* rawInitialize(world.url, {})
        assert.strictEqual(none.status, 401)
        assert.include(none.authenticate ?? "", "Bearer")
        assert.strictEqual(
          (yield* rawInitialize(world.url, { authorization: "Bearer spn_nope" })).status,
          401
        )
        const revoked = yield* world.issue()
        yield* world.providerTokens.revokeSession("session-parent")
        assert.strictEqual(
          (yield* rawInitialize(world.url, { authorization: `Bearer ${revoked}` })).status,
          401
        )
        const fresh = yield* world.issue()
        const opened = yield* rawInitialize(world.url, { authorization: `Bearer ${fresh}` })
        assert.strictEqual(opened.status, 200)
        const other = yield* world.issue("parent", ["thread-read"])
        const hijack = yield* rawInitialize(world.url, {
          authorization: `Bearer ${other}`,
          "mcp-session-id": opened.session!
        })
        assert.strictEqual(hijack.status, 403)
      })
  )

  it.live(
    "a token without thread-management gets a tool error naming the capability; reads are limited to children and itself",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const reader = yield* mcpClient(world.url, yield* world.issue("parent", ["thread-read"]))
        const refused = yield* callTool(reader, "t3_thread_start", { prompt: "go" })
        assert.isTrue(refused.isError)
        assert.include(text(refused), "thread-management")
        const writer = yield* mcpClient(world.url, world.token)
        const child = (yield* callTool(writer, "t3_thread_start", {
          prompt: "child",
          mode: "current_checkout"
        })).structuredContent as { threadId: string }
        const status = yield* callTool(reader, "t3_thread_status", { threadId: child.threadId })
        assert.strictEqual((status.structuredContent as { thread: { id: string } }).thread.id, child.threadId)
        const list = yield* callTool(reader, "t3_thread_list", {})
        assert.deepStrictEqual(
          (list.structuredContent as { threads: Array<{ id: string }> }).threads.map((t) => t.id),
          [child.threadId]
        )
        // Its own thread it may read (where its children's merge order is); its parent it may not.
        const own = yield* callTool(reader, "t3_thread_status", { threadId: "parent" })
        assert.strictEqual((own.structuredContent as { thread: { id: string } }).thread.id, "parent")
        const childReader = yield* mcpClient(world.url, yield* world.issue(child.threadId, ["thread-read"]))
        const notMine = yield* callTool(childReader, "t3_thread_status", { threadId: "parent" })
        assert.isTrue(notMine.isError)
        assert.include(text(notMine), "forbidden")
        const noRead = yield* mcpClient(world.url, yield* world.issue("parent", ["thread-management"]))
        assert.include(text(yield* callTool(noRead, "t3_thread_list", {})), "thread-read")
      })
  )
})

describe("MCP t3_thread_start modes and retries", () => {
  it.live("an agent's child runs setup only in a new worktree from the default branch", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({ setupScript: 'echo ran > "$SPINDLE_WORKTREE_PATH/setup-ran"' })
      const client = yield* mcpClient(world.url, world.token)
      const path = join(yield* tempDir(), "feature")
      git(world.repo, "worktree", "add", "--quiet", "-b", "feature", path)
      // A checkout the agent may have written: asking for setup there is refused, by field.
      const asked = yield* callTool(client, "t3_thread_start", {
        prompt: "in the feature worktree",
        mode: "existing_worktree",
        worktreePath: path,
        runSetupScript: true
      })
      assert.isTrue(asked.isError)
      assert.include(text(asked), "runSetupScript")
      // From the agent's own branch: set up by default elsewhere, here skipped with a warning.
      const fromBranch = (yield* callTool(client, "t3_thread_start", {
        prompt: "from feature",
        baseBranch: "feature"
      })).structuredContent as Record<string, any>
      assert.strictEqual(fromBranch.setup.status, "not-requested")
      assert.isTrue((fromBranch.warnings as Array<string>).some((w) => w.includes("Setup was not run")))
      assert.isFalse(existsSync(join(fromBranch.worktreePath, "setup-ran")))
      // From the default branch it runs.
      const fresh = (yield* callTool(client, "t3_thread_start", { prompt: "fresh" }))
        .structuredContent as Record<string, any>
      yield* Effect.sync(() => existsSync(join(fresh.worktreePath, "setup-ran"))).pipe(
        Effect.repeat({ until: (done) => done, schedule: Schedule.spaced("20 millis") }),
        Effect.timeout("10 seconds")
      )
      assert.strictEqual(readFileSync(join(fresh.worktreePath, "setup-ran"), "utf8"), "ran\n")
      const here = (yield* callTool(client, "t3_thread_start", { prompt: "here", mode: "current_checkout" }))
        .structuredContent as Record<string, any>
      assert.strictEqual(here.worktreePath, world.repo)
      assert.isTrue(
        (here.warnings as Array<string>).some((w) => w.includes("concurrent writes may conflict"))
      )
    })
  )

  it.live("20 concurrent retries with one clientRequestId make one thread", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () =>
          callTool(client, "t3_thread_start", { prompt: "once", clientRequestId: "req-1" })
        ),
        { concurrency: "unbounded" }
      )
      const ids = new Set(results.map((r) => (r.structuredContent as { threadId: string }).threadId))
      assert.strictEqual(ids.size, 1)
      assert.strictEqual(worktreeCount(world.repo), 2)
      const snapshot = yield* world.engine.snapshot
      assert.strictEqual(snapshot.threads.filter((t) => t.parentThreadId === "parent").length, 1)
    })
  )

  it.live("a thread cannot start a child with more autonomy than its own", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const careful = (yield* callTool(client, "t3_thread_start", {
        prompt: "careful",
        mode: "current_checkout",
        runtimeMode: "approval-required"
      })).structuredContent as { threadId: string }
      const child = yield* mcpClient(world.url, yield* world.issue(careful.threadId))
      const escalate = yield* callTool(child, "t3_thread_start", {
        prompt: "x",
        mode: "current_checkout",
        runtimeMode: "full-access"
      })
      assert.isTrue(escalate.isError)
      assert.include(text(escalate), "approval-required")
      const inherited = (yield* callTool(child, "t3_thread_start", { prompt: "y", mode: "current_checkout" }))
        .structuredContent as { threadId: ThreadId }
      assert.strictEqual(
        (yield* world.engine.getThread(inherited.threadId))?.runtimeMode,
        "approval-required"
      )
    })
  )

  it.live("a token whose thread has ended gets 401, even before any revocation", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      yield* world.commands.dispatch(
        { type: "thread.create", commandId: "c-gone", threadId: "gone", projectId: "p1", title: "gone" },
        serverActor
      )
      // A token from before the archive: once it is refused, the revoker (it acts on archive
      // events, in the background, and at start) has handled the archive.
      const before = yield* world.issue("gone")
      yield* world.commands.dispatch(
        { type: "thread.archive", commandId: "a-gone", threadId: "gone" },
        serverActor
      )
      yield* rawInitialize(world.url, { authorization: `Bearer ${before}` }).pipe(
        Effect.repeat({ until: (r) => r.status === 401, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("10 seconds")
      )
      // Issued past the revoker, straight from the store.
      const stale = yield* world.issue("gone")
      const refused = yield* rawInitialize(world.url, { authorization: `Bearer ${stale}` })
      assert.strictEqual(refused.status, 401)
      assert.include(refused.body, "has ended")
      assert.strictEqual(
        (yield* rawInitialize(world.url, { authorization: `Bearer ${world.token}` })).status,
        200
      )
    })
  )

  it.live("a plan thread's children plan too; asking for more is refused", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const planner = (yield* callTool(client, "t3_thread_start", {
        prompt: "plan it",
        mode: "current_checkout",
        interactionMode: "plan"
      })).structuredContent as { threadId: ThreadId }
      const child = yield* mcpClient(world.url, yield* world.issue(planner.threadId))
      const widen = yield* callTool(child, "t3_thread_start", {
        prompt: "do it",
        mode: "current_checkout",
        interactionMode: "default"
      })
      assert.isTrue(widen.isError)
      assert.include(text(widen), "plan mode")
      const inherited = (yield* callTool(child, "t3_thread_start", {
        prompt: "sub-plan",
        mode: "current_checkout"
      })).structuredContent as { threadId: ThreadId }
      assert.strictEqual((yield* world.engine.getThread(inherited.threadId))?.interactionMode, "plan")
    })
  )

  it.live(
    "14 concurrent starts against a limit of 8 children: 8 start, 6 are queued (refused with queue: false)",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const clients = yield* Effect.forEach([1, 2, 3, 4], () => mcpClient(world.url, world.token))
        const burst = (queue?: boolean) =>
          Effect.forEach(
            Array.from({ length: 14 }, (_, i) => i),
            (i) =>
              callTool(clients[i % clients.length]!, "t3_thread_start", {
                prompt: `child ${i}${queue === false ? " (no queue)" : ""}`,
                mode: "current_checkout",
                ...(queue === undefined ? {} : { queue })
              }),
            { concurrency: "unbounded" }
          )
        const results = yield* burst()
        assert.isTrue(results.every((r) => r.isError !== true))
        const outputs = results.map(
          (r) => r.structuredContent as { turn: { status: string }; queue?: unknown }
        )
        assert.strictEqual(outputs.filter((o) => o.turn.status !== "queued").length, 8)
        const queued = results.filter(
          (r) => (r.structuredContent as { turn: { status: string } }).turn.status === "queued"
        )
        assert.strictEqual(queued.length, 6)
        for (const r of queued)
          assert.match(
            text(r),
            /queued: \d+(st|nd|rd|th), waiting for a child slot under thread parent \(8 of 8 in use\)/
          )
        const snapshot = yield* world.engine.snapshot
        const children = snapshot.threads.filter((t) => t.parentThreadId === "parent")
        assert.strictEqual(children.filter((t) => t.status === "active").length, 8)
        assert.deepStrictEqual(
          children
            .filter((t) => t.status === "queued")
            .map((t) => t.queue?.position)
            .sort(),
          [1, 2, 3, 4, 5, 6]
        )
        // queue: false refuses instead, and makes nothing.
        const refused = yield* burst(false)
        assert.isTrue(refused.every((r) => r.isError === true))
        for (const r of refused) assert.include(text(r), "limit is 8")
        assert.strictEqual(
          (yield* world.engine.snapshot).threads.filter((t) => t.parentThreadId === "parent").length,
          14
        )
      })
  )

  it.live(
    "answers capacity past the depth limit, and past the children limit with queue: false (else queues)",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld({
          settings: {
            limits: {
              bootstrapsPerProject: 16,
              activeThreadsPerProject: 200,
              spawnDepth: 1,
              childrenPerThread: 2,
              runningTurns: Number.POSITIVE_INFINITY,
              wakesPerHour: 20
            }
          }
        })
        const client = yield* mcpClient(world.url, world.token)
        const first = (yield* callTool(client, "t3_thread_start", {
          prompt: "one",
          mode: "current_checkout"
        })).structuredContent as { threadId: string }
        yield* callTool(client, "t3_thread_start", { prompt: "two", mode: "current_checkout" })
        const third = yield* callTool(client, "t3_thread_start", {
          prompt: "three",
          mode: "current_checkout",
          queue: false
        })
        assert.isTrue(third.isError)
        assert.include(text(third), "capacity")
        const queued = yield* callTool(client, "t3_thread_start", {
          prompt: "three",
          mode: "current_checkout"
        })
        assert.isNotTrue(queued.isError)
        assert.deepStrictEqual(
          (queued.structuredContent as { queue: { waitsFor: unknown } }).queue.waitsFor,
          {
            kind: "children",
            limit: 2
          }
        )
        const childClient = yield* mcpClient(world.url, yield* world.issue(first.threadId))
        const grandchild = yield* callTool(childClient, "t3_thread_start", {
          prompt: "deeper",
          mode: "current_checkout"
        })
        assert.isTrue(grandchild.isError)
        assert.include(text(grandchild), "nested 1 deep")
      })
  )

  it.live("bad input is a clear error and leaves nothing on disk", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const outside = yield* tempDir()
      const attempt = (args: Record<string, unknown>) =>
        Effect.promise(() =>
          client.callTool({ name: "t3_thread_start", arguments: args }).then(
            (result) => ({ kind: "result" as const, isError: result.isError === true, text: text(result) }),
            (error: Error) => ({ kind: "rpc-error" as const, isError: true, text: error.message })
          )
        )
      const cases: Array<[Record<string, unknown>, string]> = [
        [{ prompt: "x".repeat(120_001) }, "120000"],
        [{ prompt: "   " }, "prompt"],
        [{ prompt: "go", tags: "a,b" }, "JSON array"],
        [{ prompt: "go", mode: "existing_worktree", worktreePath: outside }, "not a worktree"],
        [{ prompt: "go", branch: "--upload-pack=x" }, "branch"],
        [{ prompt: "go", mode: "existing_worktree" }, "worktreePath"],
        [{ prompt: "go", projectId: "elsewhere" }, "projectId"]
      ]
      for (const [args, expected] of cases) {
        const outcome = yield* attempt(args)
        assert.isTrue(outcome.isError, JSON.stringify(args).slice(0, 80))
        assert.include(outcome.text, expected, JSON.stringify(args).slice(0, 80))
      }
      assert.strictEqual(worktreeCount(world.repo), 1)
      assert.strictEqual((yield* world.engine.snapshot).threads.length, 1)
      // A failure after the thread exists names it and the stage it failed at.
      writeFileSync(join(world.repo, ".git", "refs", "heads", "locked.lock"), "")
      const failed = yield* attempt({ prompt: "go", branch: "locked" })
      assert.isTrue(failed.isError)
      const body = JSON.parse(failed.text) as { stage?: string; threadId?: string; message: string }
      assert.strictEqual(body.stage, "workspace")
      assert.isString(body.threadId)
      assert.strictEqual(worktreeCount(world.repo), 1)
    })
  )

  it.live("branches from the calling thread's branch with baseBranchSource: source", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      git(world.repo, "checkout", "--quiet", "-b", "topic")
      commitFileIn(world.repo)
      // The parent thread works in the project checkout, now on `topic`.
      const onTopic = (yield* callTool(client, "t3_thread_start", { prompt: "p", mode: "current_checkout" }))
        .structuredContent as { branch: string; threadId: string }
      assert.strictEqual(onTopic.branch, "topic")
      // That thread's own agent starts children: by default from main, or from its branch.
      const child = yield* mcpClient(world.url, yield* world.issue(onTopic.threadId))
      const fromDefault = (yield* callTool(child, "t3_thread_start", { prompt: "a" }))
        .structuredContent as Record<string, any>
      assert.strictEqual(fromDefault.baseBranch, "main")
      assert.isFalse(existsSync(join(fromDefault.worktreePath, "topic.txt")))
      const fromSource = (yield* callTool(child, "t3_thread_start", {
        prompt: "b",
        baseBranchSource: "source"
      })).structuredContent as Record<string, any>
      assert.strictEqual(fromSource.baseBranch, "topic")
      assert.isTrue(existsSync(join(fromSource.worktreePath, "topic.txt")))
    })
  )
})

const commitFileIn = (repo: string) => {
  writeFileSync(join(repo, "topic.txt"), "on topic\n")
  git(repo, "add", "topic.txt")
  git(repo, "commit", "--quiet", "-m", "topic work")
}

describe("MCP while the server starts", () => {
  it.live("tools/list answers at once; tools/call waits in the gate and runs after ready", () =>
    Effect.gen(function* () {
      const hold = join(yield* tempDir(), "release-startup")
      process.env.SPINDLE_TEST_HOLD_STARTUP = hold
      yield* Effect.addFinalizer(() => Effect.sync(() => delete process.env.SPINDLE_TEST_HOLD_STARTUP))
      const world = yield* mcpWorld({ waitReady: false })
      assert.strictEqual((yield* world.gate.state).status, "starting")
      const client = yield* mcpClient(world.url, world.token)
      const { tools } = yield* Effect.promise(() => client.listTools())
      assert.strictEqual(tools.length, 8)
      const call = yield* Effect.forkChild(
        callTool(client, "t3_thread_start", { prompt: "after ready", mode: "current_checkout" })
      )
      yield* world.gate.waiting.pipe(
        Effect.repeat({ until: (n) => n === 1, schedule: Schedule.spaced("10 millis") }),
        Effect.timeout("10 seconds")
      )
      assert.strictEqual((yield* world.engine.snapshot).threads.length, 1)
      writeFileSync(hold, "")
      const result = yield* Fiber.join(call)
      assert.isUndefined(result.isError)
      const child = (result.structuredContent as { threadId: ThreadId }).threadId
      assert.strictEqual((yield* world.engine.getThread(child))?.parentThreadId, "parent")
    })
  )
})
