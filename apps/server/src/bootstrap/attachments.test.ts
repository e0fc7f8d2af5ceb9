// Attachments with a first prompt: checked before anything is made, copied under <home>, listed on
// the thread, handed to the agent (here the command provider, which gets their paths).
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { serverActor, tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { PIXEL_PNG, PROJECT, providersOn, providerWorld, turnEnded } from "../testing/providers.ts"

const base64 = (text: string) => Buffer.from(text).toString("base64")

/** Prints each attachment's name and size. */
const AGENT = [
  "/bin/sh",
  "-c",
  'printf "%s\\n" "$SPINDLE_ATTACHMENTS" | while read -r f; do echo "got $(basename "$f") $(wc -c < "$f")"; done',
  "agent"
]

describe("attachments with the first prompt", () => {
  it.live("inline and by path: copied under <home> (0600), listed on the thread, handed to the agent", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, { agentCommand: AGENT })
      const dir = yield* tempDir()
      const notes = join(dir, "notes.md")
      writeFileSync(notes, "# plan\nstep one\n")
      const result = yield* world.commands.dispatch(
        {
          type: "thread.turn.start",
          commandId: "start-att",
          threadId: "t1",
          prompt: "see attached",
          bootstrap: {
            createThread: { projectId: PROJECT, provider: "command" },
            workspace: { mode: "new_worktree" },
            runSetupScript: false,
            attachments: [
              { name: "pixel.png", mediaType: "image/png", data: PIXEL_PNG },
              { path: notes },
              { name: "data.json", mediaType: "application/json", data: base64('{"a":1}') }
            ]
          }
        },
        serverActor
      )
      assert.strictEqual((result as { turn: { status: string } }).turn.status, "requested")
      const thread = (yield* world.engine.getThread("t1" as ThreadId))!
      assert.deepStrictEqual(
        thread.attachments.map((a) => [a.name, a.kind, a.mediaType]),
        [
          ["pixel.png", "image", "image/png"],
          ["notes.md", "text", "text/markdown"],
          ["data.json", "text", "application/json"]
        ]
      )
      for (const attachment of thread.attachments) {
        assert.isTrue(attachment.path.startsWith(join(world.server.home, "attachments", "t1")))
        assert.strictEqual(statSync(attachment.path).mode & 0o777, 0o600)
      }
      assert.strictEqual(readFileSync(thread.attachments[1]!.path, "utf8"), "# plan\nstep one\n")
      const events = yield* turnEnded(world.engine, "t1")
      const said = events.flatMap((e) => (e.type === "thread.turn-item" ? [e.payload.item.text ?? ""] : []))
      assert.deepStrictEqual(said, ["got 1-pixel.png 70", "got 2-notes.md 16", "got 3-data.json 7"])
    })
  )

  it.live("bad attachments are refused by index before anything is made", () =>
    Effect.gen(function* () {
      const world = yield* providerWorld(providersOn, { agentCommand: AGENT })
      const start = (threadId: string, attachments: ReadonlyArray<unknown>) =>
        Effect.flip(
          world.commands.dispatch(
            {
              type: "thread.turn.start",
              commandId: `start-${threadId}`,
              threadId,
              prompt: "go",
              bootstrap: {
                createThread: { projectId: PROJECT, provider: "command" },
                workspace: { mode: "new_worktree" },
                attachments
              }
            },
            serverActor
          )
        )
      const fake = yield* start("t1", [{ name: "a.png", mediaType: "image/png", data: base64("not a png") }])
      assert.strictEqual(fake.reason, "validation")
      assert.strictEqual(fake.field, "bootstrap.attachments.0")
      assert.include(fake.message, "its bytes say otherwise")
      const binary = yield* start("t2", [
        { name: "x.txt", mediaType: "text/plain", data: base64("a\u0000b") }
      ])
      assert.include(binary.message, "neither an image")
      const missing = yield* start("t3", [{ path: "/nonexistent/file.txt" }])
      assert.strictEqual(missing.field, "bootstrap.attachments.0")
      const many = yield* start(
        "t4",
        Array.from({ length: 9 }, () => ({ name: "a.txt", mediaType: "text/plain", data: base64("a") }))
      )
      assert.strictEqual(many.field, "bootstrap.attachments")
      const big = yield* start("t5", [
        { name: "big.txt", mediaType: "text/plain", data: base64("x".repeat(4 * 1024 * 1024 + 1)) }
      ])
      assert.strictEqual(big.reason, "validation")
      const snapshot = yield* world.engine.snapshot
      assert.deepStrictEqual(snapshot.threads, [], "no thread was made")
    })
  )

  it.live("an agent attaches files from inside its own worktree only", () =>
    Effect.gen(function* () {
      const world = yield* mcpWorld()
      const client = yield* mcpClient(world.url, world.token)
      writeFileSync(join(world.repo, "spec.txt"), "the spec\n")
      const outside = join(yield* tempDir(), "secret.txt")
      writeFileSync(outside, "not yours\n")
      const refused = yield* callTool(client, "t3_thread_start", {
        prompt: "go",
        attachments: [{ path: outside }]
      })
      assert.isTrue(refused.isError)
      assert.include(JSON.stringify(refused.content), "outside your worktree")
      const ok = (yield* callTool(client, "t3_thread_start", {
        prompt: "go",
        attachments: [{ path: join(world.repo, "spec.txt") }]
      })).structuredContent as { threadId: ThreadId }
      const child = (yield* world.engine.getThread(ok.threadId))!
      assert.deepStrictEqual(
        child.attachments.map((a) => a.name),
        ["spec.txt"]
      )
    })
  )
})
