// Hostile inputs over the WebSocket against the real server: several hundred malformed, tricky
// or malicious commands, each refused with a SpindleError reason while the server stays up and
// nothing on disk or in the database changes; then races of retries; then the invariants.
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { getJson } from "../src/testing/http.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { attach, newTracker } from "./harness/tracker.ts"
import { adminClient } from "./harness/world.ts"
import { changes, fingerprint, hostileWorld, snapshotOf } from "./hostile/fixture.ts"
import { reportCases } from "./hostile/report.ts"
import { runWsCases } from "./hostile/runWs.ts"
import { shapeCases } from "./hostile/wsCases.ts"
import { protocolCases } from "./hostile/wsProtocol.ts"
import { wsRaces } from "./hostile/wsRaces.ts"
import { trickCases } from "./hostile/wsTricks.ts"

describe("reliability: hostile inputs over the WebSocket", () => {
  it.live("every hostile command is refused with a reason and changes nothing", () =>
    runScenario("hostile-ws", "Hostile inputs over the WebSocket", (report) =>
      Effect.gen(function* () {
        const w = yield* hostileWorld
        const tracker = newTracker("ws subscriber")
        yield* attach(tracker, w.server.url, w.server.ownerToken)
        const before = fingerprint(w, yield* snapshotOf(w.client))
        const cases = [...shapeCases(w), ...protocolCases(w), ...trickCases(w)]
        const started = Date.now()
        const { outcomes, reopened } = yield* promise(() =>
          runWsCases(w.server.url, w.server.ownerToken, cases)
        )
        const elapsed = Date.now() - started
        reportCases(report, outcomes)
        report.figure("connections the server closed (then reopened)", reopened)
        report.figure("time for all cases", `${(elapsed / 1000).toFixed(1)} s`)

        const health = yield* getJson(`${w.server.url}/health`)
        report.check(
          "the server stays up",
          health.body.status === "ready" ? [] : [`health: ${JSON.stringify(health.body)}`]
        )
        const after = fingerprint(w, yield* snapshotOf(w.client))
        report.check(
          "disk and database unchanged (sequence, threads, worktrees, branches, files)",
          changes(before, after)
        )

        const clients = yield* Effect.forEach([1, 2, 3, 4], () => adminClient(w.server))
        const races = yield* wsRaces(w, clients)
        for (const r of races) report.check(`race: ${r.race}`, r.problems)
        report.table({
          title: "Races (concurrent, from four connections)",
          columns: ["race", "sent", "answers"],
          rows: races.map((r) => [r.race, r.sent, r.answers])
        })

        const invariants = yield* checkInvariants({
          home: w.home,
          url: w.server.url,
          client: w.client,
          trackers: [tracker],
          seeded: w.seeded,
          secrets: [w.server.ownerToken, w.token, w.otherToken],
          outputs: { server: w.server.output() },
          settle: "10 seconds"
        })
        report.check("invariants", invariants.violations)
      })
    )
  )
})
