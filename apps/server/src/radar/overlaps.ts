// The conflict radar's pure part: footprints in, overlaps out, and the suggested merge order of a
// parent's children from the overlaps and the trial merges. No git, no clock, no I/O.
//
// Two changes to one file meet when their ranges of the file at the fork point overlap or touch:
// git's three-way merge conflicts on adjacent hunks too, so "touching" counts.
import {
  type LineRange,
  MAX_OVERLAP_FILES,
  MAX_OVERLAP_RANGES,
  type MergeOrderEntry,
  type OverlapFile,
  type ThreadId,
  type ThreadOverlap
} from "@spindle/contracts"

/** What one live thread changes against its fork point: each changed path and its ranges. */
export interface Footprint {
  readonly threadId: ThreadId
  readonly projectId: string
  readonly files: ReadonlyMap<string, ReadonlyArray<LineRange>>
}

/** Whether two ranges overlap or are adjacent (a pure insertion is the gap before `start`). */
export const meet = (a: LineRange, b: LineRange) => a.start <= b.end + 1 && b.start <= a.end + 1

const pairKey = (a: ThreadId, b: ThreadId) => `${a}\0${b}`

/**
 * Every pair of footprints of one project that change a file at meeting ranges, pairs and files
 * in a stable order (thread ids, then paths). Footprints of different projects never overlap.
 */
export const computeOverlaps = (footprints: Iterable<Footprint>): Array<ThreadOverlap> => {
  const sorted = [...footprints].sort((a, b) => (a.threadId < b.threadId ? -1 : 1))
  // Path -> the footprints that change it, so only threads sharing a file are compared.
  const byPath = new Map<string, Array<Footprint>>()
  for (const footprint of sorted) {
    for (const path of footprint.files.keys()) {
      const key = `${footprint.projectId}\0${path}`
      const list = byPath.get(key)
      if (list === undefined) byPath.set(key, [footprint])
      else list.push(footprint)
    }
  }
  const pairs = new Map<string, { threadIds: [ThreadId, ThreadId]; files: Array<OverlapFile> }>()
  for (const [key, holders] of byPath) {
    if (holders.length < 2) continue
    const path = key.slice(key.indexOf("\0") + 1)
    for (let i = 0; i < holders.length; i++) {
      for (let j = i + 1; j < holders.length; j++) {
        const a = holders[i] as Footprint
        const b = holders[j] as Footprint
        const met = meeting(a.files.get(path) ?? [], b.files.get(path) ?? [])
        if (met === undefined) continue
        const id = pairKey(a.threadId, b.threadId)
        const pair = pairs.get(id) ?? { threadIds: [a.threadId, b.threadId], files: [] }
        pair.files.push({ path, ranges: { [a.threadId]: met[0], [b.threadId]: met[1] } })
        pairs.set(id, pair)
      }
    }
  }
  return [...pairs.entries()]
    .sort(([x], [y]) => (x < y ? -1 : 1))
    .map(([, pair]) => {
      const files = pair.files.sort((x, y) => (x.path < y.path ? -1 : 1))
      return {
        threadIds: pair.threadIds,
        files: files.slice(0, MAX_OVERLAP_FILES),
        filesTruncated: Math.max(0, files.length - MAX_OVERLAP_FILES)
      }
    })
}

/** Each side's ranges that meet one of the other's, or undefined when none do. */
const meeting = (
  a: ReadonlyArray<LineRange>,
  b: ReadonlyArray<LineRange>
): [Array<LineRange>, Array<LineRange>] | undefined => {
  const fromA = new Set<LineRange>()
  const fromB = new Set<LineRange>()
  // Both lists come from git in file order, so one sweep finds every meeting pair.
  let j = 0
  for (const ra of a) {
    while (j < b.length && (b[j] as LineRange).end + 1 < ra.start) j++
    for (let k = j; k < b.length && (b[k] as LineRange).start <= ra.end + 1; k++) {
      const rb = b[k] as LineRange
      if (meet(ra, rb)) {
        fromA.add(ra)
        fromB.add(rb)
      }
    }
  }
  if (fromA.size === 0) return undefined
  return [[...fromA].slice(0, MAX_OVERLAP_RANGES), [...fromB].slice(0, MAX_OVERLAP_RANGES)]
}

/** The overlaps one thread is part of. */
export const overlapsOf = (overlaps: ReadonlyArray<ThreadOverlap>, threadId: ThreadId) =>
  overlaps.filter((o) => o.threadIds.includes(threadId))

/** The other thread of an overlap. */
export const otherThread = (overlap: ThreadOverlap, threadId: ThreadId) =>
  (overlap.threadIds[0] === threadId ? overlap.threadIds[1] : overlap.threadIds[0]) as ThreadId

/** Whether two overlap lists name the same pairs and, for each, the same files. */
export const sameOverlapSet = (a: ReadonlyArray<ThreadOverlap>, b: ReadonlyArray<ThreadOverlap>) => {
  const key = (list: ReadonlyArray<ThreadOverlap>) =>
    list
      .map((o) => `${o.threadIds.join(",")}:${o.files.map((f) => f.path).join("\0")}`)
      .sort()
      .join("\n")
  return key(a) === key(b)
}

/**
 * The order to merge children in: those whose changes overlap no sibling's first, then a largest
 * set that a trial merge finds free of conflicts among themselves (smallest conflict count first,
 * greedily), then the rest, fewest conflicts with what is already merged first. Ties keep the
 * given order (oldest child first).
 */
export const suggestMergeOrder = (
  children: ReadonlyArray<ThreadId>,
  overlaps: ReadonlyArray<ThreadOverlap>,
  conflicts: ReadonlyArray<readonly [ThreadId, ThreadId]>
): Array<MergeOrderEntry> => {
  const inSet = new Set(children)
  const neighbours = (pairs: ReadonlyArray<readonly [ThreadId, ThreadId]>) => {
    const map = new Map<ThreadId, Set<ThreadId>>(children.map((id) => [id, new Set()]))
    for (const [a, b] of pairs) {
      if (!inSet.has(a) || !inSet.has(b) || a === b) continue
      map.get(a)?.add(b)
      map.get(b)?.add(a)
    }
    return map
  }
  const overlapping = neighbours(
    overlaps.map((o) => [o.threadIds[0], o.threadIds[1]] as [ThreadId, ThreadId])
  )
  const conflicting = neighbours(conflicts)
  const entry = (id: ThreadId, note: string): MergeOrderEntry => ({
    threadId: id,
    overlapsWith: [...(overlapping.get(id) ?? [])].sort(),
    conflictsWith: [...(conflicting.get(id) ?? [])].sort(),
    note
  })
  const order: Array<MergeOrderEntry> = []
  const free = children.filter((id) => (overlapping.get(id)?.size ?? 0) === 0)
  for (const id of free) order.push(entry(id, "overlaps no sibling"))
  let rest = children.filter((id) => (overlapping.get(id)?.size ?? 0) > 0)
  // A greedy independent set of the conflict graph: each merges cleanly after those before it.
  const clean: Array<ThreadId> = []
  let candidates = [...rest]
  while (candidates.length > 0) {
    const degree = (id: ThreadId) =>
      [...(conflicting.get(id) ?? [])].filter((other) => candidates.includes(other)).length
    const pick = candidates.reduce((best, id) => (degree(id) < degree(best) ? id : best))
    clean.push(pick)
    candidates = candidates.filter((id) => id !== pick && !conflicting.get(pick)?.has(id))
  }
  for (const id of clean) {
    order.push(
      entry(
        id,
        (conflicting.get(id)?.size ?? 0) === 0
          ? "overlaps a sibling, but a trial merge finds no conflict"
          : "merges cleanly with those before it"
      )
    )
  }
  rest = rest.filter((id) => !clean.includes(id))
  const merged = new Set<ThreadId>([...free, ...clean])
  while (rest.length > 0) {
    const against = (id: ThreadId) => [...(conflicting.get(id) ?? [])].filter((other) => merged.has(other))
    const pick = rest.reduce((best, id) => (against(id).length < against(best).length ? id : best))
    order.push(
      entry(pick, `conflicts with ${against(pick).join(", ")}: merge that first, then have this one rebase`)
    )
    merged.add(pick)
    rest = rest.filter((id) => id !== pick)
  }
  return order
}
