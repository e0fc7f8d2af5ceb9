// Hostile inputs over MCP against the real server, with a real provider token: malformed calls
// are JSON-RPC errors, refused ones are tool errors with a reason, the server stays up and nothing
// changes; then races of retries and of admission limits; then the invariants.
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { getJson } from "../src/testing/http.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { connectMcp } from "./harness/mcp.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { attach, newTracker } from "./harness/tracker.ts"
import { changes, fingerprint, hostileWorld, snapshotOf } from "./hostile/fixture.ts"
import { mcpCases } from "./hostile/mcpCases.ts"
import { mcpRaces, toolOutcome } from "./hostile/mcpRaces.ts"
import { reportCases } from "./hostile/report.ts"
import { runMcpCases } from "./hostile/runMcp.ts"

describe("reliability: hostile inputs over MCP", () => {
  it.live("every hostile tool call is refused with a reason and changes nothing", () =>
    runScenario("hostile-mcp", "Hostile inputs over MCP", (report) =>
      Effect.gen(function* () {
        const w = yield* hostileWorld
        // Another agent's child, which this agent must not be able to read.
        const other = yield* Effect.acquireRelease(
          promise(() => connectMcp(w.server.url, w.otherToken)),
          (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
        )
        const otherChild = yield* promise(() =>
          toolOutcome(other, { prompt: "a child", mode: "current_checkout" })
        )
        const tracker = newTracker("mcp subscriber")
        yield* attach(tracker, w.server.url, w.server.ownerToken)
        const before = fingerprint(w, yield* snapshotOf(w.client))

        const cases = mcpCases(w, otherChild.threadId ?? "missing-child")
        const started = Date.now()
        const { outcomes, reopened } = yield* promise(() => runMcpCases(w.server.url, w.token, cases))
        reportCases(report, outcomes)
        report.figure("MCP sessions the server ended (then reopened)", reopened)
        report.figure("time for all cases", `${((Date.now() - started) / 1000).toFixed(1)} s`)

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

        const races = yield* mcpRaces(w)
        for (const r of races) report.check(`race: ${r.race}`, r.problems)
        report.table({
          title: "Races (concurrent, SDK clients)",
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
