// Runs around the whole reliability project: hands every scenario a fresh results folder, and
// at the end renders docs/reliability.md from what they wrote, then removes the folder. A run of
// only some scenarios (while debugging one) leaves the document alone and prints where its
// partial report went.
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join, resolve } from "node:path"
import type { TestProject } from "vitest/node"
import { reported, SCENARIOS, writeReport } from "./harness/render.ts"

const REPORT = resolve(import.meta.dirname, "../../../docs/reliability.md")

export default function setup(project: TestProject) {
  const started = Date.now()
  const dir = mkdtempSync(join(tmpdir(), "spindle-reliability-"))
  project.provide("reliabilityResults", dir)
  return () => {
    const complete = SCENARIOS.every(([key]) => reported(dir).has(key))
    const target = complete ? REPORT : join(tmpdir(), `spindle-reliability-partial-${started}.md`)
    writeReport(dir, target, Date.now() - started)
    if (!complete) process.stdout.write(`reliability: not every scenario ran; partial report in ${target}\n`)
    rmSync(dir, { recursive: true, force: true })
  }
}
