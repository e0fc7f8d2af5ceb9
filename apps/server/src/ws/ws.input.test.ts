// Bad input over the WebSocket, through the real client and raw frames: every request gets a
// reply, each a `validation` SpindleError naming the field as sent, and nothing changes.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import WebSocket from "ws"
import { makeClient } from "../cli/rpcClient.ts"
import { git, gitRepo } from "../testing/fixtures.ts"
import { inProcessServer } from "../testing/inProcessServer.ts"

const rawSocket = (url: string, token: string) =>
  Effect.acquireRelease(
    Effect.callback<WebSocket, Error>((resume) => {
      const ws = new WebSocket(`${url.replace(/^http/, "ws")}/ws`, {
        headers: { authorization: `Bearer ${token}` }
      })
      ws.once("open", () => resume(Effect.succeed(ws)))
      ws.once("error", (error) => resume(Effect.fail(error)))
    }),
    (ws) => Effect.sync(() => ws.terminate())
  )

interface WireError {
  readonly _tag: string
  readonly reason: string
  readonly field?: string
  readonly message: string
}

/** Sends one raw request frame and answers the error its Exit carries (fails on a success or a defect). */
const rawRequest = (ws: WebSocket, id: string, frame: string | Buffer) =>
  Effect.callback<WireError, Error>((resume) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(String(data)) as {
        _tag: string
        requestId?: string
        exit?: { _tag: string; cause?: Array<{ _tag: string; error?: WireError; defect?: unknown }> }
      }
      if (message._tag !== "Exit" || message.requestId !== id) {
        if (message._tag === "Defect") done(Effect.fail(new Error(`protocol defect: ${String(data)}`)))
        return
      }
      const reason = message.exit?.cause?.[0]
      done(
        reason?._tag === "Fail" && reason.error !== undefined
          ? Effect.succeed(reason.error)
          : Effect.fail(new Error(`expected a failure, got ${String(data).slice(0, 300)}`))
      )
    }
    const done = (result: Effect.Effect<WireError, Error>) => {
      ws.off("message", onMessage)
      resume(result)
    }
    ws.on("message", onMessage)
    ws.send(frame, { binary: typeof frame !== "string" })
  }).pipe(Effect.timeout("5 seconds"))

/** Sends a frame that holds no request and answers the protocol message it gets back. */
const rawFrame = (ws: WebSocket, frame: string) =>
  Effect.callback<Record<string, unknown>, Error>((resume) => {
    ws.once("message", (data) => resume(Effect.succeed(JSON.parse(String(data)))))
    ws.once("close", (code) => resume(Effect.fail(new Error(`closed ${code}`))))
    ws.send(frame)
  }).pipe(Effect.timeout("5 seconds"))

const request = (id: string, tag: string, payload: unknown) =>
  JSON.stringify({ _tag: "Request", id, tag, payload, headers: [] })

const worktreeCount = (repo: string) =>
  git(repo, "worktree", "list", "--porcelain").split("\nworktree ").length

describe("bad input over the WebSocket", () => {
  it.live(
    "malformed payloads and unknown methods get validation errors naming the field, and a reply each",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const client = yield* makeClient({ url: server.url, token: server.ownerToken })
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "project.create", commandId: "c1", projectId: "p1", workspaceRoot: repo }
        })
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "thread.create", commandId: "c2", projectId: "p1", threadId: "t1", title: "t" }
        })
        const before = yield* client["orchestration.getSnapshot"]()
        const ws = yield* rawSocket(server.url, server.ownerToken)
        const command = { type: "project.remove", commandId: "c3", projectId: "p1" }
        const cases: Array<[string, string, string | undefined]> = [
          [request("1", "orchestration.dispatchCommand", { command, await: "bogus" }), "await", "workspace"],
          [request("2", "orchestration.dispatchCommand", { command, await: 7 }), "await", undefined],
          [request("3", "orchestration.dispatchCommand", null), "payload", undefined],
          [request("4", "orchestration.dispatchCommand", [command]), "payload", undefined],
          [request("5", "orchestration.dispatchCommand", {}), "command", undefined],
          [request("6", "orchestration.dispatchCommand", { command, junk: true }), "junk", undefined],
          [
            `{"_tag":"Request","id":"7","tag":"orchestration.dispatchCommand","headers":[],"payload":{"command":{"type":"project.remove","commandId":"c3","projectId":"p1"},"__proto__":{"polluted":true}}}`,
            "__proto__",
            "not allowed"
          ],
          [
            request("8", "token.issueMcp", { threadId: "t1", capabilities: ["root"] }),
            "capabilities.0",
            undefined
          ],
          [
            request("9", "token.issueMcp", { threadId: "t1", capabilities: "thread-read" }),
            "capabilities",
            undefined
          ],
          [request("10", "thread.get", { threadId: 42 }), "threadId", undefined],
          [request("11", "thread.get", { threadId: "../../etc" }), "threadId", undefined],
          [request("12", "orchestration.subscribe", { fromSequence: -1 }), "fromSequence", undefined],
          [request("13", "thread.streamSetupLog", {}), "threadId", undefined],
          [request("14", "constructor", {}), "tag", "Unknown method"],
          [request("15", "__proto__", {}), "tag", "Unknown method"],
          [request("16", "toString", null), "tag", "Unknown method"],
          // Per-call headers that are not string pairs used to close the connection (1011) unanswered.
          [
            '{"_tag":"Request","id":"17","tag":"server.getStatus","payload":null,"headers":5}',
            "headers",
            "[name, value]"
          ],
          [
            '{"_tag":"Request","id":"18","tag":"server.getStatus","payload":null,"headers":[[1,2]]}',
            "headers",
            undefined
          ],
          [
            '{"_tag":"Request","id":"19","tag":"project.list","payload":null,"headers":null}',
            "headers",
            undefined
          ],
          // Inside an opaque field the path starts at that field's own root, as its decoder names it.
          [
            '{"_tag":"Request","id":"20","tag":"token.create","headers":[],"payload":{"input":{"name":"x","scopes":["read"],"__proto__":{"scopes":["admin"]}}}}',
            "__proto__",
            "not allowed"
          ],
          [
            '{"_tag":"Request","id":"21","tag":"orchestration.dispatchCommand","headers":[],"payload":{"command":{"type":"project.update","commandId":"u1","projectId":"p1","setupEnv":{"constructor":"x"}}}}',
            "setupEnv.constructor",
            "not allowed"
          ]
        ]
        for (const [frame, field, text] of cases) {
          const id = (JSON.parse(frame) as { id: string }).id
          const error = yield* rawRequest(ws, id, frame)
          assert.strictEqual(error._tag, "SpindleError", frame)
          assert.strictEqual(error.reason, "validation", frame)
          assert.strictEqual(error.field, field, frame)
          if (text !== undefined) assert.include(error.message, text, frame)
        }
        // Bytes that are not UTF-8 in a binary frame reach the field as U+FFFD, which text refuses.
        const binary = Buffer.concat([
          Buffer.from(
            `{"_tag":"Request","id":"30","tag":"orchestration.dispatchCommand","headers":[],"payload":{"command":{"type":"thread.turn.start","commandId":"b1","threadId":"t1","prompt":"fix `
          ),
          Buffer.from([0xff, 0xfe]),
          Buffer.from(' this"}}}')
        ])
        const damaged = yield* rawRequest(ws, "30", binary)
        assert.strictEqual(damaged.reason, "validation")
        assert.strictEqual(damaged.field, "prompt")
        assert.include(damaged.message, "UTF-8")
        // Frames whose messages are not objects get a protocol answer; the connection stays.
        for (const frame of ["null", "[null]", "[1,2]", '[{"_tag":"Ping"},null]']) {
          const answer = yield* rawFrame(ws, frame)
          assert.strictEqual(answer._tag, "Defect", frame)
          assert.include(JSON.stringify(answer.defect), "JSON object", frame)
        }
        // The connection, the server and the data are as they were.
        const listed = yield* rawRequest(ws, "99", request("99", "thread.get", { threadId: "missing" })).pipe(
          Effect.map((error) => error.reason)
        )
        assert.strictEqual(listed, "not-found")
        assert.strictEqual((yield* client["server.getStatus"]()).status, "ready")
        const after = yield* client["orchestration.getSnapshot"]()
        assert.strictEqual(after.sequence, before.sequence)
        assert.strictEqual(after.projects.length, 1)
        assert.strictEqual(({} as Record<string, unknown>).polluted, undefined)
      })
  )

  it.live(
    "bad commands through the real client: each a validation error naming the field; nothing changes",
    () =>
      Effect.gen(function* () {
        const server = yield* inProcessServer()
        const repo = yield* gitRepo
        const client = yield* makeClient({ url: server.url, token: server.ownerToken })
        yield* client["orchestration.dispatchCommand"]({
          command: { type: "project.create", commandId: "c1", projectId: "p1", workspaceRoot: repo }
        })
        const before = yield* client["orchestration.getSnapshot"]()
        const start = (
          fields: Record<string, unknown>,
          workspace: Record<string, unknown> = { mode: "new_worktree" }
        ) => ({
          type: "thread.turn.start",
          commandId: "s1",
          threadId: "t1",
          prompt: "go",
          ...fields,
          bootstrap: { createThread: { projectId: "p1" }, workspace }
        })
        const cases: Array<[unknown, string]> = [
          [{ type: "constructor", commandId: "x" }, "type"],
          [{ type: "toString", commandId: "x" }, "type"],
          [{ type: "__proto__", commandId: "x" }, "type"],
          [{ type: "hasOwnProperty", commandId: "x" }, "type"],
          [null, "type"],
          [[], "type"],
          ["thread.create", "type"],
          [42, "type"],
          [start({ prompt: "a\u0000b" }), "prompt"],
          [start({ prompt: " \u200b\ufeff\n" }), "prompt"],
          [start({ prompt: "x".repeat(120_001) }), "prompt"],
          [start({}, { mode: "current_checkout", branch: "b" }), "bootstrap.workspace.branch"],
          [start({}, { mode: "current_checkout", baseBranch: "main" }), "bootstrap.workspace.baseBranch"],
          [start({}, { mode: "new_worktree", worktreePath: repo }), "bootstrap.workspace.worktreePath"],
          [
            start({}, { mode: "existing_worktree", worktreePath: repo, fetchBase: true }),
            "bootstrap.workspace.fetchBase"
          ],
          [start({}, { mode: "existing_worktree" }), "bootstrap.workspace.worktreePath"],
          [
            {
              ...start({}),
              bootstrap: {
                createThread: { projectId: "p1", model: "gpt 5; rm -rf ~" },
                workspace: { mode: "new_worktree" }
              }
            },
            "bootstrap.createThread.model"
          ],
          [
            {
              ...start({}),
              bootstrap: {
                createThread: { projectId: "p1", title: "a\u001b[2Jb" },
                workspace: { mode: "new_worktree" }
              }
            },
            "bootstrap.createThread.title"
          ],
          [
            {
              ...start({}),
              bootstrap: {
                createThread: { projectId: "p1", tags: ["ok", "\u200b"] },
                workspace: { mode: "new_worktree" }
              }
            },
            "bootstrap.createThread.tags.1"
          ],
          [
            JSON.parse(
              '{"type":"project.update","commandId":"u1","projectId":"p1","setupEnv":{"__proto__":"x"}}'
            ),
            "setupEnv.__proto__"
          ]
        ]
        for (const [command, field] of cases) {
          const label = JSON.stringify(command)?.slice(0, 100) ?? String(command)
          const error = yield* Effect.flip(client["orchestration.dispatchCommand"]({ command }))
          assert.strictEqual(error._tag, "SpindleError", label)
          assert.strictEqual(error.reason, "validation", label)
          assert.strictEqual((error as { field?: string }).field, field, label)
        }
        const after = yield* client["orchestration.getSnapshot"]()
        assert.strictEqual(after.sequence, before.sequence)
        assert.strictEqual(after.threads.length, 0)
        assert.strictEqual(worktreeCount(repo), 1)
        // The server still takes a good command from the same client.
        const good = yield* client["orchestration.dispatchCommand"]({
          command: start({ prompt: `  ${"y".repeat(120_000)}  ` }, { mode: "current_checkout" })
        })
        assert.strictEqual("threadId" in good ? good.threadId : undefined, "t1")
      })
  )
})
