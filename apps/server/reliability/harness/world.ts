// Building blocks the scenarios share: real repositories with a user's uncommitted change seeded
// in them, a typed admin client of a running server, and the few commands every scenario sends
// (register a project, start a bootstrap, read a thread).
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import type { BootstrapResult, SpindleError, Thread } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import { makeClient, type SpindleClient } from "../../src/cli/rpcClient.ts"
import { initRepo } from "../../src/testing/fixtures.ts"
import type { SeededChange } from "./invariants.ts"
import type { Spindle } from "./spindle.ts"

/** A repository with one commit on main, plus an untracked file and an edit a user left in its checkout. */
export const seededRepo = (dir: string, name: string) => {
  const repo = initRepo(join(dir, name))
  const notes: SeededChange = { path: join(repo, "USER_NOTES.md"), content: `notes of the user in ${name}\n` }
  const readme: SeededChange = {
    path: join(repo, "README.md"),
    content: "# test repository\nedited by the user\n"
  }
  for (const change of [notes, readme]) writeFileSync(change.path, change.content)
  return { repo, seeded: [notes, readme] }
}

/** Writes a file an agent would leave in a worktree; answers it as a change that must survive. */
export const seedAgentWork = (worktree: string, label: string): SeededChange => {
  const change = { path: join(worktree, "AGENT_WORK.md"), content: `work of the agent (${label})\n` }
  writeFileSync(change.path, change.content)
  return change
}

/** A typed client with the owner token (admin), closed with the scope. */
export const adminClient = (spindle: Spindle) => makeClient({ url: spindle.url, token: spindle.ownerToken })

export const dispatch = (
  client: SpindleClient,
  command: Record<string, unknown>,
  awaitWhat?: "workspace" | "turn"
) =>
  client["orchestration.dispatchCommand"]({
    command,
    ...(awaitWhat === undefined ? {} : { await: awaitWhat })
  })

export const createProject = (
  client: SpindleClient,
  projectId: string,
  repo: string,
  extra: Record<string, unknown> = {}
) =>
  dispatch(client, {
    type: "project.create",
    commandId: `create-${projectId}`,
    projectId,
    workspaceRoot: repo,
    defaultBranch: "main",
    ...extra
  })

/** A bootstrapped thread.turn.start in `mode`. */
export const bootstrapCommand = (
  projectId: string,
  threadId: string,
  workspace: Record<string, unknown>,
  extra: Record<string, unknown> = {}
) => ({
  type: "thread.turn.start",
  commandId: `boot-${threadId}`,
  threadId,
  prompt: `work for ${threadId}`,
  bootstrap: { createThread: { projectId }, workspace, ...extra }
})

export const bootstrap = (
  client: SpindleClient,
  command: ReturnType<typeof bootstrapCommand>,
  awaitWhat: "workspace" | "turn" = "workspace"
) => dispatch(client, command, awaitWhat) as Effect.Effect<BootstrapResult, unknown>

export const getThread = (client: SpindleClient, threadId: string) =>
  client["thread.get"]({ threadId: threadId as Thread["id"] })

/** Polls a thread (bounded) until `done` holds; answers the last state seen. */
export const waitThread = (
  client: SpindleClient,
  threadId: string,
  done: (thread: Thread) => boolean,
  timeout: "10 seconds" | "30 seconds" = "30 seconds"
) =>
  getThread(client, threadId).pipe(
    Effect.repeat({ until: done, schedule: Schedule.spaced("50 millis") }),
    Effect.timeoutOption(timeout),
    Effect.flatMap((found) =>
      found._tag === "Some" ? Effect.succeed(found.value) : getThread(client, threadId)
    )
  )

/** The reason of a failed call, or "ok" when it succeeded. */
export const outcome = <A>(effect: Effect.Effect<A, unknown>) =>
  effect.pipe(
    Effect.map(() => "ok"),
    Effect.catch((error) =>
      Effect.succeed(
        (error as SpindleError)?._tag === "SpindleError"
          ? (error as SpindleError).reason
          : `transport: ${String(error)}`
      )
    )
  )
