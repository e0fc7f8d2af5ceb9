import { assert, describe, it } from "@effect/vitest"
import { redactSecrets } from "./logging.ts"

describe("redactSecrets", () => {
  it("masks provider and client tokens wherever they appear", () => {
    const token = `spn_${"a1B2".repeat(11)}`
    const line = `calling with Bearer ${token} and spc_${"z".repeat(40)} done`
    const redacted = redactSecrets(line)
    assert.notInclude(redacted, token)
    assert.notInclude(redacted, "z".repeat(40))
    assert.include(redacted, "spn_[redacted]")
    assert.include(redacted, "spc_[redacted]")
  })

  it("leaves ordinary text alone", () => {
    assert.strictEqual(redactSecrets("spindle spn_ short"), "spindle spn_ short")
  })
})
