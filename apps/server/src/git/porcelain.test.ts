import { assert, describe, it } from "@effect/vitest"
import { parseStatusV2, parseWorktreeList } from "./porcelain.ts"

describe("parseWorktreeList", () => {
  const entries = [
    "worktree /repo",
    "HEAD 1111111111111111111111111111111111111111",
    "branch refs/heads/main",
    "",
    "worktree /home/w/with space/é",
    "HEAD 2222222222222222222222222222222222222222",
    "detached",
    "locked reason here",
    "",
    "worktree /gone",
    "HEAD 3333333333333333333333333333333333333333",
    "branch refs/heads/spindle/abc",
    "prunable gitdir file points to non-existent location",
    ""
  ]

  it("parses NUL-terminated records", () => {
    const parsed = parseWorktreeList(`${entries.join("\0")}\0`, true)
    assert.strictEqual(parsed.length, 3)
    assert.deepStrictEqual(parsed[0], {
      path: "/repo",
      head: "1111111111111111111111111111111111111111",
      branch: "main",
      detached: false,
      bare: false,
      locked: false,
      prunable: false
    })
    assert.strictEqual(parsed[1]!.path, "/home/w/with space/é")
    assert.isTrue(parsed[1]!.detached)
    assert.isNull(parsed[1]!.branch)
    assert.isTrue(parsed[1]!.locked)
    assert.strictEqual(parsed[2]!.branch, "spindle/abc")
    assert.isTrue(parsed[2]!.prunable)
  })

  it("parses the newline form the same way", () => {
    assert.deepStrictEqual(
      parseWorktreeList(entries.join("\n"), false),
      parseWorktreeList(`${entries.join("\0")}\0`, true)
    )
  })

  it("keeps a path with a newline intact with -z", () => {
    const parsed = parseWorktreeList("worktree /a\nb\0HEAD 1\0branch refs/heads/x\0\0", true)
    assert.strictEqual(parsed[0]!.path, "/a\nb")
  })
})

describe("parseStatusV2", () => {
  it("counts changed paths and reads branch and head", () => {
    const output = [
      "# branch.oid abcdef",
      "# branch.head feature",
      "# branch.upstream origin/feature",
      "# branch.ab +1 -0",
      "1 .M N... 100644 100644 100644 a b src/a.ts",
      "2 R. N... 100644 100644 100644 a b R100 new name.ts",
      "old name.ts",
      "? untracked.txt",
      ""
    ].join("\0")
    assert.deepStrictEqual(parseStatusV2(output), { branch: "feature", head: "abcdef", changedFiles: 3 })
  })

  it("reads a detached head and a clean tree", () => {
    assert.deepStrictEqual(parseStatusV2("# branch.oid abc\0# branch.head (detached)\0"), {
      branch: null,
      head: "abc",
      changedFiles: 0
    })
    assert.deepStrictEqual(parseStatusV2("# branch.oid (initial)\0# branch.head main\0"), {
      branch: "main",
      head: null,
      changedFiles: 0
    })
  })
})
