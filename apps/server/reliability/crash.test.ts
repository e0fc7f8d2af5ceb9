// Crash injection: for each bootstrap stage (and an archive), five rounds on five repositories in
// one home, each a kill -9 of the real server at that stage and a restart, then the shared
// invariants; the stages where git works when the server dies (a checkout, an archive) restart
// at once. Stages run two at a time (two cores); the rounds of one stage run in order, so
// recovery also faces everything earlier rounds left behind.
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { tempDir } from "../src/testing/fixtures.ts"
import { crashRound, type RoundContext, STAGES, type Stage } from "./crash/round.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { stopSpindle } from "./harness/spindle.ts"
import { newTracker } from "./harness/tracker.ts"
import { adminClient } from "./harness/world.ts"

const ROUNDS = 5

/** SPINDLE_CRASH_STAGES=a,b runs only those stages (while debugging one; the report is then partial). */
const only = process.env.SPINDLE_CRASH_STAGES?.split(",").filter((s) => s !== "")
const RUN_STAGES = only === undefined ? STAGES : STAGES.filter((s) => only.includes(s))

interface StageSummary {
  readonly stage: Stage
  rounds: number
  crashed: number
  readonly problems: Array<string>
  readonly outcomes: Array<string>
  readonly recoveryMs: Array<number>
  readonly stopMs: Array<number>
  events: number
}

const runStage = (stage: Stage) =>
  Effect.gen(function* () {
    const dir = yield* tempDir(`spindle-crash-${stage}-`)
    const ctx = { stage, dir, home: `${dir}/home`, tracker: newTracker(stage), seeded: [], outputs: {} }
    const summary: StageSummary = {
      stage,
      rounds: 0,
      crashed: 0,
      problems: [],
      outcomes: [],
      recoveryMs: [],
      stopMs: [],
      events: 0
    }
    for (let round = 1; round <= ROUNDS; round++) {
      const exit = yield* Effect.exit(
        Effect.scoped(
          Effect.gen(function* () {
            const connections = yield* Scope.make()
            yield* Effect.addFinalizer(() => Scope.close(connections, Exit.void))
            const context: RoundContext = { ...ctx, round, connections }
            const outcome = yield* crashRound(context)
            const client = yield* Scope.provide(adminClient(outcome.server), connections)
            const report = yield* checkInvariants({
              home: ctx.home,
              url: outcome.server.url,
              client,
              trackers: [ctx.tracker],
              seeded: ctx.seeded,
              secrets: [outcome.server.ownerToken],
              ownerToken: outcome.server.ownerToken,
              outputs: ctx.outputs
            })
            // Clients leave first, so the stop below measures the server, not their sockets.
            yield* Scope.close(connections, Exit.void)
            const stopAt = Date.now()
            if (!(yield* promise(() => stopSpindle(outcome.server))))
              summary.problems.push(`round ${round}: the recovered server did not stop on SIGTERM`)
            summary.stopMs.push(Date.now() - stopAt)
            summary.rounds++
            if (outcome.crashed) summary.crashed++
            summary.recoveryMs.push(outcome.recoveryMs)
            summary.events = report.events
            const t = outcome.thread
            summary.outcomes.push(
              `${
                t === undefined
                  ? "gone"
                  : `${t.bootstrap.status}${t.bootstrap.stage === null ? "" : `/${t.bootstrap.stage}`}${t.status === "archived" ? `, archived (${t.cleanup?.outcome ?? "no outcome"})` : ""}`
              }${outcome.gitCaught === false ? " (git too quick to catch)" : ""}`
            )
            summary.problems.push(
              ...[...outcome.problems, ...report.violations].map((p) => `round ${round}: ${p}`)
            )
          })
        )
      )
      if (exit._tag === "Failure")
        summary.problems.push(`round ${round}: the round broke: ${String(exit.cause).slice(0, 300)}`)
    }
    return summary
  })

const tally = (values: ReadonlyArray<string>) =>
  [...new Set(values)].map((v) => `${values.filter((x) => x === v).length}× ${v}`).join(", ")

describe("reliability: crash injection", () => {
  it.live(
    "kill -9 at every bootstrap stage, five rounds each, then recovery keeps every invariant",
    () =>
      runScenario("crash", "Crash injection", (report) =>
        Effect.gen(function* () {
          const summaries = yield* Effect.forEach(RUN_STAGES, runStage, { concurrency: 2 })
          for (const s of summaries)
            report.check(`${s.stage}: ${ROUNDS} rounds crash and recover`, [
              ...(s.crashed < ROUNDS ? [`only ${s.crashed} of ${ROUNDS} rounds crashed`] : []),
              ...s.problems
            ])
          report.figure(
            "rounds",
            summaries.reduce((n, s) => n + s.rounds, 0)
          )
          report.figure("stages", RUN_STAGES.length)
          report.table({
            title:
              "Per stage (each round on its own repository; restart time is npm start to ready, recovery included)",
            columns: [
              "stage",
              "rounds",
              "killed",
              "thread after recovery",
              "restart to ready (max)",
              "SIGTERM to exit (max)",
              "events in home"
            ],
            rows: summaries.map((s) => [
              s.stage,
              s.rounds,
              s.crashed,
              tally(s.outcomes),
              `${Math.max(0, ...s.recoveryMs)} ms`,
              `${Math.max(0, ...s.stopMs)} ms`,
              s.events
            ])
          })
        })
      ),
    600_000
  )
})
