// The diff view's pure parts (no browser needed): a patch into files and numbered lines, the split
// view's rows, and the highlighter's tokens (text kept whole, never HTML).
import { assert, describe, it } from "vitest"
import { highlight, parsePatch, splitRows } from "../src/diff.ts"

const patch = [
  "diff --git a/src/a.ts b/src/a.ts",
  "index 1111111..2222222 100644",
  "--- a/src/a.ts",
  "+++ b/src/a.ts",
  "@@ -1,3 +1,3 @@",
  " const a = 1",
  '-const b = "two"',
  '+const b = "three"',
  " export { a }",
  "diff --git a/new.txt b/new.txt",
  "new file mode 100644",
  "--- /dev/null",
  "+++ b/new.txt",
  "@@ -0,0 +1,2 @@",
  "+one",
  "+two",
  "diff --git a/img.png b/img.png",
  "Binary files a/img.png and b/img.png differ",
  ""
].join("\n")

describe("the diff view's parts", () => {
  it("parses files, their status, counts and numbered lines", () => {
    const files = parsePatch(patch)
    assert.deepStrictEqual(
      files.map((f) => [f.path, f.status, f.added, f.removed, f.lines.length]),
      [
        ["src/a.ts", "changed", 1, 1, 5],
        ["new.txt", "added", 2, 0, 3],
        ["img.png", "binary", 0, 0, 0]
      ]
    )
    assert.deepStrictEqual(
      files[0]!.lines.slice(1).map((l) => `${l.kind} ${l.oldLine ?? "-"} ${l.newLine ?? "-"} ${l.text}`),
      [
        "context 1 1 const a = 1",
        'del 2 - const b = "two"',
        'add - 2 const b = "three"',
        "context 3 3 export { a }"
      ]
    )
  })

  it("pairs a removed line with the line that replaced it in the split view", () => {
    const rows = splitRows(parsePatch(patch)[0]!.lines)
    assert.deepStrictEqual(
      rows.map((r) => `${r.left?.text ?? "·"} | ${r.right?.text ?? "·"}`),
      [
        "@@ -1,3 +1,3 @@ | @@ -1,3 +1,3 @@",
        "const a = 1 | const a = 1",
        'const b = "two" | const b = "three"',
        "export { a } | export { a }"
      ]
    )
  })

  it("highlights keywords, strings, numbers and comments, keeping the text whole", () => {
    const line = 'const b = "x<y>" + 42 // <script>'
    const tokens = highlight(line)
    assert.strictEqual(tokens.map((t) => t.text).join(""), line)
    assert.deepStrictEqual(
      tokens.filter((t) => t.kind !== "plain").map((t) => `${t.kind}:${t.text}`),
      ["keyword:const", 'string:"x<y>"', "number:42", "comment:// <script>"]
    )
    assert.deepStrictEqual(
      highlight("color: #fff; # a comment").map((t) => t.kind),
      ["plain", "comment"]
    )
  })
})
