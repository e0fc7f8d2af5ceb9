// terminalSafe: what a terminal could act on becomes a \uXXXX escape; text, tabs, line breaks and
// CRLF stay; JSON passed through it parses to the very same value.
import { assert, describe, it } from "@effect/vitest"
import { table, terminalSafe } from "./output.ts"

describe("terminalSafe", () => {
  it("escapes ESC, BEL, BS, a lone CR, DEL, C1, line separators and bidi controls", () => {
    assert.strictEqual(terminalSafe("a\u001b]0;pwned\u0007b"), "a\\u001b]0;pwned\\u0007b")
    assert.strictEqual(terminalSafe("x\u0008y\rz\u007f"), "x\\u0008y\\u000dz\\u007f")
    assert.strictEqual(terminalSafe("\u009b2J\u0085"), "\\u009b2J\\u0085")
    assert.strictEqual(
      terminalSafe("\u202eexe.txt \u2066\u2069 \u200e\u200f\u061c \u2028"),
      "\\u202eexe.txt \\u2066\\u2069 \\u200e\\u200f\\u061c \\u2028"
    )
  })

  it("keeps text, tabs, newlines and CRLF, and is idempotent", () => {
    const text = "fix: ünïcödé 修正 👩‍💻\tcol\nline\r\nnext"
    assert.strictEqual(terminalSafe(text), text)
    const once = terminalSafe("a\u001b[2Jb\u009b")
    assert.strictEqual(terminalSafe(once), once)
  })

  it("JSON through it stays JSON of the same value, with no raw control left", () => {
    const value = { path: "a\u001b]0;x\u0007b\u009b\u202e", lines: ["\r", "\t"], n: 1 }
    for (const text of [JSON.stringify(value), JSON.stringify(value, null, 2)]) {
      const safe = terminalSafe(text)
      assert.deepStrictEqual(JSON.parse(safe), value)
      // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
      assert.notMatch(safe, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/u)
    }
  })

  it("tables measure the escaped cells, so columns stay aligned", () => {
    const lines = table(
      ["A", "B"],
      [
        ["x\u001b", "1"],
        ["long-name", "2"]
      ]
    ).split("\n")
    // The second column starts where the widest first cell (9 characters) and two spaces end.
    assert.deepStrictEqual(
      lines.map((l) => l.lastIndexOf(" ") + 1),
      [11, 11, 11]
    )
    assert.strictEqual(lines[1], "x\\u001b    1")
  })
})
