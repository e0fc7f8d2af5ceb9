import { assert, describe, it } from "@effect/vitest"
import { keepEnds, shortText } from "./shortText.ts"

describe("shortText", () => {
  it("leaves a short text alone", () => {
    assert.strictEqual(shortText("one\ntwo"), "one\ntwo")
    assert.strictEqual(keepEnds("abc", 3), "abc")
  })

  it("keeps the first and last lines and says how many were left out", () => {
    const text = Array.from(
      { length: 20_000 },
      (_, i) => `error: unable to write file src/file${i}.txt`
    ).join("\n")
    const short = shortText(text, { head: 2, tail: 2 })
    assert.deepStrictEqual(short.split("\n"), [
      "error: unable to write file src/file0.txt",
      "error: unable to write file src/file1.txt",
      "… 19996 more lines (the full text is in the server log) …",
      "error: unable to write file src/file19998.txt",
      "error: unable to write file src/file19999.txt"
    ])
  })

  it("bounds overlong lines and the whole, keeping both ends", () => {
    const line = `start${"x".repeat(10_000)}end`
    const short = shortText(line, { lineChars: 100 })
    assert.isAtMost(short.length, 100)
    assert.isTrue(short.startsWith("start") && short.endsWith("end"))
    const wide = Array.from({ length: 13 }, () => "y".repeat(300)).join("\n")
    assert.isAtMost(shortText(wide, { maxChars: 1000 }).length, 1000)
  })
})
