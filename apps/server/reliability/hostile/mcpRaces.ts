// Races over MCP with the SDK's real clients: retries with one clientRequestId (same and different
// arguments), more concurrent starts than a parent may have children (exactly the limit get
// through), and several starts binding one worktree (exactly one does).
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import * as Effect from "effect/Effect"
import { eventTypesOf } from "../harness/disk.ts"
import { connectMcp } from "../harness/mcp.ts"
import { promise } from "../harness/scenario.ts"
import { dispatch } from "../harness/world.ts"
import type { HostileWorld } from "./fixture.ts"
import type { RaceOutcome } from "./wsRaces.ts"

/** "ok", the tool error's reason, or the JSON-RPC error code; with the thread and warnings of a success. */
export const toolOutcome = async (
  client: Client,
  args: Record<string, unknown>
): Promise<{
  readonly answer: string
  readonly threadId?: string
  readonly warnings: ReadonlyArray<string>
}> => {
  try {
    const result = await client.callTool({ name: "t3_thread_start", arguments: args })
    if (result.isError !== true) {
      const output = result.structuredContent as { threadId?: string; warnings?: Array<string> }
      return { answer: "ok", threadId: String(output?.threadId), warnings: output?.warnings ?? [] }
    }
    const text = (result.content as Array<{ text?: string }>)[0]?.text ?? "{}"
    return { answer: String((JSON.parse(text) as { error?: string }).error), warnings: [] }
  } catch (error) {
    return { answer: `rpc ${String((error as { code?: unknown }).code ?? error)}`, warnings: [] }
  }
}

const tally = (answers: ReadonlyArray<string>) =>
  [...new Set(answers)]
    .sort()
    .map((a) => `${answers.filter((x) => x === a).length}× ${a}`)
    .join(", ")

const race = (
  w: HostileWorld,
  clients: ReadonlyArray<Client>,
  name: string,
  calls: ReadonlyArray<Record<string, unknown>>,
  expect: { readonly ok: number; readonly others: string; readonly oneThread?: boolean }
) =>
  Effect.gen(function* () {
    const results = yield* promise(() =>
      Promise.all(calls.map((args, i) => toolOutcome(clients[i % clients.length]!, args)))
    )
    const answers = results.map((r) => r.answer)
    const ok = answers.filter((a) => a === "ok").length
    const problems: Array<string> = []
    if (ok !== expect.ok) problems.push(`${ok} succeeded, expected ${expect.ok}`)
    const wrong = answers.filter((a) => a !== "ok" && a !== expect.others)
    if (wrong.length > 0) problems.push(`unexpected answers: ${tally(wrong)}`)
    const threads = new Set(results.flatMap((r) => (r.threadId === undefined ? [] : [r.threadId])))
    if (expect.oneThread === true && threads.size > 1)
      problems.push(`${threads.size} different threads were answered`)
    for (const threadId of threads) {
      const created = eventTypesOf(w.home, threadId).filter((t) => t === "thread.created").length
      if (created !== 1) problems.push(`thread ${threadId} was created ${created} times`)
    }
    return { race: name, sent: calls.length, answers: tally(answers), problems } satisfies RaceOutcome
  })

export const mcpRaces = (w: HostileWorld) =>
  Effect.gen(function* () {
    const open = (token: string) =>
      Effect.acquireRelease(
        promise(() => connectMcp(w.server.url, token)),
        (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
      )
    const clients = yield* Effect.forEach([1, 2, 3, 4], () => open(w.token))
    // A parent with no children yet, for the admission race.
    yield* dispatch(w.client, {
      type: "thread.create",
      commandId: "create-race-parent",
      threadId: "race-parent",
      projectId: "pa",
      title: "race parent"
    })
    const raceToken = (yield* w.client["token.issueMcp"]({ threadId: "race-parent" as never })).token
    const raceClients = yield* Effect.forEach([1, 2, 3, 4], () => open(raceToken))
    const checkout = { mode: "current_checkout" }
    return [
      yield* race(
        w,
        clients,
        "same clientRequestId, same arguments",
        Array(8).fill({ ...checkout, prompt: "once", clientRequestId: "race-same" }),
        {
          ok: 8,
          others: "-",
          oneThread: true
        }
      ),
      yield* race(
        w,
        clients,
        "same clientRequestId, different prompts",
        Array.from({ length: 8 }, (_, i) => ({
          ...checkout,
          prompt: `variant ${i}`,
          clientRequestId: "race-diff"
        })),
        { ok: 1, others: "conflict", oneThread: true }
      ),
      yield* race(
        w,
        raceClients,
        // queue: false, so a start past the limit is refused instead of queued (the queue's own
        // order and counting are tested in queue/StartQueue.test.ts).
        "14 concurrent starts against a limit of 8 children (queue: false)",
        Array.from({ length: 14 }, (_, i) => ({ ...checkout, prompt: `child ${i}`, queue: false })),
        { ok: 8, others: "capacity" }
      ),
      yield* race(
        w,
        clients,
        "3 concurrent starts binding one worktree",
        Array.from({ length: 3 }, (_, i) => ({
          mode: "existing_worktree",
          worktreePath: w.freeWorktree,
          prompt: `bind ${i}`
        })),
        { ok: 1, others: "conflict" }
      )
    ]
  })
