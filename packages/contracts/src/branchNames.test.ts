import { assert, describe, it } from "@effect/vitest"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import { branchNameProblem, branchSkeleton, looksLikeObjectName } from "./branchNames.ts"
import { BaseRef, BranchName } from "./workspaceInput.ts"

const decode = Schema.decodeUnknownExit(BranchName)
const refusal = (name: string) => {
  const exit = decode(name)
  return Exit.isFailure(exit) ? String(exit.cause) : undefined
}

describe("BranchName refuses names that shadow a ref or pass for another", () => {
  const sha1 = "3d039eeb58342dbf87ad38e4a3f18e049446cafa"
  const cases: ReadonlyArray<readonly [name: string, says: string]> = [
    [sha1, "looks like a commit id"],
    ["a".repeat(64), "looks like a commit id"],
    ["3d039ee", "looks like a commit id"],
    ["DEADBEEF", "looks like a commit id"],
    ["v1.0-3-g3d039ee", "git describe"],
    ["HEAD", "special refs"],
    ["FETCH_HEAD", "special refs"],
    ["ORIG_HEAD", "special refs"],
    ["MERGE_HEAD", "special refs"],
    ["CHERRY_PICK_HEAD", "special refs"],
    ["REVERT_HEAD", "special refs"],
    ["BISECT_HEAD", "special refs"],
    ["AUTO_MERGE", "special refs"],
    ["SOMETHING_ELSE_HEAD", "special refs"],
    ["refs/heads/main", "ref namespace"],
    ["refs", "ref namespace"],
    ["heads/main", "ref namespace"],
    ["tags/v1.0", "ref namespace"],
    ["remotes/origin/main", "ref namespace"],
    ["origin/main", "the usual remote"],
    ["origin", "the usual remote"],
    ["m\u0430in", "Cyrillic"],
    ["ma\u03b9n", "Greek"],
    ["main\u200b", "U+200B"],
    ["feat\u202eure", "U+202E"],
    ["main\u2066", "U+2066"],
    ["ma\u00adin", "U+00AD"],
    ["main\ufe0f", "U+FE0F"],
    ["ma\u00a0in", "U+00A0"],
    ["\uff4d\uff41\uff49\uff4e", "'main'"],
    ["cafe\u0301", "'caf\u00e9'"]
  ]
  for (const [name, says] of cases) {
    it(`refuses ${JSON.stringify(name)}`, () => {
      const message = refusal(name)
      assert.isDefined(message, `${JSON.stringify(name)} was accepted`)
      assert.include(message, says)
    })
  }

  it("keeps ordinary names, one-script non-Latin names and short hex words", () => {
    for (const name of [
      "feature/x",
      "spindle/fix-login",
      "spindle/1a2b3c4d",
      "release-2.1",
      "v2",
      "cafe",
      "fix-3d039ee-regression",
      "\u6a5f\u80fd/\u30ed\u30b0\u30a4\u30f3",
      "\u043c\u0430\u0441\u0442\u0435\u0440",
      "caf\u00e9",
      "Head-start",
      "originals",
      "my-HEAD"
    ]) {
      assert.isUndefined(refusal(name), name)
    }
  })

  it("leaves bases alone: a base may be a commit, a remote-tracking branch or a tag", () => {
    const decodeBase = Schema.decodeUnknownExit(BaseRef)
    for (const base of [
      "3d039eeb58342dbf87ad38e4a3f18e049446cafa",
      "origin/main",
      "v1.0",
      "refs/heads/main",
      "HEAD"
    ]) {
      assert.isTrue(Exit.isSuccess(decodeBase(base)), base)
    }
  })
})

describe("branch name helpers", () => {
  it("reads object-like names as git does: whole, or after -g", () => {
    assert.isTrue(looksLikeObjectName("abcdef0"))
    assert.isFalse(looksLikeObjectName("abcdef"))
    assert.isFalse(looksLikeObjectName("spindle/abcdef01"))
    assert.isTrue(looksLikeObjectName("x-gabcdef0"))
  })

  it("gives look-alikes one skeleton and different names different ones", () => {
    assert.strictEqual(branchSkeleton("\u043c\u0430in"), branchSkeleton("main"))
    assert.strictEqual(branchSkeleton("\u0440\u043e\u0440"), branchSkeleton("pop"))
    assert.strictEqual(branchSkeleton("Main"), branchSkeleton("main"))
    assert.strictEqual(branchSkeleton("release-1"), branchSkeleton("release-l"))
    assert.strictEqual(branchSkeleton("main\u200b"), branchSkeleton("main"))
    assert.notStrictEqual(branchSkeleton("main"), branchSkeleton("maim"))
    assert.isUndefined(branchNameProblem("main"))
  })
})
