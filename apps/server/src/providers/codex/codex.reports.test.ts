// Which of Codex's reports belong to the running turn, with the stand-in app-server
// (testing/codexStandIn.mjs) replaying an ordering real Codex produces only now and then.
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { eventsUntil, providerWorld } from "../../testing/providers.ts"

const STAND_IN = join(import.meta.dirname, "../../testing/codexStandIn.mjs")

describe("Codex reports and the running turn", () => {
  it.live(
    "a report on an earlier turn that arrives after turn/start (a resumed thread's token usage) does not stand for the new turn",
    () =>
      Effect.gen(function* () {
        const world = yield* providerWorld({ enabled: true, codexBin: STAND_IN, codexConfig: [] })
        yield* world.start("t1", "hello")
        const events = yield* eventsUntil(
          world.engine,
          "t1",
          (e) => e.type === "thread.turn-ended",
          "20 seconds"
        )
        const ended = events.at(-1)
        assert.strictEqual(
          ended?.type === "thread.turn-ended" ? ended.payload.status : undefined,
          "completed"
        )
        const thread = (yield* world.engine.getThread("t1" as ThreadId))!
        assert.strictEqual(thread.latestTurn?.lastMessage, "done")
        // The earlier turn's usage (999 tokens) is not this turn's.
        assert.notStrictEqual(thread.latestTurn?.usage?.totalTokens, 999)
      }),
    60_000
  )
})
