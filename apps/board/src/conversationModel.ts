// A thread's conversation from its events and its agent's items: a turn per request, with the
// prompts sent into it, its items and how it ended. Pure.
import type { SpindleEvent } from "@spindle/contracts"

/** A prompt as it was sent, with the names of the files that went with it. */
export interface PromptView {
  readonly text: string
  readonly files: ReadonlyArray<string>
}

/** One turn of a thread's conversation: what the user asked, then what the agent did. */
export interface TurnView<Item> {
  readonly turnId: string
  /** The prompt, then anything sent into the running turn. */
  readonly prompts: ReadonlyArray<PromptView>
  readonly items: ReadonlyArray<Item>
  readonly status: "requested" | "running" | "completed" | "failed" | "interrupted"
  readonly reason: string | null
}

/**
 * A thread's conversation from its events (oldest first) and its agent's items in the order they
 * came (each naming its turn): a turn per request, with the prompts sent into it, its items, and how
 * it ended. A turn whose request is no longer among the events shows with its items alone.
 */
export const conversationOf = <Item extends { readonly turnId: string }>(
  events: ReadonlyArray<SpindleEvent>,
  items: ReadonlyArray<Item>
): Array<TurnView<Item>> => {
  const turns = new Map<
    string,
    { prompts: Array<PromptView>; status: TurnView<Item>["status"]; reason: string | null }
  >()
  const turnOf = (turnId: string) => {
    let turn = turns.get(turnId)
    if (turn === undefined) {
      turn = { prompts: [], status: "running", reason: null }
      turns.set(turnId, turn)
    }
    return turn
  }
  // Spindle's copy of each attached file -> the name it was given (recorded before its prompt).
  const names = new Map<string, string>()
  const prompt = (text: string, paths: ReadonlyArray<string> | undefined): PromptView => ({
    text,
    files: (paths ?? []).map((path) => names.get(path) ?? path.slice(path.lastIndexOf("/") + 1))
  })
  for (const event of events) {
    switch (event.type) {
      case "thread.attachments-added":
        for (const file of event.payload.attachments) names.set(file.path, file.name)
        break
      case "thread.turn-start-requested": {
        const turn = turnOf(event.payload.turnId)
        turn.prompts.push(prompt(event.payload.prompt, event.payload.attachments))
        turn.status = "requested"
        break
      }
      case "thread.turn-steer-requested":
        turnOf(event.payload.turnId).prompts.push(prompt(event.payload.prompt, event.payload.attachments))
        break
      case "thread.turn-started":
        turnOf(event.payload.turnId).status = "running"
        break
      case "thread.turn-ended": {
        const turn = turnOf(event.payload.turnId)
        turn.status = event.payload.status
        turn.reason = event.payload.reason
        break
      }
    }
  }
  const byTurn = new Map<string, Array<Item>>()
  for (const item of items) {
    turnOf(item.turnId)
    const list = byTurn.get(item.turnId)
    if (list === undefined) byTurn.set(item.turnId, [item])
    else list.push(item)
  }
  return Array.from(turns, ([turnId, turn]) => ({ turnId, ...turn, items: byTurn.get(turnId) ?? [] }))
}
