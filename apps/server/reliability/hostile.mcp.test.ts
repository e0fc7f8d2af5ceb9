// Hostile inputs over MCP against the real server, with a real provider token: malformed calls
// are JSON-RPC errors, refused ones are tool errors with a reason, the server stays up and nothing
// changes; then races of retries and of admission limits; then a flood of sessions from one token;
// then the invariants.
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { DEFAULT_MCP_SESSION_LIMITS } from "../src/config/ServerConfig.ts"
import { getJson } from "../src/testing/http.ts"
import { checkInvariants } from "./harness/invariants.ts"
import { connectMcp } from "./harness/mcp.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { attach, newTracker } from "./harness/tracker.ts"
import { changes, fingerprint, hostileWorld, snapshotOf } from "./hostile/fixture.ts"
import { mcpCases } from "./hostile/mcpCases.ts"
import { mcpRaces, toolOutcome } from "./hostile/mcpRaces.ts"
import { floodSessions } from "./hostile/mcpSessions.ts"
import { reportCases } from "./hostile/report.ts"
import { runMcpCases } from "./hostile/runMcp.ts"

const FLOOD_CALLS = 600
const SESSIONS_PER_TOKEN = DEFAULT_MCP_SESSION_LIMITS.perToken
/**
 * Loose: V8 sizes its heap to the garbage 600 session setups make (RSS levels off near 300 MiB
 * after about 2,500 calls, bound or no bound); what the bound changes is the sessions held.
 */
const FLOOD_RSS_BOUND_MIB = 256

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

        // An agent that initializes in a loop and never ends a session (its own token, so the
        // sessions counted are the flood's).
        const floodToken = (yield* w.client["token.issueMcp"]({ threadId: "mparent" as never })).token
        const flood = yield* promise(() => floodSessions(w.server.url, floodToken, w.server.pid, FLOOD_CALLS))
        const growthMiB = (flood.rssAfterKiB - flood.rssBeforeKiB) / 1024
        report.check(
          `${FLOOD_CALLS} initialize calls with one token: each answered, at most ${SESSIONS_PER_TOKEN} sessions held`,
          [
            ...(flood.statuses[200] === FLOOD_CALLS ? [] : [`answers: ${JSON.stringify(flood.statuses)}`]),
            ...(flood.held <= SESSIONS_PER_TOKEN ? [] : [`${flood.held} sessions still answer`])
          ]
        )
        report.check(
          `the server's RSS grows by less than ${FLOOD_RSS_BOUND_MIB} MiB over the flood`,
          growthMiB < FLOOD_RSS_BOUND_MIB ? [] : [`grew ${growthMiB.toFixed(0)} MiB`]
        )
        report.figure(
          `sessions held after ${FLOOD_CALLS} initialize calls (bound ${SESSIONS_PER_TOKEN})`,
          flood.held
        )
        report.figure(
          "server RSS before / after the flood",
          `${(flood.rssBeforeKiB / 1024).toFixed(0)} / ${(flood.rssAfterKiB / 1024).toFixed(0)} MiB`
        )

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
