// The per-session SSE event store: replays what came after an id on that id's stream only, never
// a priming event, and within its bounds drops the oldest events first, refusing an id it dropped.
import { assert, describe, it } from "@effect/vitest"
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js"
import * as Effect from "effect/Effect"
import { makeEventStore } from "./eventStore.ts"

const note = (n: number, text = ""): JSONRPCMessage => ({
  jsonrpc: "2.0",
  method: "notifications/message",
  params: { level: "info", data: `${n}${text}` }
})

const replay = (store: ReturnType<typeof makeEventStore>, after: string) =>
  Effect.promise(async () => {
    const sent: Array<[string, JSONRPCMessage]> = []
    const stream = await store.replayEventsAfter(after, {
      send: async (id, message) => {
        sent.push([id, message])
      }
    })
    return { stream, sent }
  })

describe("MCP event store", () => {
  it.effect("replays the later events of the same stream, without priming events", () =>
    Effect.gen(function* () {
      const store = makeEventStore()
      const priming = yield* Effect.promise(() => store.storeEvent("a", {} as JSONRPCMessage))
      yield* Effect.promise(() => store.storeEvent("b", note(0)))
      const first = yield* Effect.promise(() => store.storeEvent("a", note(1)))
      yield* Effect.promise(() => store.storeEvent("a", {} as JSONRPCMessage))
      const second = yield* Effect.promise(() => store.storeEvent("a", note(2)))
      assert.strictEqual(yield* Effect.promise(() => store.getStreamIdForEventId!(priming)), "a")

      const all = yield* replay(store, priming)
      assert.strictEqual(all.stream, "a")
      assert.deepStrictEqual(all.sent, [
        [first, note(1)],
        [second, note(2)]
      ])
      assert.deepStrictEqual((yield* replay(store, second)).sent, [])
    })
  )

  it.effect("keeps at most its bounds, dropping the oldest first; a dropped id is refused", () =>
    Effect.gen(function* () {
      const store = makeEventStore({ events: 3, chars: 10_000 })
      const ids: Array<string> = []
      for (let n = 0; n < 5; n++) ids.push(yield* Effect.promise(() => store.storeEvent("s", note(n))))
      assert.isUndefined(yield* Effect.promise(() => store.getStreamIdForEventId!(ids[1]!)))
      const refused = yield* Effect.promise(() =>
        store.replayEventsAfter(ids[1]!, { send: async () => {} }).then(
          () => "replayed",
          (error: unknown) => String(error)
        )
      )
      assert.include(refused, "no longer held")
      assert.deepStrictEqual(
        (yield* replay(store, ids[2]!)).sent.map(([id]) => id),
        [ids[3], ids[4]]
      )

      // By size: a large event pushes out as many older ones as it needs.
      const small = makeEventStore({ events: 100, chars: 350 })
      const early = yield* Effect.promise(() => small.storeEvent("s", note(1)))
      const kept = yield* Effect.promise(() => small.storeEvent("s", note(2)))
      yield* Effect.promise(() => small.storeEvent("s", note(3, "x".repeat(150))))
      assert.isUndefined(yield* Effect.promise(() => small.getStreamIdForEventId!(early)))
      assert.strictEqual(yield* Effect.promise(() => small.getStreamIdForEventId!(kept)), "s")
    })
  )
})
