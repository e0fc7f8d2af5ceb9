// Races of retries over the WebSocket, each from several connections at once: the same commandId
// with the same payload (all join one outcome), with different payloads (one wins, the rest are
// conflicts), and different commandIds for one thread id (one thread, one worktree).
import * as Effect from "effect/Effect"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { eventTypesOf, worktreeFolders } from "../harness/disk.ts"
import { bootstrapCommand, dispatch, outcome } from "../harness/world.ts"
import type { HostileWorld } from "./fixture.ts"

export interface RaceOutcome {
  readonly race: string
  readonly sent: number
  /** Reasons (or "ok") and how many got each. */
  readonly answers: string
  readonly problems: ReadonlyArray<string>
}

const tally = (answers: ReadonlyArray<string>) =>
  [...new Set(answers)]
    .sort()
    .map((a) => `${answers.filter((x) => x === a).length}× ${a}`)
    .join(", ")

const createdOnce = (w: HostileWorld, threadId: string) => {
  const created = eventTypesOf(w.home, threadId).filter((t) => t === "thread.created").length
  return created === 1 ? [] : [`thread ${threadId} was created ${created} times`]
}

const race = (
  w: HostileWorld,
  clients: ReadonlyArray<SpindleClient>,
  name: string,
  commands: ReadonlyArray<Record<string, unknown>>,
  expect: { readonly ok: number; readonly others: string; readonly threadId: string },
  awaitWhat?: "workspace"
) =>
  Effect.gen(function* () {
    const folders = worktreeFolders(w.home).length
    const answers = yield* Effect.forEach(
      commands,
      (command, i) => outcome(dispatch(clients[i % clients.length]!, command, awaitWhat)),
      { concurrency: "unbounded" }
    )
    const ok = answers.filter((a) => a === "ok").length
    const problems: Array<string> = []
    if (ok !== expect.ok) problems.push(`${ok} succeeded, expected ${expect.ok}`)
    const wrong = answers.filter((a) => a !== "ok" && a !== expect.others)
    if (wrong.length > 0) problems.push(`unexpected answers: ${tally(wrong)}`)
    problems.push(...createdOnce(w, expect.threadId))
    const newFolders = worktreeFolders(w.home).length - folders
    const isWorktree = JSON.stringify(commands[0]).includes("new_worktree")
    if (newFolders !== (isWorktree ? 1 : 0)) problems.push(`${newFolders} worktrees were created`)
    return { race: name, sent: commands.length, answers: tally(answers), problems } satisfies RaceOutcome
  })

export const wsRaces = (w: HostileWorld, clients: ReadonlyArray<SpindleClient>) =>
  Effect.gen(function* () {
    const n = 8
    const checkout = (threadId: string, prompt: string, commandId = `cmd-${threadId}`) => ({
      ...bootstrapCommand("pa", threadId, { mode: "current_checkout" }),
      commandId,
      prompt
    })
    const same = checkout("race-same", "the same work")
    const results: Array<RaceOutcome> = [
      yield* race(w, clients, "same commandId, same bootstrap", Array(n).fill(same), {
        ok: n,
        others: "-",
        threadId: "race-same"
      }),
      yield* race(w, clients, "the same bootstrap again, after it finished", [same, same], {
        ok: 2,
        others: "-",
        threadId: "race-same"
      }),
      yield* race(
        w,
        clients,
        "same commandId, different prompts",
        Array.from({ length: n }, (_, i) => checkout("race-diff", `variant ${i}`, "cmd-race-diff")),
        { ok: 1, others: "conflict", threadId: "race-diff" }
      ),
      yield* race(
        w,
        clients,
        "different commandIds, one new worktree thread",
        Array.from({ length: 6 }, (_, i) => ({
          ...bootstrapCommand("pa", "race-wt", { mode: "new_worktree" }, { runSetupScript: false }),
          commandId: `cmd-race-wt-${i}`
        })),
        { ok: 1, others: "conflict", threadId: "race-wt" },
        "workspace"
      ),
      yield* race(
        w,
        clients,
        "thread.create: same commandId, same payload",
        Array(n).fill({
          type: "thread.create",
          commandId: "cmd-tc-same",
          threadId: "race-tc",
          projectId: "pa",
          title: "same"
        }),
        { ok: n, others: "-", threadId: "race-tc" }
      ),
      yield* race(
        w,
        clients,
        "thread.create: same commandId, different titles",
        Array.from({ length: n }, (_, i) => ({
          type: "thread.create",
          commandId: "cmd-tc-diff",
          threadId: "race-tc-diff",
          projectId: "pa",
          title: `title ${i}`
        })),
        { ok: 1, others: "conflict", threadId: "race-tc-diff" }
      ),
      yield* race(
        w,
        clients,
        "thread.create: different commandIds, one thread id",
        Array.from({ length: n }, (_, i) => ({
          type: "thread.create",
          commandId: `cmd-tc-many-${i}`,
          threadId: "race-tc-many",
          projectId: "pb",
          title: "many"
        })),
        { ok: 1, others: "conflict", threadId: "race-tc-many" }
      )
    ]
    return results
  })
