// An agent with git, as a hostile one would act: it writes refs, git config, hooks, attributes and
// worktree registrations in its own worktree and in the shared .git, then calls the MCP tools with
// its token. None of it may make the server run anything, redirect another thread or lose work.
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../src/testing/fixtures.ts"
import { CASES } from "./agentGit/cases.ts"
import { makeAgent } from "./agentGit/world.ts"
import { checkServerInvariants } from "./harness/invariants.ts"
import { runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient } from "./harness/world.ts"

describe("reliability: agent with git", () => {
  it.live(
    "no ref, config, hook or registration an agent plants runs code, redirects a thread or loses work",
    () =>
      runScenario("agent-git", "Agent with git", (report) =>
        Effect.gen(function* () {
          const dir = yield* tempDir("spindle-agent-git-")
          const server = yield* startSpindle(join(dir, "home"))
          const admin = yield* adminClient(server)
          const world = { dir, server, admin, report, agent: makeAgent(server, admin) }
          for (const c of CASES) {
            yield* Effect.scoped(c.run(world)).pipe(
              Effect.catchCause((cause) =>
                Effect.sync(() => report.check(`${c.name}: ran to the end`, [String(cause).slice(0, 400)]))
              )
            )
          }
          report.figure("cases", CASES.length)
          yield* checkServerInvariants(report, server, admin, [server.ownerToken])
        })
      )
  )
})
