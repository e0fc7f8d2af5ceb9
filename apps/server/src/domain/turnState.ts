// A thread's turn in the one TurnState vocabulary every reader shows (MCP, `thread show`, the CLI).
import type { Thread, TurnState } from "@spindle/contracts"

export const turnStateOf = (thread: Thread): TurnState => {
  if (thread.latestTurn !== null) return thread.latestTurn.status
  const setupAhead = thread.setup.status === "pending" || thread.setup.status === "running"
  return thread.bootstrap.status === "running" && setupAhead ? "waiting-for-setup" : "not-started"
}
