// Plan mode's pieces that need no Codex: the preset chosen from collaborationMode/list, and the
// proposed plan put back into the agent's message.
import { assert, describe, it } from "@effect/vitest"
import type { ProviderReport, TurnId } from "@spindle/contracts"
import { joinPlan, planMode } from "./codexPlanMode.ts"

const turnId = "u1" as TurnId
const item = (kind: "agent-message" | "other", text: string, status?: string): ProviderReport => ({
  type: "turn-item",
  turnId,
  phase: "completed",
  item: { id: `${kind}-1`, kind, text, ...(status === undefined ? {} : { status }) }
})

describe("plan mode", () => {
  it("takes Codex's plan preset, its model falling back to the thread's", () => {
    const listed = {
      data: [
        { name: "Plan", mode: "plan", model: null, reasoning_effort: "medium" },
        { name: "Default", mode: "default", model: null, reasoning_effort: null }
      ]
    }
    assert.deepStrictEqual(planMode(listed, "gpt-5-codex"), {
      mode: "plan",
      settings: { model: "gpt-5-codex", reasoning_effort: "medium", developer_instructions: null }
    })
    assert.isUndefined(planMode({ data: [{ name: "Default", mode: "default" }] }, "gpt-5-codex"))
    assert.isUndefined(planMode({ data: [{ name: "Plan", mode: "plan" }] }, undefined))
    assert.isUndefined(planMode({ nope: true }, "gpt-5-codex"))
  })

  it("puts the plan back at the end of the next message, or in a message of its own before the turn ends", () => {
    const held: { plan?: string } = {}
    assert.deepStrictEqual(joinPlan(held, [item("other", "# Plan\n- a", "plan")]), [])
    const [message] = joinPlan(held, [item("agent-message", "Here it is.")])
    assert.strictEqual(
      message?.type === "turn-item" ? message.item.text : undefined,
      "Here it is.\n\n<proposed_plan>\n# Plan\n- a\n</proposed_plan>"
    )
    assert.isUndefined(held.plan)

    joinPlan(held, [item("other", "# Plan B", "plan")])
    const ended: ProviderReport = { type: "turn-ended", turnId, status: "interrupted", reason: "stop" }
    const flushed = joinPlan(held, [ended])
    assert.deepStrictEqual(flushed.at(-1), ended)
    assert.deepStrictEqual(
      flushed[0]?.type === "turn-item" ? flushed[0].item.text : undefined,
      "<proposed_plan>\n# Plan B\n</proposed_plan>"
    )
    // Nothing held: reports pass as they are.
    assert.deepStrictEqual(joinPlan(held, [item("agent-message", "plain")]), [item("agent-message", "plain")])
  })
})
