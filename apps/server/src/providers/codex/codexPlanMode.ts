// A `plan` thread's turns in Codex's plan collaboration mode, the plan it proposes, and the
// questions plan mode lets the model ask. Codex 0.171 offers collaboration modes only through its experimental API (opted into
// at `initialize`): the adapter asks for Codex's own plan preset once per session, and when this
// Codex has none, the thread is told so instead of silently running in default mode. Pure.

import { MAX_ITEM_TEXT, type ProviderReport, type TurnItem } from "@spindle/contracts"
import * as Schema from "effect/Schema"
import {
  type CodexCollaborationMode,
  CodexCollaborationModeList,
  type CodexUserInputRequest
} from "./codexProtocol.ts"

/** What the thread says when plan mode cannot reach this Codex (the same words each time: said once). */
export const NO_PLAN_MODE =
  "This thread is in plan mode, but its Codex offers no plan collaboration mode (collaborationMode/list failed), so its turns run in Codex's default mode. Use a Codex CLI with plan mode (0.171 has it) and start a new session."

/**
 * The plan preset of `collaborationMode/list`'s answer as `turn/start`'s `collaborationMode`: its
 * model (or the thread's) and reasoning effort, with Codex's built-in plan instructions.
 */
export const planMode = (
  listed: unknown,
  threadModel: string | undefined
): CodexCollaborationMode | undefined => {
  const decoded = Schema.decodeUnknownOption(CodexCollaborationModeList)(listed)
  if (decoded._tag === "None") return undefined
  const preset = decoded.value.data.find((mask) => mask.mode === "plan")
  const model = preset?.model ?? threadModel
  if (preset === undefined || model === undefined) return undefined
  return {
    mode: "plan",
    settings: { model, reasoning_effort: preset.reasoning_effort ?? null, developer_instructions: null }
  }
}

/**
 * Spindle's answer to every question: nobody can answer in the middle of a turn, so the model is
 * told to ask in its final message; the person's reply is the thread's next prompt.
 */
export const UNANSWERED =
  "No one can answer questions during a turn in this Spindle thread. Do not assume an answer: end your turn now with these questions in your final message (with their options and the one you recommend); the user's reply comes as the next prompt."

type UserInput = typeof CodexUserInputRequest.Type

/** `request_user_input`'s response: each question answered with UNANSWERED. */
export const userInputAnswer = (request: UserInput) => ({
  answers: Object.fromEntries(request.questions.map((question) => [question.id, { answers: [UNANSWERED] }]))
})

/** The questions as an item of the turn, so the thread shows what the agent wanted to ask. */
export const userInputItem = (request: UserInput): TurnItem => {
  const text = request.questions
    .map((question) => {
      const options = (question.options ?? []).map((option) => `\n  - ${option.label}: ${option.description}`)
      return `${question.header}: ${question.question}${options.join("")}`
    })
    .join("\n")
  return {
    id: request.itemId,
    kind: "tool-call",
    server: "codex",
    tool: "request_user_input",
    status: "declined",
    error: "Spindle answers no questions mid-turn; the agent was told to ask them in its final message.",
    text: text.length > MAX_ITEM_TEXT ? text.slice(0, MAX_ITEM_TEXT) : text
  }
}

/** A message with the proposed plan at its end, in the tags the model wrote it in. */
const withPlan = (message: string, plan: string) => {
  const text = `${message.trim() === "" ? "" : `${message.trimEnd()}\n\n`}<proposed_plan>\n${plan.trim()}\n</proposed_plan>`
  return text.length > MAX_ITEM_TEXT ? text.slice(text.length - MAX_ITEM_TEXT) : text
}

/**
 * Codex takes the `<proposed_plan>` block out of the agent's message into an item of its own
 * (reported as an `other` item with status `plan`). These reports put it back at the end of the
 * turn's next completed message (or, if none comes, in a message before the turn's end), so the
 * thread's conversation and its last message, which a parent reads, hold the plan. `held` is the
 * turn's plan waiting for its message.
 */
export const joinPlan = (
  held: { plan?: string | undefined },
  reports: ReadonlyArray<ProviderReport>
): Array<ProviderReport> =>
  reports.flatMap((report): Array<ProviderReport> => {
    if (report.type === "turn-item" && report.item.kind === "other" && report.item.status === "plan") {
      if (report.phase === "completed" && report.item.text !== undefined) held.plan = report.item.text
      return []
    }
    const plan = held.plan
    if (plan === undefined) return [report]
    if (report.type === "turn-item" && report.phase === "completed" && report.item.kind === "agent-message") {
      held.plan = undefined
      return [{ ...report, item: { ...report.item, text: withPlan(report.item.text ?? "", plan) } }]
    }
    if (report.type === "turn-ended") {
      held.plan = undefined
      const item: TurnItem = { id: `plan-${report.turnId}`, kind: "agent-message", text: withPlan("", plan) }
      return [{ type: "turn-item", turnId: report.turnId, phase: "completed", item }, report]
    }
    return [report]
  })
