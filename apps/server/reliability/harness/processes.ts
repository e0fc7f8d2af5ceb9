// The processes a server started, and their resident memory (Linux /proc).
import { readdirSync, readFileSync } from "node:fs"
import { memoryOf } from "./spindle.ts"

/** Every live process below `root` (children, grandchildren, ...), from /proc. */
export const descendantsOf = (root: number): Array<number> => {
  const children = new Map<number, Array<number>>()
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // The parent is the 4th field after the command, which is in parentheses and may hold spaces.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8")
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1])
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
    } catch {
      // It ended while we looked.
    }
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
