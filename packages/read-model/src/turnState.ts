// A thread's turn in the one TurnState vocabulary every reader shows (MCP, `thread show`, the CLI),
// and whether it is still live.
import type { Thread, TurnState } from "@spindle/contracts"

export const turnStateOf = (thread: Thread): TurnState => {
  if (thread.status === "queued") return "queued"
  if (thread.latestTurn !== null)
    return thread.latestTurn.stalledSince !== null && hasLiveTurn(thread)
      ? "stalled"
      : thread.latestTurn.status
  const setupAhead = thread.setup.status === "pending" || thread.setup.status === "running"
  return thread.bootstrap.status === "running" && setupAhead ? "waiting-for-setup" : "not-started"
}

/** A turn requested or running (the one `turnId` names, when given): one that may still report. */
export const hasLiveTurn = (thread: Thread, turnId?: string) =>
  thread.latestTurn !== null &&
  (turnId === undefined || thread.latestTurn.turnId === turnId) &&
  (thread.latestTurn.status === "requested" || thread.latestTurn.status === "running")
