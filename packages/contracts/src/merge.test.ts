import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import { ThreadMergeRequest } from "./merge.ts"

const decode = Schema.decodeUnknownExit(ThreadMergeRequest)

describe("ThreadMergeRequest", () => {
  it("takes a local branch name and a known strategy", () => {
    assert.isTrue(
      decode({ threadId: "t-1", into: "feature/x", strategy: "squash", dryRun: true })._tag === "Success"
    )
  })

  it("refuses names git would read otherwise, and unknown strategies", () => {
    for (const into of ["-x", "a..b", "main@{1}", "bad\u0001name", "", " main"]) {
      assert.strictEqual(decode({ threadId: "t-1", into })._tag, "Failure", `into: ${JSON.stringify(into)}`)
    }
    assert.strictEqual(decode({ threadId: "t-1", strategy: "octopus" })._tag, "Failure")
  })
})
