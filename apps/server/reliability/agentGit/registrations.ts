// "Agent with git" cases on what git registers and fetches: a worktree registration the agent
// forged in the shared .git (for a folder outside the roots and one beside the checkout), a warm
// pool slot adopted as an existing worktree, and a submodule URL on loopback committed on the
// agent's branch. None may bind a thread, fetch anything or lose a file.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { git } from "../../src/testing/fixtures.ts"
import { recordingServer } from "../../src/testing/remotes.ts"
import { promise } from "../harness/scenario.ts"
import { createProject, dispatch, seededRepo, waitThread } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"
import type { AgentGitCase } from "./world.ts"

/** What an agent with write access to `.git` writes to register `target` as a worktree. */
const forgeRegistration = (repo: string, name: string, target: string) => {
  const admin = join(repo, ".git", "worktrees", name)
  mkdirSync(admin, { recursive: true })
  writeFileSync(join(admin, "gitdir"), `${join(target, ".git")}\n`)
  writeFileSync(join(admin, "commondir"), "../..\n")
  writeFileSync(join(admin, "HEAD"), `${git(repo, "rev-parse", "HEAD").trim()}\n`)
}

const expectRefused = (label: string, answer: { readonly answer: string }) =>
  answer.answer === "forbidden" ? [] : [`${label}: answered ${answer.answer}, expected forbidden`]

const forgedRegistration: AgentGitCase = {
  name: "forged worktree registration",
  run: (world) =>
    Effect.gen(function* () {
      const { repo } = seededRepo(join(world.dir, "forge"), "repo")
      // One folder far from the checkout (as /etc would be), one right beside it.
      const far = join(world.dir, "forge-far", "etc")
      const near = join(world.dir, "forge", "notes")
      for (const folder of [far, near]) {
        mkdirSync(folder, { recursive: true })
        writeFileSync(join(folder, "passwd"), "root:x:0:0\n")
      }
      yield* createProject(world.admin, "rg-forge", repo)
      const agent = yield* world.agent("rg-forge", "rg-forge-agent")
      forgeRegistration(repo, "etc", far)
      forgeRegistration(repo, "notes", near)
      const listed = git(repo, "worktree", "list", "--porcelain")
      const start = (worktreePath: string) =>
        promise(() => toolOutcome(agent, { prompt: "work there", mode: "existing_worktree", worktreePath }))
      const farAnswer = yield* start(far)
      const nearAnswer = yield* start(near)
      world.report.check("a forged worktree registration is never adopted", [
        ...(listed.includes(`worktree ${far}\n`)
          ? []
          : ["the forgery did not register (the case proves nothing)"]),
        ...expectRefused("outside the roots", farAnswer),
        ...expectRefused("beside the checkout", nearAnswer),
        ...[far, near].flatMap((folder) =>
          readdirSync(folder).join(",") === "passwd" &&
          readFileSync(join(folder, "passwd"), "utf8") === "root:x:0:0\n"
            ? []
            : [`${folder} was changed`]
        )
      ])
    })
}

const adoptedPoolSlot: AgentGitCase = {
  name: "adopted pool slot",
  run: (world) =>
    Effect.gen(function* () {
      const { repo } = seededRepo(join(world.dir, "pool"), "repo")
      yield* createProject(world.admin, "rg-pool", repo, { worktreePoolSize: 1 })
      const folder = join(world.server.home, "worktrees", ".pool", "rg-pool")
      // The pool fills in the background once the project exists.
      const slot = yield* Effect.sync(() =>
        existsSync(folder)
          ? readdirSync(folder).find((name) => existsSync(join(folder, name, ".git")))
          : undefined
      ).pipe(
        Effect.repeat({ until: (found) => found !== undefined, schedule: Schedule.spaced("100 millis") }),
        Effect.timeoutOption("60 seconds"),
        Effect.map((found) => (found._tag === "Some" ? found.value : undefined))
      )
      if (slot === undefined) {
        world.report.check("a pool slot is never adopted", ["no pool slot appeared in 60 s"])
        return
      }
      const path = join(folder, slot)
      const agent = yield* world.agent("rg-pool", "rg-pool-agent")
      const answer = yield* promise(() =>
        toolOutcome(agent, { prompt: "work in the slot", mode: "existing_worktree", worktreePath: path })
      )
      const { threads } = yield* world.admin["orchestration.getSnapshot"]()
      // The pool's slots are its own; the project goes, and the pool takes its slots with it.
      yield* dispatch(world.admin, {
        type: "project.remove",
        commandId: "remove-rg-pool",
        projectId: "rg-pool",
        archiveThreads: true
      })
      const cleared = yield* Effect.sync(() => !existsSync(folder)).pipe(
        Effect.repeat({ until: (gone) => gone, schedule: Schedule.spaced("100 millis") }),
        Effect.timeoutOption("30 seconds")
      )
      world.report.check("a pool slot is never adopted", [
        ...expectRefused("adopting the slot", answer),
        ...(cleared._tag === "Some" ? [] : [`${folder} was left after the project was removed`]),
        ...threads
          .filter((thread) => thread.workspace.worktreePath?.startsWith(folder) === true)
          .map((thread) => `thread ${thread.id} is bound to ${thread.workspace.worktreePath}`)
      ])
    })
}

const loopbackSubmodule: AgentGitCase = {
  name: "submodule URL on loopback",
  run: (world) =>
    Effect.gen(function* () {
      const recorder = yield* recordingServer
      const { repo } = seededRepo(join(world.dir, "submodule"), "repo")
      // The user turns submodules on while main has none: no URL is allowed.
      yield* createProject(world.admin, "rg-sub", repo, { initSubmodules: true })
      const agent = yield* world.agent("rg-sub", "rg-sub-agent")
      // The agent's branch: a submodule whose URL is the loopback server (a gitlink and .gitmodules).
      const worktree = join(world.dir, "submodule", "agent-wt")
      git(repo, "worktree", "add", "--quiet", "-b", "agent/sub", worktree)
      const head = git(worktree, "rev-parse", "HEAD").trim()
      git(worktree, "config", "-f", ".gitmodules", "submodule.vendor/x.path", "vendor/x")
      git(worktree, "config", "-f", ".gitmodules", "submodule.vendor/x.url", `${recorder.url}/x.git`)
      git(worktree, "update-index", "--add", "--cacheinfo", `160000,${head},vendor/x`)
      git(worktree, "add", ".gitmodules")
      git(worktree, "commit", "--quiet", "-m", "vendor x")
      const answer = yield* promise(() => toolOutcome(agent, { prompt: "build it", baseBranch: "agent/sub" }))
      const child =
        answer.threadId === undefined
          ? undefined
          : yield* waitThread(world.admin, answer.threadId, (t) => t.bootstrap.status !== "running")
      world.report.check("a submodule URL on an agent's branch is never fetched", [
        ...(answer.answer === "ok" ? [] : [`the start answered ${answer.answer}`]),
        ...(child === undefined || child.bootstrap.status === "completed"
          ? []
          : [`the child's bootstrap ended ${child.bootstrap.status}`]),
        ...recorder.requests.map((request) => `the loopback server received ${request}`)
      ])
    })
}

export const REGISTRATION_CASES: ReadonlyArray<AgentGitCase> = [
  forgedRegistration,
  adoptedPoolSlot,
  loopbackSubmodule
]
