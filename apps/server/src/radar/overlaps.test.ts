// The radar's pure part: which ranges meet (overlapping and adjacent, as git's merge sees them),
// overlaps between footprints of one project only, the caps, and the suggested merge order.
import { assert, describe, it } from "@effect/vitest"
import { type LineRange, MAX_OVERLAP_FILES, type ThreadId, WHOLE_FILE_END } from "@spindle/contracts"
import { computeOverlaps, type Footprint, meet, sameOverlapSet, suggestMergeOrder } from "./overlaps.ts"

const t = (id: string) => id as ThreadId
const r = (start: number, end: number): LineRange => ({ start, end })
const fp = (threadId: string, files: Record<string, Array<LineRange>>, projectId = "p1"): Footprint => ({
  threadId: t(threadId),
  projectId,
  files: new Map(Object.entries(files))
})

describe("meet", () => {
  it("overlapping and adjacent ranges meet; one unchanged line between them keeps them apart", () => {
    assert.isTrue(meet(r(5, 10), r(8, 12)))
    assert.isTrue(meet(r(5, 5), r(6, 6)), "adjacent lines conflict in a three-way merge")
    assert.isFalse(meet(r(5, 5), r(7, 7)), "line 6 unchanged between them")
    // A pure insertion before line 6 (after line 5):
    assert.isTrue(meet(r(6, 5), r(6, 6)))
    assert.isTrue(meet(r(6, 5), r(5, 5)))
    assert.isFalse(meet(r(6, 5), r(7, 7)))
    assert.isTrue(meet(r(6, 5), r(6, 5)), "two insertions at one place")
    assert.isFalse(meet(r(6, 5), r(8, 7)))
    assert.isTrue(meet(r(1, WHOLE_FILE_END), r(400, 410)), "a binary file meets any change")
  })
})

describe("computeOverlaps", () => {
  it("pairs of one project sharing a file at meeting ranges, with each side's ranges", () => {
    const overlaps = computeOverlaps([
      fp("b", { "src/a.ts": [r(1, 2), r(40, 45)], "README.md": [r(3, 3)] }),
      fp("a", { "src/a.ts": [r(10, 12), r(44, 44)], "README.md": [r(10, 10)] }),
      fp("c", { "src/c.ts": [r(1, 1)] }),
      fp("x", { "src/a.ts": [r(10, 12)] }, "p2")
    ])
    assert.deepStrictEqual(overlaps, [
      {
        threadIds: [t("a"), t("b")],
        files: [{ path: "src/a.ts", ranges: { a: [r(44, 44)], b: [r(40, 45)] } }],
        filesTruncated: 0
      }
    ])
  })

  it("new files added by both, and a file one deletes while the other edits, overlap", () => {
    const overlaps = computeOverlaps([
      fp("a", { "new.txt": [r(1, 0)], "old.txt": [r(1, 30)] }),
      fp("b", { "new.txt": [r(1, 0)], "old.txt": [r(17, 17)] })
    ])
    assert.deepStrictEqual(
      overlaps[0]?.files.map((f) => f.path),
      ["new.txt", "old.txt"]
    )
  })

  it("lists at most MAX_OVERLAP_FILES files and counts the rest", () => {
    const files = Object.fromEntries(
      Array.from({ length: MAX_OVERLAP_FILES + 7 }, (_, i) => [`f${String(i).padStart(3, "0")}`, [r(1, 1)]])
    )
    const [overlap] = computeOverlaps([fp("a", files), fp("b", files)])
    assert.strictEqual(overlap?.files.length, MAX_OVERLAP_FILES)
    assert.strictEqual(overlap?.filesTruncated, 7)
  })

  it("sameOverlapSet compares pairs and paths, not ranges", () => {
    const before = computeOverlaps([fp("a", { f: [r(1, 1)] }), fp("b", { f: [r(2, 2)] })])
    const moved = computeOverlaps([fp("a", { f: [r(1, 3)] }), fp("b", { f: [r(2, 2)] })])
    const more = computeOverlaps([
      fp("a", { f: [r(1, 1)], g: [r(1, 1)] }),
      fp("b", { f: [r(2, 2)], g: [r(1, 1)] })
    ])
    assert.isTrue(sameOverlapSet(before, moved))
    assert.isFalse(sameOverlapSet(before, more))
    assert.isFalse(sameOverlapSet(before, []))
  })
})

describe("suggestMergeOrder", () => {
  it("non-overlapping children first, then a conflict-free set, then the rest", () => {
    const overlaps = computeOverlaps([
      fp("a", { f: [r(1, 1)] }),
      fp("b", { f: [r(1, 1)], g: [r(5, 5)] }),
      fp("c", { g: [r(5, 5)] }),
      fp("d", { h: [r(1, 1)] })
    ])
    // b conflicts with both a and c; a and c do not share a file.
    const order = suggestMergeOrder([t("a"), t("b"), t("c"), t("d")], overlaps, [
      [t("a"), t("b")],
      [t("b"), t("c")]
    ])
    assert.deepStrictEqual(
      order.map((e) => e.threadId),
      ["d", "a", "c", "b"]
    )
    assert.deepStrictEqual(order[3]?.conflictsWith, [t("a"), t("c")])
    assert.include(order[3]?.note ?? "", "conflicts with a, c")
    assert.deepStrictEqual(order[0]?.overlapsWith, [])
  })

  it("overlapping children a trial merge finds clean keep their order", () => {
    const overlaps = computeOverlaps([fp("a", { f: [r(1, 1)] }), fp("b", { f: [r(2, 2)] })])
    const order = suggestMergeOrder([t("a"), t("b")], overlaps, [])
    assert.deepStrictEqual(
      order.map((e) => [e.threadId, e.note]),
      [
        ["a", "overlaps a sibling, but a trial merge finds no conflict"],
        ["b", "overlaps a sibling, but a trial merge finds no conflict"]
      ]
    )
  })
})
