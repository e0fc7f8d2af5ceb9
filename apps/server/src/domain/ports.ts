// Port blocks: which ports live threads hold, and where a new block of `count` ports could go in
// the server's range. Pure: the allocator probes what it picks, the decider re-checks it.
import type { PortBlock, Thread, ThreadId } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"

/** The ports thread blocks are taken from (inclusive); below the kernel's ephemeral range. */
export interface PortRange {
  readonly first: number
  readonly last: number
}

export const DEFAULT_PORT_RANGE: PortRange = { first: 20_000, last: 32_767 }

const end = (block: PortBlock) => block.first + block.count - 1

export const overlaps = (a: PortBlock, b: PortBlock) => a.first <= end(b) && b.first <= end(a)

/** A thread holds its ports while it is active. */
export const holdsPorts = (thread: Thread) => thread.status === "active" && thread.ports !== null

/** The blocks held by live threads other than `except`, sorted by first port. */
export const heldBlocks = (model: ReadModel, except?: ThreadId): ReadonlyArray<PortBlock> =>
  Array.from(HashMap.values(model.threads))
    .filter((t) => t.id !== except && holdsPorts(t))
    .map((t) => t.ports as PortBlock)
    .sort((a, b) => a.first - b.first)

/** The live thread other than `except` whose block overlaps `block`. */
export const portHolder = (model: ReadModel, block: PortBlock, except: ThreadId) => {
  for (const thread of HashMap.values(model.threads)) {
    if (thread.id !== except && holdsPorts(thread) && overlaps(thread.ports as PortBlock, block))
      return thread
  }
  return undefined
}

/**
 * The first block of `count` ports at or after `from` inside `range` that overlaps none of
 * `held` (sorted) nor `skip` (ports found busy); undefined when the range has no room left.
 */
export const nextFreeBlock = (
  range: PortRange,
  held: ReadonlyArray<PortBlock>,
  count: number,
  from: number
): PortBlock | undefined => {
  let first = Math.max(from, range.first)
  while (first + count - 1 <= range.last) {
    const candidate = { first, count }
    const clash = held.find((block) => overlaps(block, candidate))
    if (clash === undefined) return candidate
    first = end(clash) + 1
  }
  return undefined
}
