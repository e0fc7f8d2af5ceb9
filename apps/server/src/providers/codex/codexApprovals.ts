// A Codex session's approval requests: which ones wait for an answer, the answer in Codex's words
// (Codex may offer only accept or cancel, so a decline can only be a cancel), and the end of a turn
// such a decline cancelled, said as what it was rather than Codex's bare "interrupted".

import type { ApprovalDecision, PendingApproval, ProviderReport, TurnId } from "@spindle/contracts"
import type { CodexApprovalDecision } from "./codexProtocol.ts"
import type { RequestId } from "./jsonRpcLines.ts"

/** Our decision in Codex's words, falling back to what this request offers (Codex may offer only accept or cancel). */
export const codexDecision = (
  decision: ApprovalDecision,
  offered: ReadonlyArray<unknown> | null
): CodexApprovalDecision => {
  const wanted: CodexApprovalDecision =
    decision === "accept" ? "accept" : decision === "accept-for-session" ? "acceptForSession" : "decline"
  if (offered === null || offered.includes(wanted)) return wanted
  return decision === "decline" ? "cancel" : "accept"
}

interface Waiting {
  /** Codex's id for the request, to answer it by. */
  readonly id: RequestId
  readonly offered: ReadonlyArray<unknown> | null
  readonly turnId: TurnId
  readonly command: string | null
}

/** One session's waiting requests and the turn a decline-as-cancel ended, if any. */
export const makeApprovalBook = () => {
  const waiting = new Map<string, Waiting>()
  let declinedByCancel: { readonly turnId: TurnId; readonly command: string | null } | undefined

  return {
    /** Keeps a request until it is answered; answers what the pending approval says about declining. */
    wait: (requestId: string, request: Waiting): Pick<PendingApproval, "declineEndsTurn"> => {
      waiting.set(requestId, request)
      // Declining can only be a cancel when Codex offered no plain decline.
      return request.offered !== null && !request.offered.includes("decline") ? { declineEndsTurn: true } : {}
    },
    /** The answer to send Codex for a waiting request (forgotten from then on); undefined when none waits. */
    answer: (requestId: string, decision: ApprovalDecision) => {
      const request = waiting.get(requestId)
      if (request === undefined) return undefined
      waiting.delete(requestId)
      const answer = codexDecision(decision, request.offered)
      if (answer === "cancel") declinedByCancel = { turnId: request.turnId, command: request.command }
      return { id: request.id, decision: answer }
    },
    /** A turn a declined request cancelled ends with that said. */
    explain: (report: ProviderReport): ProviderReport =>
      report.type === "turn-ended" &&
      report.status === "interrupted" &&
      declinedByCancel?.turnId === report.turnId
        ? {
            ...report,
            reason: `You declined the agent's request${declinedByCancel.command === null ? "" : ` to run ${declinedByCancel.command}`}; Codex offered only accept or cancel, so declining ended the turn. Send a prompt to go on another way.`
          }
        : report
  }
}
