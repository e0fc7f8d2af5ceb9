// Each scenario's own figures and checks, written as JSON into the run's results folder (handed
// out by globalSetup), from which docs/reliability.md is rendered at the end of the run.
import { mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { inject } from "vitest"

declare module "vitest" {
  export interface ProvidedContext {
    reliabilityResults: string
  }
}

export interface Check {
  readonly name: string
  readonly ok: boolean
  /** What broke, when it did (a few lines at most). */
  readonly detail?: string
}

export interface Table {
  readonly title: string
  readonly columns: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string | number>>
}

export interface ScenarioResult {
  /** File-name safe key; also fixes the section's order in the report. */
  readonly scenario: string
  readonly title: string
  readonly durationMs: number
  readonly checks: ReadonlyArray<Check>
  /** Headline figures, shown as a two-column table. */
  readonly figures: ReadonlyArray<readonly [string, string | number]>
  readonly tables?: ReadonlyArray<Table>
}

export const resultsDir = () => inject("reliabilityResults")

export const writeResult = (result: ScenarioResult) => {
  const dir = resultsDir()
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, `${result.scenario}.json`), `${JSON.stringify(result, null, 2)}\n`)
}

/** A check from a list of problems: ok when empty, else the first few as its detail. */
export const checkOf = (name: string, problems: ReadonlyArray<string>): Check =>
  problems.length === 0
    ? { name, ok: true }
    : {
        name,
        ok: false,
        detail: [
          ...problems.slice(0, 6),
          ...(problems.length > 6 ? [`… and ${problems.length - 6} more`] : [])
        ].join("; ")
      }

/** The failed checks, as lines for an assertion message. */
export const failedChecks = (checks: ReadonlyArray<Check>) =>
  checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.detail ?? "failed"}`)
