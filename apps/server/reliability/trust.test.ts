// The trust boundary, as an agent would test it against the real server over MCP: a setup script
// from a branch it chose or from its own checkout never runs; a `.worktreeinclude` copy never
// writes through a symlink out of the worktree; the default branch's script runs with a minimal
// environment (not the server's); a child cannot be freer than its parent.
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { tempDir } from "../src/testing/fixtures.ts"
import { makeAgent } from "./agentGit/world.ts"
import { checkServerInvariants } from "./harness/invariants.ts"
import { promise, runScenario } from "./harness/scenario.ts"
import { startSpindle } from "./harness/spindle.ts"
import { adminClient, createProject, waitThread } from "./harness/world.ts"
import { toolOutcome } from "./hostile/mcpRaces.ts"
import { tamperedRepos } from "./trust/fixture.ts"

const CANARY = "reliability-canary-7f3a"
const settled = (status: string) => status !== "pending" && status !== "running"

describe("reliability: trust boundary", () => {
  it.live("nothing an agent writes makes the server run code or write outside its worktree", () =>
    runScenario("trust", "Trust boundary", (report) =>
      Effect.gen(function* () {
        const dir = yield* tempDir("spindle-trust-")
        const repos = tamperedRepos(dir)
        const server = yield* startSpindle(join(dir, "home"), { env: { RELIABILITY_CANARY: CANARY } })
        const admin = yield* adminClient(server)
        yield* createProject(admin, "pt", repos.repo)
        yield* createProject(admin, "pe", repos.envRepo)
        const parent = makeAgent(server, admin)
        const agent = yield* parent("pt", "agent")
        const envAgent = yield* parent("pe", "env-agent")
        const planner = yield* parent("pt", "planner", {
          interactionMode: "plan",
          runtimeMode: "approval-required"
        })
        const start = (client: typeof agent, args: Record<string, unknown>) =>
          promise(() => toolOutcome(client, args))
        const setupOf = (threadId: string | undefined) =>
          threadId === undefined
            ? Effect.succeed("no thread")
            : Effect.map(
                waitThread(admin, threadId, (t) => settled(t.setup.status)),
                (t) => t.setup.status
              )

        // 1. A script committed on the branch the agent chose as its base: asking for setup there is
        // refused, and by default setup is skipped (the tree is the agent's), so nothing of it runs.
        const asked = yield* start(agent, {
          prompt: "set up my branch",
          baseBranch: "agent/evil",
          runSetupScript: true
        })
        const fromBranch = yield* start(agent, { prompt: "work on my branch", baseBranch: "agent/evil" })
        const branchSetup = yield* setupOf(fromBranch.threadId)
        report.check("a setup script on the agent's branch never runs", [
          ...(asked.answer === "forbidden"
            ? []
            : [`asking for setup answered ${asked.answer}, expected forbidden`]),
          ...(fromBranch.answer === "ok" ? [] : [`the start answered ${fromBranch.answer}`]),
          ...(existsSync(repos.branchMarker) ? ["it ran"] : []),
          ...(branchSetup === "not-requested" ? [] : [`setup ended ${branchSetup}, expected not-requested`])
        ])
        // 2. The include copy from that branch's worktree, where config/ and local.env are symlinks out.
        report.check(".worktreeinclude never writes through a symlink", [
          ...readdirSync(repos.outsideTarget).map(
            (f) => `${f} was written into a folder outside the worktree`
          ),
          ...(existsSync(repos.plantedFile)
            ? ["a dangling symlink's target outside the worktree was created"]
            : [])
        ])

        // 3. A script the agent wrote into its own checkout.
        const fromCheckout = yield* start(agent, {
          prompt: "in my checkout",
          mode: "current_checkout",
          runSetupScript: true
        })
        report.check("a setup script written into the agent's checkout never runs", [
          ...(fromCheckout.answer === "forbidden"
            ? []
            : [`the start answered ${fromCheckout.answer}, expected forbidden`]),
          ...(existsSync(repos.checkoutMarker) ? ["it ran"] : [])
        ])

        // 4. The default branch's script runs, with a minimal environment.
        const withEnv = yield* start(envAgent, { prompt: "set up", runSetupScript: true })
        const envSetup = yield* setupOf(withEnv.threadId)
        const thread =
          withEnv.threadId === undefined
            ? undefined
            : yield* admin["thread.get"]({ threadId: withEnv.threadId as never })
        const envFile = join(thread?.workspace.worktreePath ?? "/nonexistent", "setup-env.txt")
        const env = existsSync(envFile) ? readFileSync(envFile, "utf8") : ""
        report.check("the default branch's setup script runs with a minimal environment", [
          ...(envSetup === "succeeded" ? [] : [`setup ended ${envSetup}`]),
          ...(env.includes(CANARY) ? ["the server's own environment reached the script"] : []),
          ...(/^SPINDLE_WORKTREE_PATH=/mu.test(env) || env === ""
            ? []
            : ["SPINDLE_WORKTREE_PATH is missing"]),
          ...(/\bsp[nc]_[A-Za-z0-9_-]{43}/u.test(env) ? ["a token is in the script's environment"] : [])
        ])

        // 5. A child no freer than its parent.
        const freer = yield* start(planner, {
          prompt: "do it",
          mode: "current_checkout",
          interactionMode: "default"
        })
        const wilder = yield* start(planner, {
          prompt: "do it",
          mode: "current_checkout",
          runtimeMode: "full-access"
        })
        const plain = yield* start(planner, { prompt: "plan it", mode: "current_checkout" })
        const child =
          plain.threadId === undefined
            ? undefined
            : yield* admin["thread.get"]({ threadId: plain.threadId as never })
        report.check("a child cannot be freer than its parent", [
          ...(freer.answer === "forbidden"
            ? []
            : [`interactionMode default under a plan parent answered ${freer.answer}`]),
          ...(wilder.answer === "forbidden"
            ? []
            : [`runtimeMode full-access under approval-required answered ${wilder.answer}`]),
          ...(child?.interactionMode === "plan" && child.runtimeMode === "approval-required"
            ? []
            : [`a child with no modes got ${child?.interactionMode}/${child?.runtimeMode}`])
        ])

        yield* checkServerInvariants(report, server, admin, [server.ownerToken])
      })
    )
  )
})
