// Programs an agent plants for the host's git: a fake git dir behind its worktree's .git (its own
// config running fsmonitor), core.hooksPath with post-checkout hooks, and filter and diff drivers
// in the shared .git/config that the repository's .gitattributes selects. Then the owner looks at
// the threads (show, diff, worktrees), the parent asks t3_thread_status and t3_thread_wait, and new
// worktrees are made: none of the programs may run, and the fake-gitdir thread is refused and
// marked with why.
import { existsSync, mkdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import type { Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitFile, initRepo } from "../../src/testing/fixtures.ts"
import {
  markersIn,
  PLANTED_ATTRIBUTES,
  plantDrivers,
  plantFakeGitDir,
  plantHooksPath
} from "../../src/testing/planted.ts"
import { promise } from "../harness/scenario.ts"
import { bootstrap, bootstrapCommand, createProject, dispatch, getThread, outcome } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

const callTool = (client: Client, name: string, args: Record<string, unknown>) =>
  promise(() => client.callTool({ name, arguments: args })).pipe(
    Effect.map((result) => (result.isError === true ? "error" : "ok")),
    Effect.catch(() => Effect.succeed("rpc error"))
  )

export const plantedPrograms: AgentGitCase = {
  name: "planted programs",
  run: (world) =>
    Effect.gen(function* () {
      const { admin, report } = world
      const markers = join(world.dir, "planted-markers")
      mkdirSync(markers, { recursive: true })
      const repo = initRepo(join(world.dir, "planted-repo"))
      commitFile(repo, ".gitattributes", PLANTED_ATTRIBUTES)
      commitFile(repo, "notes.txt", "the user's notes\n")
      yield* createProject(admin, "planted", repo)
      const parent = yield* world.agent("planted", "planted-parent")
      const start = (prompt: string) => promise(() => toolOutcome(parent, { prompt }))
      const worktreeOf = (threadId: string | undefined) =>
        threadId === undefined
          ? Effect.succeed(null)
          : Effect.map(getThread(admin, threadId), (t) => t.workspace.worktreePath)

      // Two children; each agent plants from inside its own worktree.
      const faker = yield* start("plant a fake git dir")
      const planter = yield* start("plant hooks and drivers")
      const fakerPath = yield* worktreeOf(faker.threadId)
      const planterPath = yield* worktreeOf(planter.threadId)
      if (fakerPath === null || planterPath === null) {
        report.check("planted programs: children started", [`${faker.answer}, ${planter.answer}`])
        return
      }
      plantFakeGitDir(fakerPath, markers)
      commitFile(planterPath, "work.txt", "the agent's work\n")
      writeFileSync(join(planterPath, "notes.txt"), "the agent's edit\n")
      // The worktree's config is the shared .git/config: written from the agent's own checkout.
      plantHooksPath(planterPath, join(planterPath, ".hooks"), markers)
      plantDrivers(planterPath, markers)

      // The owner and the parent look at both threads.
      const looks: Array<string> = []
      for (const threadId of [faker.threadId, planter.threadId] as Array<string>) {
        const id = threadId as Thread["id"]
        looks.push(`show ${yield* outcome(admin["thread.show"]({ threadId: id }))}`)
        looks.push(`diff ${yield* outcome(admin["thread.diff"]({ threadId: id }))}`)
        looks.push(`status ${yield* callTool(parent, "t3_thread_status", { threadId })}`)
      }
      looks.push(`worktrees ${yield* outcome(admin["worktree.list"]({ projectId: "planted" as never }))}`)
      looks.push(
        `wait ${yield* callTool(parent, "t3_thread_wait", {
          threadIds: [faker.threadId, planter.threadId],
          timeoutSeconds: 1
        })}`
      )
      // New worktrees: a checkout runs post-checkout hooks and smudge filters, if any run at all.
      const later = yield* start("a new worktree after the planting")
      const owners = yield* outcome(
        bootstrap(admin, bootstrapCommand("planted", "planted-owner", { mode: "new_worktree" }))
      )
      const ownersPath = yield* worktreeOf(owners === "ok" ? "planted-owner" : undefined)

      report.figure("looks at the planted threads (show, diff, status, wait, worktrees)", looks.length)
      report.figure("planted programs that ran", markersIn(markers).length)
      report.check("planted programs: no fsmonitor, hook, filter or diff driver runs on the host", [
        ...markersIn(markers).map((m) => `${m} ran`)
      ])
      report.check("planted programs: the threads were looked at and new worktrees made", [
        ...(later.answer === "ok" ? [] : [`a child's start answered ${later.answer}`]),
        ...(owners === "ok" ? [] : [`the owner's start answered ${owners}`]),
        ...(ownersPath === null ? ["the owner's thread has no worktree"] : []),
        ...looks.filter((l) => /^(show|status|worktrees|wait) (?!ok)/.test(l)),
        ...(looks.includes("diff ok") ? [] : ["no thread's diff could be read"])
      ])
      // Archiving it looks at the worktree once more: kept as it is, nothing run, nothing removed.
      const archived = yield* outcome(
        dispatch(admin, { type: "thread.archive", commandId: "planted-archive", threadId: faker.threadId })
      )
      const marked = yield* getThread(admin, faker.threadId as string)
      const fakeDiff = looks[1]
      report.check("planted programs: the fake-gitdir thread is refused and marked with why", [
        ...(fakeDiff === "diff forbidden" ? [] : [`its diff answered '${fakeDiff}', expected forbidden`]),
        ...(marked.warnings.some((w) => w.includes("Spindle runs no git"))
          ? []
          : ["no warning on the thread"]),
        ...(marked.warnings.length === 1 ? [] : [`${marked.warnings.length} warnings, expected one`]),
        ...(archived === "ok" ? [] : [`archiving it answered ${archived}`]),
        ...(marked.cleanup?.outcome === "kept"
          ? []
          : [`its worktree was ${marked.cleanup?.outcome ?? "not looked at"}`]),
        ...(existsSync(join(fakerPath, ".fake")) ? [] : ["its worktree's files are gone"]),
        ...markersIn(markers).map((m) => `${m} ran on archive`)
      ])
    })
}
