// Rights through the provider: an agent whose thread is not full-access asks for a child run by the
// command provider (a CLI agent with no sandbox and no approvals), alone, in a batch and in its
// own checkout. Each is refused before anything is made: no thread, no turn, no worktree. A
// full-access thread may start one (so the refusals are the rule, not a provider that is not set
// up), and a new project's threads start sandboxed. The scenario's server runs no agents, so what
// would run is the thread and its turn, which must not exist.
import { join } from "node:path"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import * as Effect from "effect/Effect"
import { git, initRepo } from "../../src/testing/fixtures.ts"
import { promise } from "../harness/scenario.ts"
import { createProject, waitThread } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

/** The entries' answers of a t3_threads_start call: "ok" or the error's reason. */
const batchOutcome = (client: Client, args: Record<string, unknown>) =>
  promise(async () => {
    const result = await client.callTool({ name: "t3_threads_start", arguments: args })
    if (result.isError === true) return [`call failed: ${JSON.stringify(result.content).slice(0, 200)}`]
    const threads = (
      result.structuredContent as { threads?: Array<{ ok: boolean; error?: { reason?: string } }> }
    ).threads
    return (threads ?? []).map((t) => (t.ok ? "ok" : String(t.error?.reason)))
  })

export const modesCase: AgentGitCase = {
  name: "a command agent from a parent that is not full-access",
  run: (world) =>
    Effect.gen(function* () {
      const repo = initRepo(join(world.dir, "modes"))
      // The command provider is set up for the project, so only the parent's mode can refuse.
      yield* createProject(world.admin, "modes", repo, {
        agentCommand: ["/bin/sh", "-c", 'echo "$1"', "agent", "{prompt}"]
      })
      const careful = yield* world.agent("modes", "modes-careful", { runtimeMode: "approval-required" })
      // No runtimeMode: the project's default, which a new project has as sandboxed.
      const sandboxed = yield* world.agent("modes", "modes-sandboxed")
      const free = yield* world.agent("modes", "modes-free", { runtimeMode: "full-access" })
      const worktrees = () => git(repo, "worktree", "list", "--porcelain").split("\n\n").length

      const before = worktrees()
      const refusals: Array<string> = []
      for (const [name, client] of [
        ["approval-required", careful],
        ["sandboxed", sandboxed]
      ] as const) {
        for (const mode of ["new_worktree", "current_checkout"]) {
          const asked = yield* promise(() =>
            toolOutcome(client, { prompt: `${name}-${mode}`, provider: "command", mode })
          )
          if (asked.answer !== "forbidden") refusals.push(`${name} parent, ${mode}: answered ${asked.answer}`)
        }
        const batch = yield* batchOutcome(client, {
          provider: "command",
          threads: [{ prompt: `${name}-batch-1` }, { prompt: `${name}-batch-2`, mode: "current_checkout" }]
        })
        if (batch.some((answer) => answer !== "forbidden"))
          refusals.push(`${name} parent, t3_threads_start: answered ${batch.join(", ")}`)
      }
      const children = (yield* world.admin["orchestration.getSnapshot"]()).threads.filter(
        (t) => t.parentThreadId === "modes-careful" || t.parentThreadId === "modes-sandboxed"
      )
      world.report.check(
        "a command agent is refused under an approval-required or sandboxed parent, and nothing ran",
        [
          ...refusals,
          ...children.map(
            (t) => `child ${t.id} (${t.provider}, turn ${t.latestTurn?.status ?? "none"}) exists`
          ),
          ...(worktrees() === before ? [] : [`${worktrees() - before} worktree(s) were added`])
        ]
      )

      const allowed = yield* promise(() =>
        toolOutcome(free, { prompt: "from-full-access", provider: "command" })
      )
      const child =
        allowed.threadId === undefined
          ? undefined
          : // The answer comes once the workspace exists; the turn is asked for right after.
            yield* waitThread(world.admin, allowed.threadId, (t) => t.latestTurn !== null, "10 seconds")
      world.report.check("a full-access parent may start a command agent", [
        ...(allowed.answer === "ok" ? [] : [`answered ${allowed.answer}`]),
        ...(child === undefined || child.provider === "command"
          ? []
          : [`the child runs ${child.provider}, not the command agent`]),
        ...(child?.latestTurn === null ? ["the child has no turn"] : [])
      ])

      const project = (yield* world.admin["project.list"]()).find((p) => p.id === "modes")
      const thread = yield* world.admin["thread.get"]({ threadId: "modes-sandboxed" as never })
      world.report.check("a new project's threads start sandboxed", [
        ...(project?.defaultRuntimeMode === "sandboxed"
          ? []
          : [`the project's default is ${project?.defaultRuntimeMode}`]),
        ...(thread.runtimeMode === "sandboxed"
          ? []
          : [`a thread with no runtimeMode got ${thread.runtimeMode}`])
      ])
    })
}
