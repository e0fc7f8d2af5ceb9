// t3_thread_stop answers what happened (the SDK's real client, the real server, the real Codex
// against the fake model): a turn that completes before the interrupt reaches its agent is
// answered completed, not interrupted; one the interrupt stops is answered interrupted. The
// interrupt is made late by a `codex` that holds Spindle's turn/interrupt requests for 3 s.
import { chmodSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { Thread, ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { tempDir } from "../testing/fixtures.ts"
import { callTool, mcpClient, mcpWorld } from "../testing/mcp.ts"
import { CODEX_BIN, codexAgainst, codexHome, fakeModel } from "../testing/providers.ts"

/** A codex that passes its stdin on line by line, holding each turn/interrupt request 3 s first. */
const lateInterrupts = Effect.map(tempDir("spindle-late-interrupt-"), (dir) => {
  const bin = join(dir, "codex")
  writeFileSync(
    bin,
    `#!/bin/sh\nwhile IFS= read -r line; do\n  case "$line" in *'"turn/interrupt"'*) sleep 3;; esac\n  printf '%s\\n' "$line"\ndone | exec "${CODEX_BIN}" "$@"\n`
  )
  chmodSync(bin, 0o755)
  return bin
})

describe("t3_thread_stop", () => {
  it.live(
    "answers how the turn ended: completed when it finished first, interrupted when the stop ended it",
    () =>
      Effect.gen(function* () {
        const model = yield* fakeModel
        const home = yield* codexHome
        const world = yield* mcpWorld({
          settings: { providers: { ...codexAgainst(model, home), codexBin: yield* lateInterrupts } }
        })
        const client = yield* mcpClient(world.url, world.token)
        const call = (name: string, args: Record<string, unknown>) =>
          Effect.map(callTool(client, name, args), (result) => {
            if (result.isError) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`)
            return result.structuredContent as Record<string, unknown>
          })
        const running = (threadId: ThreadId) =>
          world.engine.getThread(threadId).pipe(
            Effect.repeat({
              until: (t) => t?.latestTurn?.status === "running" && t.session.status === "running",
              schedule: Schedule.spaced("100 millis")
            }),
            Effect.timeout("60 seconds")
          )

        // Finishes 1.5 s into its answer; the interrupt reaches Codex 3 s after it is sent.
        const quick = (yield* call("t3_thread_start", { prompt: "finish soon [[slow: 1500]]" }))
          .threadId as ThreadId
        yield* running(quick)
        const first = yield* call("t3_thread_stop", { threadId: quick })
        assert.strictEqual(first.turnStatus, "completed")
        assert.isFalse(first.interrupted as boolean, "a turn that completed is not called interrupted")
        assert.strictEqual((first.thread as Thread).latestTurn?.status, "completed")

        // Held 30 s: the interrupt ends it.
        const slow = (yield* call("t3_thread_start", { prompt: "take long [[slow: 30000]]" }))
          .threadId as ThreadId
        yield* running(slow)
        const second = yield* call("t3_thread_stop", { threadId: slow })
        assert.strictEqual(second.turnStatus, "interrupted")
        assert.isTrue(second.interrupted as boolean)
        assert.strictEqual((second.thread as Thread).latestTurn?.status, "interrupted")

        // Nothing running: nothing to say about a turn.
        const idle = yield* call("t3_thread_stop", { threadId: quick })
        assert.isNull(idle.turnStatus)
        assert.isFalse(idle.interrupted as boolean)
      }),
    120_000
  )
})
