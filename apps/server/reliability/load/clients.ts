// The load's clients, each a closed loop until the deadline: a WebSocket client that subscribes and
// dispatches on one connection (project updates, thread creates, thread reads), and an MCP agent
// that starts child threads (mostly current_checkout, every fourth a new worktree without setup),
// moving to a fresh parent thread and token when it has as many children as a parent may have.
import type { Client } from "@modelcontextprotocol/sdk/client/index.js"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { connectMcp } from "../harness/mcp.ts"
import { promise } from "../harness/scenario.ts"
import { follow, newTracker, type Tracker } from "../harness/tracker.ts"
import { dispatch, outcome } from "../harness/world.ts"
import { toolOutcome } from "../hostile/mcpRaces.ts"

/** Latencies (ms) and answers by operation. */
export class Recorder {
  readonly latencies = new Map<string, Array<number>>()
  readonly answers = new Map<string, number>()
  record(op: string, ms: number, answer: string) {
    const list = this.latencies.get(op) ?? []
    list.push(ms)
    this.latencies.set(op, list)
    const key = `${op}: ${answer}`
    this.answers.set(key, (this.answers.get(key) ?? 0) + 1)
  }
  errors() {
    return [...this.answers].filter(([key]) => !key.endsWith(": ok"))
  }
}

const timed = (recorder: Recorder, op: string, effect: Effect.Effect<string, never, never>) =>
  Effect.gen(function* () {
    const started = performance.now()
    const answer = yield* effect
    recorder.record(op, performance.now() - started, answer)
  })

/** One WebSocket client: follows every event and dispatches until `deadline`. */
export const wsClient = (
  index: number,
  client: SpindleClient,
  projectId: string,
  deadline: number,
  recorder: Recorder
) =>
  Effect.gen(function* () {
    const tracker: Tracker = newTracker(`ws client ${index}`, (yield* client["server.getStatus"]()).sequence)
    yield* follow(tracker, client)
    const threads: Array<string> = []
    let i = 0
    while (Date.now() < deadline) {
      i++
      const kind = i % 10
      if (kind < 6) {
        yield* timed(
          recorder,
          "ws project.update",
          outcome(
            dispatch(client, {
              type: "project.update",
              commandId: `u-${index}-${i}`,
              projectId,
              title: `load ${index}/${i}`
            })
          )
        )
      } else if (kind < 9) {
        const threadId = `w-${index}-${i}`
        yield* timed(
          recorder,
          "ws thread.create",
          outcome(
            dispatch(client, {
              type: "thread.create",
              commandId: `c-${index}-${i}`,
              threadId,
              projectId,
              title: `load ${i}`
            })
          )
        )
        threads.push(threadId)
      } else {
        const threadId = threads.at(-1) ?? "none"
        yield* timed(
          recorder,
          "ws thread.get",
          outcome(client["thread.get"]({ threadId: threadId as never }))
        )
      }
    }
    return tracker
  })

/** A parent thread for an agent, with its token and a connected MCP client (closed with the scope). */
const newParent = (url: string, admin: SpindleClient, projectId: string, threadId: string) =>
  Effect.gen(function* () {
    yield* dispatch(admin, {
      type: "thread.create",
      commandId: `create-${threadId}`,
      threadId,
      projectId,
      title: threadId
    })
    const issued = yield* admin["token.issueMcp"]({ threadId: threadId as never })
    const client = yield* Effect.acquireRelease(
      promise(() => connectMcp(url, issued.token)),
      (c) => Effect.promise(() => c.close()).pipe(Effect.ignore)
    )
    return { client, token: issued.token }
  })

/** One MCP agent: starts children until `deadline`, rotating to a new parent every `perParent` children. */
export const mcpAgent = (
  url: string,
  index: number,
  admin: SpindleClient,
  projectId: string,
  deadline: number,
  perParent: number,
  recorder: Recorder,
  secrets: Array<string>
): Effect.Effect<number, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    let parents = 0
    let started = 0
    let current: { client: Client; token: string } | undefined
    while (Date.now() < deadline) {
      if (current === undefined || started % perParent === 0) {
        parents++
        current = yield* newParent(url, admin, projectId, `m-${index}-${parents}`)
        secrets.push(current.token)
      }
      const worktree = started % 4 === 3
      const args = worktree
        ? { prompt: `child ${started}`, runSetupScript: false }
        : { prompt: `child ${started}`, mode: "current_checkout" }
      const op = worktree ? "mcp start (new_worktree)" : "mcp start (current_checkout)"
      const client = current.client
      yield* timed(
        recorder,
        op,
        Effect.map(
          Effect.promise(() => toolOutcome(client, args)),
          (r) => r.answer
        )
      )
      started++
    }
    return started
  })
