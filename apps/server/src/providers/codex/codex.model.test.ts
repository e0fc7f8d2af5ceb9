// What the model behind the real Codex CLI receives from a Spindle thread (read from the fake
// model's requests): Spindle's tools with their descriptions and rules, no sub-agent tools of
// Codex's own, plan mode for a plan thread, and an answer when plan mode asks the user a question.
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { assert, describe, it } from "@effect/vitest"
import { MAX_BATCH, type ThreadId } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type { ResponsesRequest } from "../../testing/fakeModel.ts"
import { tempDir } from "../../testing/fixtures.ts"
import { CODEX_BIN, codexWorld, turnEnded, turnEndOf } from "../../testing/providers.ts"
import { NO_PLAN_MODE, UNANSWERED } from "./codexPlanMode.ts"

type Tool = { readonly type: string; readonly name: string; readonly [key: string]: any }

/** The function `name` of namespace `namespace` (or at the top level) in a request's tools. */
const toolIn = (request: ResponsesRequest, name: string, namespace?: string): Tool | undefined => {
  const tools = (request.tools ?? []) as ReadonlyArray<Tool>
  const scope = namespace === undefined ? tools : (tools.find((t) => t.name === namespace)?.tools ?? [])
  return scope.find((t: Tool) => t.name === name)
}

/** The requests whose conversation holds `marker` (each thread's prompt names it). */
const requestsWith = (requests: ReadonlyArray<ResponsesRequest>, marker: string) =>
  requests.filter((request) => JSON.stringify(request.input).includes(marker))

const PLAN_MODE_TEXT = "<collaboration_mode># Plan Mode"

const QUESTION = {
  questions: [
    {
      id: "store",
      header: "Storage",
      question: "Which database should the cache use?",
      options: [
        { label: "SQLite (Recommended)", description: "Nothing to run" },
        { label: "Postgres", description: "Shared by hosts" }
      ]
    }
  ]
}

describe("what the model sees through Codex", () => {
  it.live(
    "t3_threads_start reaches the model with its entries' descriptions and limits",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "look around")
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1"))?.status, "completed")
        const request = world.model.requests[0]!
        const batch = toolIn(request, "t3_threads_start", "mcp__spindle")
        assert.isDefined(batch, "the batch tool is offered")
        const threads = batch!.parameters.properties.threads
        assert.include(threads.description, `1 to ${MAX_BATCH} items`, "the batch's limit is said")
        const entry = threads.items.properties as Record<string, { description?: string }>
        const fields = Object.keys(entry)
        assert.isAtLeast(fields.length, 15)
        for (const field of fields) assert.isString(entry[field]!.description, `threads[].${field}`)
        assert.include(entry.branch!.description, "at most 250 characters")
        assert.include(entry.prompt!.description, "at most 120000 characters")
        const single = toolIn(request, "t3_thread_start", "mcp__spindle")!
        assert.include(single.parameters.properties.tags.description, "at most 32 items")
      }),
    120_000
  )

  it.live(
    "Codex's own sub-agent tools (spawn_agent) are not offered, even when a project's Codex config turns them on",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld({
          codexConfig: ["features.multi_agent=true", "features.multi_agent_v2=true"]
        })
        yield* world.start("t1", "look around")
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1"))?.status, "completed")
        const request = world.model.requests[0]!
        assert.isDefined(toolIn(request, "t3_thread_start", "mcp__spindle"), "Spindle's tool is offered")
        // t3_thread_start is the one way to start another agent.
        const offered = JSON.stringify(request.tools)
        for (const name of ["spawn_agent", "multi_agent", "wait_agent", "followup_task"])
          assert.notInclude(offered, name)
      }),
    120_000
  )

  it.live(
    "a plan thread's turns run in Codex's plan mode; a default thread's do not",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", "plan-thread: sketch the cache", { interactionMode: "plan" })
        yield* world.start("t2", "default-thread: write the cache")
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1"))?.status, "completed")
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t2"))?.status, "completed")
        const planned = requestsWith(world.model.requests, "plan-thread:")
        const plain = requestsWith(world.model.requests, "default-thread:")
        assert.isNotEmpty(planned)
        assert.isNotEmpty(plain)
        for (const request of planned) assert.include(JSON.stringify(request.input), PLAN_MODE_TEXT)
        for (const request of plain) assert.notInclude(JSON.stringify(request.input), "<collaboration_mode>")
        assert.deepStrictEqual((yield* world.engine.getThread("t1" as ThreadId))!.warnings, [])
        // The next turn of the plan thread plans too.
        yield* world.send({
          type: "thread.turn.start",
          threadId: "t1",
          prompt: "plan-again: more",
          turnId: "u2"
        })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1", "u2"))?.status, "completed")
        const again = requestsWith(world.model.requests, "plan-again:")
        assert.isNotEmpty(again)
        for (const request of again) assert.include(JSON.stringify(request.input), PLAN_MODE_TEXT)
      }),
    120_000
  )

  it.live(
    "the plan a plan thread proposes stays in its message (Codex takes it out into an item of its own), so its last message holds it",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        const plan = "# Cache\n- add a table\n- read through it"
        yield* world.start(
          "t1",
          `plan it [[say: Here is my plan.\n\n<proposed_plan>\n${plan}\n</proposed_plan>\n]]`,
          {
            interactionMode: "plan"
          }
        )
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed")
        const expected = `Here is my plan.\n\n<proposed_plan>\n${plan}\n</proposed_plan>`
        assert.strictEqual(
          (yield* world.engine.getThread("t1" as ThreadId))!.latestTurn?.lastMessage,
          expected
        )
        const items = events.flatMap((e) =>
          e.type === "thread.turn-item" && e.payload.phase === "completed" ? [e.payload.item] : []
        )
        assert.deepStrictEqual(
          items.map((item) => [item.kind, item.text]),
          [["agent-message", expected]],
          "one message with the plan, no item left without its text"
        )
      }),
    120_000
  )

  it.live(
    "plan mode's question (request_user_input) shows on the thread, and the model is told to ask it in its final message",
    () =>
      Effect.gen(function* () {
        const world = yield* codexWorld()
        yield* world.start("t1", `ask first [[call: request_user_input ${JSON.stringify(QUESTION)}]]`, {
          interactionMode: "plan"
        })
        const events = yield* turnEnded(world.engine, "t1")
        assert.strictEqual(turnEndOf(events)?.status, "completed")
        const asked = events.find(
          (e) => e.type === "thread.turn-item" && e.payload.item.tool === "request_user_input"
        )
        assert.isDefined(asked, "the question is an item of the turn")
        if (asked?.type !== "thread.turn-item") return
        assert.include(asked.payload.item.text ?? "", "Which database should the cache use?")
        assert.include(asked.payload.item.text ?? "", "SQLite (Recommended)")
        // What the model got back for its call: Spindle's answer, not an empty one.
        const last = world.model.requests.at(-1)!
        const output = (last.input ?? []).find(
          (item: { type?: string }) => item.type === "function_call_output"
        )
        assert.include(JSON.stringify(output), UNANSWERED.slice(0, 60))
      }),
    120_000
  )

  it.live(
    "a Codex without plan mode: the plan thread says so at start, and its turns run in default mode",
    () =>
      Effect.gen(function* () {
        // The real Codex, with the method Spindle asks for plan mode renamed to one it does not know.
        const dir = yield* tempDir("spindle-codex-noplan-")
        const bin = join(dir, "codex")
        writeFileSync(
          bin,
          `#!/bin/sh\nsed -u 's#"collaborationMode/list"#"collaborationMode/absent"#' | "${CODEX_BIN}" "$@"\n`,
          { mode: 0o755 }
        )
        const world = yield* codexWorld({}, { codexBin: bin })
        yield* world.start("t1", "plan-thread: sketch", { interactionMode: "plan" })
        assert.strictEqual(turnEndOf(yield* turnEnded(world.engine, "t1"))?.status, "completed")
        assert.deepStrictEqual((yield* world.engine.getThread("t1" as ThreadId))!.warnings, [NO_PLAN_MODE])
        for (const request of requestsWith(world.model.requests, "plan-thread:"))
          assert.notInclude(JSON.stringify(request.input), "<collaboration_mode>")
      }),
    120_000
  )
})
