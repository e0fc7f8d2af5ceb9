// The processes a server started, and their resident memory (Linux /proc).
import { readdirSync, readFileSync } from "node:fs"
import { processStat } from "@spindle/shared/processGroup"
import { memoryOf } from "./spindle.ts"

/** Every live process below `root` (children, grandchildren, ...), from /proc. */
export const descendantsOf = (root: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    const parent = processStat(entry)?.ppid
    // undefined: it ended while we looked.
    if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  const found: Array<number> = []
  const walk = (pid: number) => {
    for (const child of children.get(pid) ?? []) {
      found.push(child)
      walk(child)
    }
  }
  walk(root)
  return found
}

/** The summed resident memory (MiB) and count of the processes below `root` whose command line has `marker`. */
export const residentBelow = (root: number, marker: string) => {
  let kib = 0
  let count = 0
  for (const pid of descendantsOf(root)) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker)) continue
    } catch {
      continue
    }
    const memory = memoryOf(pid)
    if (memory === undefined) continue
    kib += memory.rssKiB
    count++
  }
  return { mib: Math.round(kib / 1024), count }
}
