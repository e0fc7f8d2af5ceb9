// A moved default branch with a new setup script: the agent commits a script of its own in its
// worktree and points refs/heads/main at it (`git update-ref`: the .git is shared), then starts a
// child; the owner starts a thread too. Neither runs the agent's script, and both say how to
// approve it. A rewrite of main (an unrelated commit) is reported on the next start.
import { existsSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { BootstrapResult, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import { commitFile, git, initRepo } from "../../src/testing/fixtures.ts"
import { promise } from "../harness/scenario.ts"
import { bootstrap, bootstrapCommand, createProject, waitThread } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

const APPROVE = "spindle project update pin --approve-setup"
const settled = (thread: Thread) => thread.setup.status !== "pending" && thread.setup.status !== "running"

/** What the start answered and what the thread shows once its setup settled, as problems. */
const carriesWarning = (who: string, warnings: ReadonlyArray<string>, thread: Thread | undefined) => [
  ...(warnings.some((w) => w.includes(APPROVE)) ? [] : [`${who}'s start has no warning naming '${APPROVE}'`]),
  ...(thread === undefined ? [`${who}'s thread was not created`] : []),
  ...(thread !== undefined && thread.setup.status !== "unapproved"
    ? [`${who}'s setup ended ${thread.setup.status}, expected unapproved`]
    : []),
  ...(thread !== undefined && !thread.setup.logTail.includes(APPROVE)
    ? [`${who}'s setup log does not name '${APPROVE}'`]
    : [])
]

export const setupPin: AgentGitCase = {
  name: "a moved default branch with a new setup script",
  run: (world) =>
    Effect.gen(function* () {
      const repo = initRepo(join(world.dir, "setup-pin"))
      commitFile(repo, ".spindle/setup.sh", "#!/bin/sh\necho approved setup\n")
      const marker = join(world.dir, "setup-pin-agent-script-ran")
      yield* createProject(world.admin, "pin", repo)
      const agent = yield* world.agent("pin", "pin-agent")
      const start = (args: Record<string, unknown>) => promise(() => toolOutcome(agent, args))
      const settledThread = (threadId: string | undefined) =>
        threadId === undefined ? Effect.succeed(undefined) : waitThread(world.admin, threadId, settled)

      // The agent's first child works in a worktree of its own, from main: the user's script runs.
      const first = yield* start({ prompt: "a worktree to work in" })
      const own = yield* settledThread(first.threadId)
      const worktree = own?.workspace.worktreePath ?? null
      world.report.check("setup pin: the approved script runs", [
        ...(first.answer === "ok" ? [] : [`the first start answered ${first.answer}`]),
        ...(own?.setup.status === "succeeded" ? [] : [`its setup ended ${own?.setup.status}`])
      ])
      if (worktree === null) return

      // From that worktree: a script of its own on a commit, and main moved to it.
      const script = join(worktree, ".spindle", "setup.sh")
      writeFileSync(script, `#!/bin/sh\ntouch '${marker}'\n`)
      git(worktree, "add", ".spindle/setup.sh")
      git(worktree, "commit", "--quiet", "-m", "a better setup")
      git(worktree, "update-ref", "refs/heads/main", "HEAD")

      const child = yield* start({ prompt: "work from main" })
      const childThread = yield* settledThread(child.threadId)
      const personResult = yield* bootstrap(
        world.admin,
        bootstrapCommand("pin", "pin-person", { mode: "new_worktree" }),
        "turn"
      ).pipe(Effect.orElseSucceed(() => undefined as BootstrapResult | undefined))
      const personThread = yield* settledThread("pin-person")
      world.report.check("setup pin: an agent's script on a moved main never runs", [
        ...(child.answer === "ok" ? [] : [`the child's start answered ${child.answer}`]),
        ...(personResult === undefined ? ["the person's start failed"] : []),
        ...(existsSync(marker) ? ["the agent's script ran on the host"] : []),
        ...carriesWarning("the child", child.warnings, childThread),
        ...carriesWarning("the person", personResult?.warnings ?? [], personThread)
      ])

      // A rewrite rather than a move forward: main no longer holds the commit the user approved.
      git(worktree, "checkout", "--quiet", "--orphan", "pin-elsewhere")
      git(worktree, "commit", "--quiet", "--allow-empty", "-m", "unrelated history")
      git(worktree, "update-ref", "refs/heads/main", "HEAD")
      const after = yield* bootstrap(
        world.admin,
        bootstrapCommand("pin", "pin-after-rewrite", { mode: "new_worktree" }, { runSetupScript: false })
      ).pipe(Effect.orElseSucceed(() => undefined as BootstrapResult | undefined))
      world.report.check("setup pin: a rewritten main is reported on the next start", [
        ...(after === undefined ? ["the start failed"] : []),
        ...(after !== undefined && !after.warnings.some((w) => w.includes("history was rewritten"))
          ? [`no rewrite warning in: ${after.warnings.join(" | ")}`]
          : [])
      ])
    })
}
