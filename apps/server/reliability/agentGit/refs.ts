// Branch names and refs as a hostile agent uses them: it plants `refs/heads/<sha of main>`, an
// abbreviation of it and `refs/heads/origin/main` with plain git in its own worktree, after which
// a person's start from main (by name, by commit id, as origin/main) must still begin at main's
// real commit; and it asks over MCP for branches named like main's commit, a remote's branch, a
// special ref, a tag or a look-alike of main, which are all refused with nothing created.
import { existsSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import { commitFile, git, initRepo } from "../../src/testing/fixtures.ts"
import { promise } from "../harness/scenario.ts"
import { bootstrap, bootstrapCommand, createProject, waitThread } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

const PROJECT = "ag-refs"

const refNames = (repo: string) =>
  git(repo, "for-each-ref", "--format=%(refname)", "refs/heads")
    .split("\n")
    .filter((r) => r !== "")

export const refsCase: AgentGitCase = {
  name: "sha, ref, special, tag and look-alike branch names",
  run: (world) =>
    Effect.gen(function* () {
      const repo = initRepo(join(world.dir, "refs-repo"))
      const remote = join(world.dir, "refs-remote.git")
      git(repo, "clone", "--quiet", "--bare", repo, remote)
      git(repo, "remote", "add", "origin", remote)
      git(repo, "fetch", "--quiet", "origin")
      git(repo, "tag", "v1.0")
      const main = git(repo, "rev-parse", "refs/heads/main").trim()
      yield* createProject(world.admin, PROJECT, repo)
      const agent = yield* world.agent(PROJECT, "ag-refs-agent")

      // 1. The agent's own child worktree, where it plants refs with plain git (the .git is shared).
      const child = yield* promise(() => toolOutcome(agent, { prompt: "my work", runSetupScript: false }))
      const childThread =
        child.threadId === undefined
          ? undefined
          : yield* waitThread(world.admin, child.threadId, (t) => t.workspace.worktreePath !== null)
      const worktree = childThread?.workspace.worktreePath ?? null
      if (worktree === null) {
        world.report.check(
          "a person's start from main begins at main's commit after the agent planted refs",
          [`the agent's own start answered ${child.answer}`]
        )
        return
      }
      commitFile(worktree, "PLANTED.md", "the agent's commit\n")
      const planted = git(worktree, "rev-parse", "HEAD").trim()
      git(worktree, "update-ref", `refs/heads/${main}`, planted)
      git(worktree, "update-ref", `refs/heads/${main.slice(0, 10)}`, planted)
      git(worktree, "update-ref", "refs/heads/origin/main", planted)

      // 2. A person's starts over the admin client: the default branch, main by commit, origin/main.
      const problems: Array<string> = []
      const starts: ReadonlyArray<readonly [label: string, workspace: Record<string, unknown>]> = [
        ["the default branch", { mode: "new_worktree" }],
        ["main's commit id", { mode: "new_worktree", baseBranch: main }],
        ["main's abbreviated id", { mode: "new_worktree", baseBranch: main.slice(0, 10) }],
        ["origin/main", { mode: "new_worktree", baseBranch: "origin/main" }]
      ]
      let n = 0
      for (const [label, workspace] of starts) {
        n++
        const threadId = `ag-refs-person-${n}`
        const started = yield* bootstrap(
          world.admin,
          bootstrapCommand(PROJECT, threadId, workspace, { runSetupScript: false })
        ).pipe(Effect.result)
        if (started._tag === "Failure") {
          problems.push(`from ${label}: the start failed (${String(started.failure).slice(0, 200)})`)
          continue
        }
        const path = started.success.worktreePath
        const head = git(path, "rev-parse", "HEAD").trim()
        if (head !== main)
          problems.push(`from ${label}: started at ${head.slice(0, 10)}, not main's ${main.slice(0, 10)}`)
        if (existsSync(join(path, "PLANTED.md")))
          problems.push(`from ${label}: the agent's file is in the worktree`)
      }
      world.report.figure("people's starts after the agent planted refs", starts.length)
      world.report.check(
        "a person's start from main begins at main's commit after the agent planted refs",
        problems
      )

      // 3. Names that would shadow something, asked for over MCP (last: before the fix each one
      // accepted became a thread and used up the agent's capacity for its own start).
      const names = [
        main,
        main.slice(0, 7),
        "origin/main",
        "refs/heads/main",
        "heads/x",
        "HEAD",
        "FETCH_HEAD",
        "ORIG_HEAD",
        "v1.0",
        "m\u0430in",
        "main\u200b",
        "fe\u202eature"
      ]
      const before = refNames(repo)
      const answers: Array<string> = []
      for (const branch of names) {
        const asked = yield* promise(() => toolOutcome(agent, { prompt: "work", branch, baseBranch: "main" }))
        if (asked.answer !== "validation") answers.push(`${JSON.stringify(branch)} answered ${asked.answer}`)
      }
      // The refusal says why and what to use instead.
      const told = yield* promise(() =>
        agent.callTool({ name: "t3_thread_start", arguments: { prompt: "work", branch: main } })
      )
      const text = (told.content as Array<{ text?: string }>)[0]?.text ?? ""
      if (!text.includes("looks like a commit id") || !text.includes("Add a word"))
        answers.push(`the refusal of main's id does not say why: ${text.slice(0, 200)}`)
      const made = refNames(repo).filter((ref) => !before.includes(ref))
      world.report.figure("shadowing branch names an agent asked for", names.length)
      world.report.figure(
        "of them refused (validation)",
        names.length - answers.filter((a) => a.startsWith('"')).length
      )
      world.report.check("an agent's branch named like a commit, a ref, a tag or main is refused", [
        ...answers,
        ...made.map((ref) => `${ref} was created`)
      ])
    })
}
