// Bad tool arguments over MCP, through the SDK's real client and raw JSON-RPC: each is a tool
// error with reason `validation` naming the field as the agent wrote it, every call gets an
// answer, and nothing changes.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { git } from "../testing/fixtures.ts"
import { mcpClient, mcpWorld, rawInitialize } from "../testing/mcp.ts"

const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length

interface ToolFailure {
  readonly error: string
  readonly message: string
  readonly field?: string
}

/** The JSON body of a tool error result; fails when the call succeeded or was a JSON-RPC error. */
const toolFailure = (result: unknown) => {
  const { isError, content } = result as { isError?: unknown; content?: Array<{ text: string }> }
  assert.isTrue(isError === true, JSON.stringify(result).slice(0, 200))
  return JSON.parse(content![0]!.text) as ToolFailure
}

/** A JSON-RPC request on an open session, answered from JSON or the first SSE event. */
const rawCall = (url: string, token: string, session: string, body: string | Buffer) =>
  Effect.promise(async () => {
    const response = await fetch(`${url}/mcp`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        authorization: `Bearer ${token}`,
        "mcp-session-id": session,
        "mcp-protocol-version": "2025-06-18"
      },
      body
    })
    const text = await response.text()
    const data = text
      .split("\n")
      .find((line) => line.startsWith("data: "))
      ?.slice("data: ".length)
    return { status: response.status, message: JSON.parse(data ?? text) as Record<string, any> }
  })

/** An initialized MCP session opened by hand; answers its id. */
const rawSession = (url: string, token: string) =>
  Effect.gen(function* () {
    const session = (yield* rawInitialize(url, { authorization: `Bearer ${token}` })).session!
    yield* Effect.promise(() =>
      fetch(`${url}/mcp`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          accept: "application/json, text/event-stream",
          authorization: `Bearer ${token}`,
          "mcp-session-id": session,
          "mcp-protocol-version": "2025-06-18"
        },
        body: JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })
      }).then((r) => r.text())
    )
    return session
  })

describe("bad tool arguments over MCP", () => {
  it.live("each is a validation tool error naming the field; nothing changes; the server still answers", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      const before = yield* world.engine.snapshot
      const cases: Array<[string, Record<string, unknown>, string, string?]> = [
        ["t3_thread_start", { prompt: "a\u0000b" }, "prompt", "control characters"],
        ["t3_thread_start", { prompt: "\u200b\u200b\ufeff \n" }, "prompt", "visible character"],
        ["t3_thread_start", { prompt: `${"x".repeat(120_001)}` }, "prompt", "120000"],
        ["t3_thread_start", { prompt: "go", title: "two\nlines" }, "title", "one line"],
        ["t3_thread_start", { prompt: "go", tags: "a,b" }, "tags", "JSON array"],
        ["t3_thread_start", { prompt: "go", tags: ["ok", "\u2060"] }, "tags.1", "visible character"],
        [
          "t3_thread_start",
          { prompt: "go", tags: Array.from({ length: 33 }, (_, i) => `t${i}`) },
          "tags",
          "32"
        ],
        ["t3_thread_start", { prompt: "go", model: "--dangerously-bypass-approvals" }, "model"],
        ["t3_thread_start", { prompt: "go", model: "gpt 5" }, "model"],
        ["t3_thread_start", { prompt: "go", worktreePath: world.repo }, "worktreePath", "new_worktree"],
        [
          "t3_thread_start",
          { prompt: "go", mode: "existing_worktree", worktreePath: world.repo, branch: "b" },
          "branch",
          "existing_worktree"
        ],
        ["t3_thread_start", { prompt: "go", mode: "current_checkout", baseBranch: "main" }, "baseBranch"],
        [
          "t3_thread_start",
          { prompt: "go", mode: "current_checkout", baseBranchSource: "source" },
          "baseBranchSource"
        ],
        ["t3_thread_start", { prompt: "go", mode: "existing_worktree" }, "worktreePath", "required"],
        [
          "t3_thread_start",
          { prompt: "go", baseBranch: "main", baseBranchSource: "source" },
          "baseBranchSource"
        ],
        ["t3_thread_start", { prompt: "go", mode: "sideways" }, "mode"],
        ["t3_thread_start", { prompt: "go", projectId: "elsewhere" }, "projectId"],
        ["t3_thread_start", { prompt: "go", constructor: { prototype: {} } }, "constructor", "not allowed"],
        ["t3_thread_start", { prompt: "go", runSetupScript: "yes" }, "runSetupScript"],
        ["t3_thread_start", {}, "prompt"],
        ["t3_thread_status", { threadId: 42 }, "threadId"],
        ["t3_thread_status", { threadId: "../../etc/passwd" }, "threadId"],
        ["t3_thread_list", { all: true }, "all"]
      ]
      for (const [name, args, field, text] of cases) {
        const label = `${name} ${JSON.stringify(args).slice(0, 80)}`
        const failure = toolFailure(yield* Effect.promise(() => client.callTool({ name, arguments: args })))
        assert.strictEqual(failure.error, "validation", label)
        assert.strictEqual(failure.field, field, label)
        if (text !== undefined) assert.include(failure.message, text, label)
      }
      // An unknown tool is a protocol error, as MCP says, and still an answer.
      for (const name of ["constructor", "__proto__", "toString"]) {
        const refused = yield* Effect.promise(() =>
          client.callTool({ name, arguments: {} }).then(
            () => undefined,
            (error: { code?: number; message: string }) => error
          )
        )
        assert.strictEqual(refused?.code, -32602, name)
        assert.include(refused?.message, "Unknown tool")
      }
      const after = yield* world.engine.snapshot
      assert.strictEqual(after.sequence, before.sequence)
      assert.strictEqual(after.threads.length, 1)
      assert.strictEqual(worktreeCount(world.repo), 1)
      const good = yield* Effect.promise(() =>
        client.callTool({
          name: "t3_thread_start",
          arguments: { prompt: "  still here  ", mode: "current_checkout" }
        })
      )
      assert.isUndefined(good.isError)
    })
  )

  it.live(
    "raw JSON-RPC: __proto__ keys, non-object arguments and wrong types each get an answer; nothing changes",
    () =>
      Effect.gen(function* () {
        const world = yield* mcpWorld()
        const session = yield* rawSession(world.url, world.token)
        const before = yield* world.engine.snapshot
        const call = (id: number, params: string) =>
          rawCall(
            world.url,
            world.token,
            session,
            `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":${params}}`
          )
        // A __proto__ key as sent on the wire is refused by name, never merged into anything.
        const proto = yield* call(
          1,
          '{"name":"t3_thread_start","arguments":{"prompt":"go","__proto__":{"mode":"current_checkout","runSetupScript":true}}}'
        )
        assert.strictEqual(proto.message.id, 1)
        const refused = toolFailure(proto.message.result)
        assert.strictEqual(refused.error, "validation")
        assert.strictEqual(refused.field, "__proto__")
        assert.strictEqual(({} as Record<string, unknown>).mode, undefined)
        // Arguments that are not an object are refused by the SDK's request schema: an answer, not a hang.
        for (const [id, params] of [
          [2, '{"name":"t3_thread_start","arguments":["go"]}'],
          [3, '{"name":"t3_thread_start","arguments":null}'],
          [4, '{"name":"t3_thread_start","arguments":"go"}'],
          [5, '{"name":42}']
        ] as const) {
          const answer = yield* call(id, params)
          assert.strictEqual(answer.message.id, id, params)
          assert.strictEqual(answer.message.error?.code, -32602, params)
        }
        const wrongType = yield* call(6, '{"name":"t3_thread_start","arguments":{"prompt":["go"]}}')
        const failure = JSON.parse(wrongType.message.result.content[0].text) as ToolFailure
        assert.strictEqual(failure.error, "validation")
        assert.strictEqual(failure.field, "prompt")
        const ping = yield* call(7, "{}")
        assert.strictEqual(ping.message.id, 7)
        // Bodies: one JSON message, at most 4 MiB; batches are refused, not run.
        const post = (body: string | Buffer) => rawCall(world.url, world.token, session, body)
        const good = '{"name":"t3_thread_start","arguments":{"prompt":"go","mode":"current_checkout"}}'
        const bodies: Array<[string | Buffer, number, number]> = [
          [
            `[{"jsonrpc":"2.0","id":8,"method":"tools/call","params":${good}},{"jsonrpc":"2.0","id":9,"method":"tools/call","params":${good}}]`,
            400,
            -32600
          ],
          ["[]", 400, -32600],
          ["{not json", 400, -32700],
          [
            `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"t3_thread_start","arguments":{"prompt":"${"x".repeat(5 * 1024 * 1024)}"}}}`,
            413,
            -32000
          ]
        ]
        for (const [body, status, code] of bodies) {
          const answer = yield* post(body)
          assert.strictEqual(answer.status, status, String(body).slice(0, 60))
          assert.strictEqual(answer.message.error?.code, code, String(body).slice(0, 60))
        }
        // Bytes that are not UTF-8 reach the prompt as U+FFFD, which text fields refuse.
        const damaged = yield* post(
          Buffer.concat([
            Buffer.from(
              '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"t3_thread_start","arguments":{"prompt":"fix '
            ),
            Buffer.from([0xff, 0xfe]),
            Buffer.from(' this","mode":"current_checkout"}}}')
          ])
        )
        const utf8 = toolFailure(damaged.message.result)
        assert.strictEqual(utf8.error, "validation")
        assert.strictEqual(utf8.field, "prompt")
        const after = yield* world.engine.snapshot
        assert.strictEqual(after.sequence, before.sequence)
        assert.strictEqual(after.threads.length, before.threads.length)
      })
  )
})
