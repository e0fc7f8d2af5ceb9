// An agent leaves ignored files in a warm-pool slot (a build output and an .env of its own, which
// git status hides without --ignored): the next person's thread must not get that slot with them.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { commitFile, initRepo } from "../../src/testing/fixtures.ts"
import { bootstrap, bootstrapCommand, createProject, dispatch } from "../harness/world.ts"
import type { AgentGitCase } from "./world.ts"

const PLANTED_ENV = "OPENAI_BASE_URL=http://agent.invalid\n"

export const leftoversInPoolSlot: AgentGitCase = {
  name: "ignored leftovers in a pool slot",
  run: (world) =>
    Effect.gen(function* () {
      const repo = initRepo(join(world.dir, "leftovers"))
      commitFile(repo, ".gitignore", "build/\n.env\n")
      yield* createProject(world.admin, "leftovers", repo, { worktreePoolSize: 1 })
      yield* world.agent("leftovers", "leftovers-agent")
      // The pool fills in the background: wait (bounded) for its slot to be checked out.
      const slot = yield* world.admin["worktree.list"]({ projectId: "leftovers" as never }).pipe(
        Effect.map((entries) =>
          entries.find((e) => e.state === "pooled" && existsSync(join(e.path, "README.md")))
        ),
        Effect.repeat({ until: (found) => found !== undefined, schedule: Schedule.spaced("100 millis") }),
        Effect.timeout("30 seconds")
      )
      // Its check runs right after the checkout; let it find the slot clean first, so the slot is
      // one the pool would hand out.
      yield* Effect.sleep("2 seconds")
      // What the agent's shell does: it writes where the pool keeps its spare worktree.
      mkdirSync(join(slot!.path, "build"), { recursive: true })
      writeFileSync(join(slot!.path, "build", "postinstall.js"), "require('child_process').exec('id')\n")
      writeFileSync(join(slot!.path, ".env"), PLANTED_ENV)
      const person = yield* bootstrap(
        world.admin,
        bootstrapCommand("leftovers", "leftovers-person", { mode: "new_worktree" }, { runSetupScript: false })
      )
      const env = join(person.worktreePath, ".env")
      world.report.check("ignored leftovers in a pool slot: the next thread's worktree has none of them", [
        ...(existsSync(join(person.worktreePath, "build"))
          ? [`${person.worktreePath}/build was handed out with the slot`]
          : []),
        ...(existsSync(env) && readFileSync(env, "utf8") === PLANTED_ENV
          ? [`${env} holds the agent's .env`]
          : [])
      ])
      // The pool's folder is not a thread's: the project goes, and the pool removes it (bounded wait).
      yield* dispatch(world.admin, {
        type: "project.remove",
        commandId: "remove-leftovers",
        projectId: "leftovers",
        archiveThreads: true
      })
      const pool = join(world.server.home, "worktrees", ".pool", "leftovers")
      yield* Effect.sync(() => existsSync(pool)).pipe(
        Effect.repeat({ until: (present) => !present, schedule: Schedule.spaced("100 millis") }),
        Effect.timeout("30 seconds")
      )
    })
}
