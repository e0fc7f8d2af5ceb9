// withClient against a real server: a request the RPC client cannot encode (a value the contracts
// refuse) is a usage failure naming the field, not a defect printed with its stack; any other
// defect still is one.
import { assert, describe, it } from "@effect/vitest"
import type { ThreadId } from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import { inProcessServer } from "../testing/inProcessServer.ts"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT } from "./errors.ts"
import { Home, Json, Token, Url } from "./globals.ts"

describe("withClient", () => {
  it.live("a request with a value the contracts refuse fails as usage, naming the field", () =>
    Effect.gen(function* () {
      const server = yield* inProcessServer()
      const connected = <A>(program: Parameters<typeof withClient<A>>[0]) =>
        withClient(program).pipe(
          Effect.provideService(Json, false),
          Effect.provideService(Url, Option.some(server.url)),
          Effect.provideService(Token, Option.some(server.ownerToken)),
          Effect.provideService(Home, Option.some(server.home)),
          Effect.exit
        )
      const bad = yield* connected((client) => client["thread.get"]({ threadId: "../../etc" as ThreadId }))
      assert.isTrue(Exit.isFailure(bad))
      const failure = Exit.isFailure(bad) ? Cause.squash(bad.cause) : undefined
      assert.instanceOf(failure, CliFailure)
      assert.strictEqual((failure as CliFailure).code, EXIT.usage)
      assert.strictEqual((failure as CliFailure).reason, "usage")
      assert.include((failure as CliFailure).message, "threadId: ThreadId must be 1-128 characters")

      const boom = yield* connected(() => Effect.die(new Error("boom")))
      assert.isTrue(Exit.isFailure(boom) && Cause.hasDies(boom.cause))
    })
  )
})
