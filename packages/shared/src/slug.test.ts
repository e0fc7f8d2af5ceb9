import { assert, describe, it } from "@effect/vitest"
import { slugify } from "./slug.ts"

describe("slugify", () => {
  it("keeps safe characters and replaces the rest", () => {
    assert.strictEqual(slugify("spindle/ab12cd34"), "spindle-ab12cd34")
    assert.strictEqual(slugify("Fix Login (urgent)!"), "fix-login-urgent")
    assert.strictEqual(slugify("café ünïcode"), "cafe-unicode")
    assert.strictEqual(slugify("../../etc"), "etc")
  })

  it("is never empty and never too long", () => {
    assert.strictEqual(slugify("///"), "x")
    assert.strictEqual(slugify("日本語"), "x")
    assert.strictEqual(slugify("a".repeat(100), 10).length, 10)
  })
})
