// A parent hears about its children without polling: when a child's turn ends, its bootstrap
// fails or its agent asks for an approval, its parent gets a `thread.child-notified` event with a
// notice written for its agent, decided with the child's event and appended with it, so a notice
// is never lost to a crash nor recorded twice (a child started with onDone "none" tells nothing; a
// parent that is gone or archived hears nothing). Delivering it (into the parent's running turn,
// with its next prompt, on its MCP session, or by waking it: children/ParentWakes) is others' work.
// Pure.
import type { ChildNotice, EventDraft, PendingApproval, Thread } from "@spindle/contracts"
import type { ReadModel } from "@spindle/read-model"
import { hashId } from "@spindle/shared/hashId"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"

const quote = (text: string | null, max = 600) =>
  text === null || text.trim() === ""
    ? ""
    : ` Its last message: "${text.length > max ? `${text.slice(0, max)}…` : text}".`

/** What happened to a child, as its event says it. */
type ChildEvent =
  | {
      readonly type: "turn-ended"
      readonly turnId: string
      readonly status: "completed" | "failed" | "interrupted"
      readonly reason: string | null
    }
  | { readonly type: "approval-requested"; readonly approval: PendingApproval }
  | { readonly type: "bootstrap-failed"; readonly message: string }

/** The notice's id: the child and what happened to it, so the same happening is the same notice. */
const noticeIdOf = (child: Thread, what: ChildEvent) =>
  hashId(
    "n-",
    child.id,
    what.type,
    what.type === "turn-ended"
      ? what.turnId
      : what.type === "approval-requested"
        ? what.approval.requestId
        : ""
  )

/** The notice for a child's event. */
const noticeFor = (what: ChildEvent, child: Thread, at: string): ChildNotice => {
  const who = `Child thread ${child.id} ("${child.title}")`
  const base = { noticeId: noticeIdOf(child, what), childThreadId: child.id, at }
  if (what.type === "bootstrap-failed") {
    return {
      ...base,
      kind: "bootstrap-failed",
      text: `${who} could not start: ${what.message}. Check it with t3_thread_status; start it again or archive it with t3_thread_stop.`
    }
  }
  if (what.type === "turn-ended") {
    const { status, reason } = what
    return {
      ...base,
      kind:
        status === "completed" ? "turn-completed" : status === "failed" ? "turn-failed" : "turn-interrupted",
      text:
        status === "completed"
          ? `${who} finished its turn.${quote(child.latestTurn?.lastMessage ?? null)} Read its changes with t3_thread_status; give it more work with t3_thread_send.`
          : `${who} ${status === "failed" ? "failed" : "was interrupted"}: ${reason ?? "no reason given"}. Check it with t3_thread_status; retry with t3_thread_send.`
    }
  }
  const { approval } = what
  const asks =
    approval.kind === "command" ? `to run \`${approval.command ?? "a command"}\`` : "to change files"
  return {
    ...base,
    kind: "needs-approval",
    text: `${who} asks for approval ${asks}. Only the user can answer it: tell them to run 'spindle thread approve ${child.id} ${approval.requestId}' (or decline).`
  }
}

/** What a draft of a child's event is about, if it is one a parent hears of. */
const childEventOf = (draft: EventDraft): ChildEvent | undefined => {
  switch (draft.type) {
    case "thread.turn-ended":
      return { type: "turn-ended", ...draft.payload }
    case "thread.approval-requested":
      return { type: "approval-requested", approval: draft.payload.approval }
    case "thread.bootstrap-failed":
      return { type: "bootstrap-failed", message: draft.payload.error.message }
    default:
      return undefined
  }
}

/** The decision's events, each child's followed by its parent's notice. */
export const withChildNotices = (
  drafts: ReadonlyArray<EventDraft>,
  model: ReadModel,
  now: string
): ReadonlyArray<EventDraft> =>
  drafts.flatMap((draft) => {
    const what = childEventOf(draft)
    if (what === undefined || !("threadId" in draft.payload)) return [draft]
    const child = Option.getOrUndefined(HashMap.get(model.threads, draft.payload.threadId))
    if (child?.parentThreadId == null || child.onDone === "none") return [draft]
    const parent = Option.getOrUndefined(HashMap.get(model.threads, child.parentThreadId))
    if (parent === undefined || parent.status !== "active" || parent.deletedAt !== null) return [draft]
    return [
      draft,
      { type: "thread.child-notified", payload: { threadId: parent.id, notice: noticeFor(what, child, now) } }
    ]
  })
