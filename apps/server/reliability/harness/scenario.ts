// The frame of every scenario: time it, collect its checks and figures, write its result even when
// it breaks half-way (a harness error is a failed check, not a lost report), then fail the test
// with every failed check named.
import { assert } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { type Check, checkOf, failedChecks, type Table, writeResult } from "./results.ts"

export interface Report {
  /** A check that passes when `problems` is empty. */
  readonly check: (name: string, problems: ReadonlyArray<string>) => void
  readonly figure: (name: string, value: string | number) => void
  readonly table: (table: Table) => void
}

export const runScenario = <E>(
  scenario: string,
  title: string,
  body: (report: Report) => Effect.Effect<void, E, Scope.Scope>
) =>
  Effect.gen(function* () {
    const started = Date.now()
    const checks: Array<Check> = []
    const figures: Array<readonly [string, string | number]> = []
    const tables: Array<Table> = []
    const report: Report = {
      check: (name, problems) => checks.push(checkOf(name, problems)),
      figure: (name, value) => figures.push([name, value]),
      table: (t) => tables.push(t)
    }
    const exit = yield* Effect.exit(Effect.scoped(body(report)))
    if (exit._tag === "Failure") {
      checks.push(
        checkOf("scenario ran to the end", [Cause.pretty(exit.cause).split("\n").slice(0, 8).join(" ")])
      )
    }
    writeResult({ scenario, title, durationMs: Date.now() - started, checks, figures, tables })
    assert.deepStrictEqual(failedChecks(checks), [], `${title}: failed checks`)
  })

/** Runs a promise-returning step as an Effect that fails (not dies) with its error. */
export const promise = <A>(f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (error) => (error instanceof Error ? error : new Error(String(error))) })
