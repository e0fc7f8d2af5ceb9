import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import type * as Rpc from "effect/rpc/Rpc"
import { Authorized, RequiredScope, SpindleRpcs } from "./rpc.ts"

const rpcs = [...(SpindleRpcs.requests as ReadonlyMap<string, Rpc.AnyWithProps>).values()]
const scopeOf = (rpc: Rpc.AnyWithProps) => Context.getOption(rpc.annotations, RequiredScope)

describe("the WebSocket RPCs", () => {
  it("each declares the client scope it needs and goes through the Authorized middleware", () => {
    assert.isAbove(rpcs.length, 15)
    for (const rpc of rpcs) {
      assert.strictEqual(scopeOf(rpc)._tag, "Some", `${rpc._tag} declares no RequiredScope`)
      assert.isTrue(rpc.middlewares.has(Authorized), `${rpc._tag} skips the Authorized middleware`)
    }
  })

  it("reads need read, commands operate, tokens and sign-in codes admin", () => {
    const byScope = (scope: string) =>
      rpcs
        .filter((rpc) => scopeOf(rpc).pipe((found) => found._tag === "Some" && found.value === scope))
        .map((rpc) => rpc._tag)
        .sort()
    assert.deepStrictEqual(byScope("operate"), [
      "attempt.pick",
      "orchestration.dispatchCommand",
      "thread.merge",
      "worktree.cleanup"
    ])
    assert.deepStrictEqual(byScope("admin"), [
      "board.createSignInCode",
      "token.create",
      "token.issueMcp",
      "token.list",
      "token.revoke",
      "token.rotateOwner"
    ])
    for (const tag of byScope("read")) {
      assert.match(
        tag,
        /^(server|hosts\.list|orchestration\.(getSnapshot|subscribe)|thread|attempt\.show|project|worktree\.list|radar\.overlaps)/
      )
    }
  })
})
