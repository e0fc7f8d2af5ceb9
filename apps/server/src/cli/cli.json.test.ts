// One JSON shape per thing, through the real bin against a real server: a thread printed by
// thread start, show, list, wait and follow is the contracts' Thread (decoded with excess keys
// refused); --follow --json is NDJSON ending with the thread; a failed setup exits 1 with and
// without --follow; a refused --follow ends at once; the list table, status, path, open, logs;
// t3_thread_status's thread is that same Thread, equal to what `thread show --json` prints.
import { realpathSync } from "node:fs"
import { resolve } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { Thread, ThreadStatusOutput } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import { gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { runProcess } from "../testing/serverProcess.ts"

const BIN = resolve(import.meta.dirname, "../../bin/spindle.mjs")
const spindle = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  runProcess(process.execPath, [BIN, ...args], { env, timeout: "60 seconds" })

const decodeThread = Schema.decodeUnknownSync(Thread)
/** The one schema: every key of the output is a Thread key, and every Thread key is there. */
const asThread = (value: unknown) => {
  decodeThread(value, { onExcessProperty: "error" })
  assert.deepStrictEqual(Object.keys(value as object).sort(), Object.keys(Thread.fields).sort())
  return value as Thread
}

describe("spindle CLI JSON and threads", () => {
  it.live(
    "start, show, list, wait and follow print the same Thread; follow --json is NDJSON; logs --json one line per element",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const env = { SPINDLE_HOME: server.home }
        const added = yield* spindle(
          ["project", "add", repo, "--id", "demo", "--setup-script", "echo one; echo two"],
          env
        )
        assert.strictEqual(added.code, 0, added.stderr)

        const started = yield* spindle(
          ["--json", "thread", "start", "--project", "demo", "--prompt", "x", "--thread-id", "t1"],
          env
        )
        assert.strictEqual(started.code, 0, started.stderr)
        const fromStart = asThread(JSON.parse(started.stdout))
        assert.strictEqual(fromStart.id, "t1")
        const shown = yield* spindle(["thread", "show", "t1", "--json"], env)
        const fromShow = asThread(JSON.parse(shown.stdout))
        // (The conflict radar counts the new worktree's changes on its own time: not compared.)
        assert.deepStrictEqual(
          { ...fromShow, updatedAt: "", changes: null },
          { ...fromStart, updatedAt: "", changes: null }
        )
        const waited = yield* spindle(["thread", "wait", "t1", "--for", "setup-completed", "--json"], env)
        assert.strictEqual(waited.code, 0, waited.stderr)
        const fromWait = asThread(JSON.parse(waited.stdout).threads[0])
        assert.strictEqual(fromWait.setup.status, "succeeded")

        const followed = yield* spindle(
          [
            "thread",
            "start",
            "--project",
            "demo",
            "--prompt",
            "y",
            "--thread-id",
            "t2",
            "--follow",
            "--json"
          ],
          env
        )
        assert.strictEqual(followed.code, 0, followed.stderr)
        const lines = followed.stdout.trimEnd().split("\n")
        const parsed = lines.map((line) => JSON.parse(line) as { type?: string; line?: string })
        const last = asThread(parsed.at(-1))
        assert.strictEqual(last.id, "t2")
        const events = parsed.slice(0, -1)
        assert.isTrue(events.every((e) => typeof e.type === "string"))
        const types = events.map((e) => e.type)
        assert.include(types, "thread.created")
        assert.include(types, "thread.setup-started")
        assert.include(types, "thread.turn-start-requested")
        assert.deepStrictEqual(
          events
            .filter((e) => e.type === "setup.output")
            .flatMap((e) => (e.line === undefined ? [] : [e.line])),
          ["one", "two"]
        )

        const listed = yield* spindle(["thread", "list", "--json"], env)
        const threads = (JSON.parse(listed.stdout) as Array<unknown>).map(asThread)
        assert.deepStrictEqual(
          threads.map((t) => t.id),
          ["t2", "t1"]
        )

        const logs = yield* spindle(["thread", "logs", "t1", "--json"], env)
        assert.strictEqual(logs.code, 0, logs.stderr)
        assert.deepStrictEqual(
          logs.stdout
            .trimEnd()
            .split("\n")
            .map((line) => (JSON.parse(line) as { line: string }).line),
          ["one", "two"]
        )

        // The table: one row per thread, newest first, and the filters.
        const table = yield* spindle(["thread", "list"], env)
        const rows = table.stdout.trimEnd().split("\n")
        assert.match(rows[0]!, /^ID +PROJECT +STATE +BRANCH +AGE +PARENT$/)
        assert.strictEqual(rows.length, 3)
        assert.match(rows[1]!, /^t2 +demo +requested +spindle\/\S+ +\d+[smhd] +-$/)
        assert.strictEqual(
          (yield* spindle(["thread", "list", "--limit", "1"], env)).stdout.split("\n").length,
          3
        )
        assert.include((yield* spindle(["thread", "list", "--state", "archived"], env)).stdout, "No threads")
        assert.include((yield* spindle(["thread", "list", "--project", "other"], env)).stdout, "No threads")
        assert.include((yield* spindle(["thread", "list", "--parent", "t1"], env)).stdout, "No threads")

        const path = yield* spindle(["thread", "path", "t1"], env)
        assert.strictEqual(path.stdout, `${fromStart.workspace.worktreePath}\n`)
        const opened = yield* spindle(["thread", "open", "t1"], {
          ...env,
          VISUAL: "",
          EDITOR: "echo opening"
        })
        assert.strictEqual(opened.code, 0, opened.stderr)
        assert.strictEqual(opened.stdout, `opening ${fromStart.workspace.worktreePath}\n`)
        // No editor named (empty, or only spaces): the path, never the path run as a command.
        const noEditor = yield* spindle(["thread", "open", "t1"], { ...env, VISUAL: "", EDITOR: " " })
        assert.strictEqual(noEditor.code, 0, noEditor.stderr)
        assert.strictEqual(noEditor.stdout, `${fromStart.workspace.worktreePath}\n`)
        assert.strictEqual(realpathSync(fromStart.workspace.worktreePath!), fromStart.workspace.worktreePath)

        const status = yield* spindle(["status", "--json"], env)
        assert.strictEqual(status.code, 0, status.stderr)
        const s = JSON.parse(status.stdout)
        assert.strictEqual(s.url, server.url)
        assert.strictEqual(s.status, "ready")
        assert.strictEqual(s.version, "0.1.0")
        assert.deepStrictEqual(s.threads, { total: 2, byState: { requested: 2 } })
        assert.include((yield* spindle(["status"], env)).stdout, `ready at ${server.url}`)
      }),
    120_000
  )

  it.live("a failed setup exits 1 with and without --follow; a refused --follow ends at once", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const repo = yield* gitRepo
      const env = { SPINDLE_HOME: server.home }
      yield* spindle(["project", "add", repo, "--id", "bad", "--setup-script", "echo broken; exit 3"], env)
      const plain = yield* spindle(["thread", "start", "--project", "bad", "--prompt", "x"], env)
      assert.strictEqual(plain.code, 1, plain.stdout)
      assert.include(plain.stderr, "setup failed")
      assert.include(plain.stderr, "spindle setup rerun")
      const followed = yield* spindle(
        ["thread", "start", "--project", "bad", "--prompt", "x", "--follow"],
        env
      )
      assert.strictEqual(followed.code, 1)
      assert.include(followed.stdout, "│ broken")
      assert.include(followed.stderr, "setup rerun")
      const json = yield* spindle(["thread", "start", "--project", "bad", "--prompt", "x", "--json"], env)
      assert.strictEqual(json.code, 1)
      const error = JSON.parse(json.stdout).error
      assert.strictEqual(error.reason, "setup-failed")
      assert.isString(error.threadId)
      assert.strictEqual(
        (
          JSON.parse(
            (yield* spindle(["thread", "list", "--json", "--state", "setup-failed"], env)).stdout
          ) as Array<unknown>
        ).length,
        3
      )

      const t0 = Date.now()
      const refused = yield* spindle(
        ["thread", "start", "--project", "nope", "--prompt", "x", "--follow"],
        env
      )
      assert.strictEqual(refused.code, 1)
      assert.include(refused.stderr, "nope")
      assert.isBelow(Date.now() - t0, 10_000)
      const refusedJson = yield* spindle(
        ["thread", "start", "--project", "nope", "--prompt", "x", "--json"],
        env
      )
      assert.strictEqual(refusedJson.code, 1)
      assert.strictEqual(JSON.parse(refusedJson.stdout).error.reason, "not-found")
    })
  )

  it.live("t3_thread_status carries the same Thread as thread show --json", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld({ setupScript: "echo set up" })
      const client = yield* mcpClient(world.url, world.token)
      // Listing the tools first makes the SDK client check each result against its outputSchema.
      yield* Effect.promise(() => client.listTools())
      const started = yield* callTool(client, "t3_thread_start", { prompt: "child", title: "child" })
      assert.isUndefined(started.isError, JSON.stringify(started.content))
      const childId = (started.structuredContent as { threadId: string }).threadId
      const waited = yield* callTool(client, "t3_thread_wait", {
        threadIds: [childId],
        for: "setup-completed",
        timeoutSeconds: 30
      })
      assert.isTrue((waited.structuredContent as { done: boolean }).done)
      asThread((waited.structuredContent as { threads: Array<unknown> }).threads[0])

      // The conflict radar counts the child's changes on its own time: compare once it has.
      const counted = callTool(client, "t3_thread_status", { threadId: childId }).pipe(
        Effect.repeat({
          until: (answer) =>
            (answer.structuredContent as { thread?: { changes?: unknown } } | undefined)?.thread?.changes !==
            null,
          schedule: Schedule.spaced("100 millis"),
          times: 100
        })
      )
      const status = yield* counted
      assert.isUndefined(status.isError, JSON.stringify(status.content))
      const decoded = Schema.decodeUnknownSync(ThreadStatusOutput)(status.structuredContent, {
        onExcessProperty: "error"
      })
      assert.strictEqual(decoded.output.diff?.commitsAhead, 0)
      const fromMcp = asThread((status.structuredContent as { thread: unknown }).thread)
      assert.strictEqual(fromMcp.id, childId)
      assert.strictEqual(fromMcp.parentThreadId, "parent")
      assert.strictEqual(fromMcp.setup.status, "succeeded")

      const shown = yield* spindle(["thread", "show", childId, "--json"], { SPINDLE_HOME: world.home })
      assert.strictEqual(shown.code, 0, shown.stderr)
      const fromCli = asThread(JSON.parse(shown.stdout))
      assert.deepStrictEqual(fromMcp, fromCli)
    })
  )
})
