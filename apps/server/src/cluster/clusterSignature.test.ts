// A call between hosts is good only with the secret, for its own body, near its time.
import { describe, expect, it } from "@effect/vitest"
import { checkSignature, signCall } from "./clusterSignature.ts"

const SECRET = "a".repeat(64)

describe("cluster call signatures", () => {
  it("accepts its own body near its time, and refuses everything else, saying why", () => {
    const now = 1_700_000_000_000
    const body = '{"kind":"command"}'
    const signature = signCall(SECRET, now, body)
    expect(checkSignature(SECRET, String(now), signature, body, now + 1_000)).toBeUndefined()
    expect(checkSignature(SECRET, String(now), signature, `${body} `, now)).toContain("does not match")
    expect(checkSignature("b".repeat(64), String(now), signature, body, now)).toContain(
      "same --cluster-secret-file"
    )
    expect(checkSignature(SECRET, String(now), signature, body, now + 61_000)).toContain("clocks")
    expect(checkSignature(SECRET, undefined, signature, body, now)).toContain("not signed")
    expect(checkSignature(SECRET, String(now), "zz", body, now)).toContain("does not match")
  })
})
