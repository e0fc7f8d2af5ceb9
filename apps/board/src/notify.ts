// What the board tells a person about in the browser: which threads entered a state they asked
// to hear of since the last look, and how many need them. Pure.
import { changesText, type Thread, type ThreadId } from "@spindle/contracts"
import { columnOf, needsYou } from "./model.ts"

/** What a person may be told about by the browser. */
export type NotifyEvent = "approval" | "failed" | "review"

export const NOTIFY_EVENTS: ReadonlyArray<{ readonly id: NotifyEvent; readonly label: string }> = [
  { id: "approval", label: "an approval waits" },
  { id: "failed", label: "a turn or setup failed" },
  { id: "review", label: "ready to review" }
]

/** The thread's state as far as notifications go (undefined: nothing to tell). */
const notifyStateOf = (thread: Thread): NotifyEvent | undefined => {
  if (thread.status !== "active") return undefined
  if (thread.pendingApprovals.length > 0) return "approval"
  const column = columnOf(thread)
  return column === "needs-you" ? "failed" : column === "review" ? "review" : undefined
}

/**
 * The notifications due since `before` (each thread's last state, by id): a thread that entered a
 * state the person asked about. Answers them and every thread's state now. With `before`
 * undefined (the first look after loading) nothing is due: only changes are news.
 */
export const notificationsDue = (
  before: ReadonlyMap<ThreadId, NotifyEvent | undefined> | undefined,
  threads: ReadonlyArray<Thread>,
  wanted: ReadonlySet<NotifyEvent>
): {
  readonly now: Map<ThreadId, NotifyEvent | undefined>
  readonly due: Array<{ readonly threadId: ThreadId; readonly title: string; readonly body: string }>
} => {
  const now = new Map<ThreadId, NotifyEvent | undefined>()
  const due: Array<{ threadId: ThreadId; title: string; body: string }> = []
  for (const thread of threads) {
    const state = notifyStateOf(thread)
    now.set(thread.id, state)
    if (before === undefined || state === undefined || before.get(thread.id) === state || !wanted.has(state))
      continue
    const body =
      state === "approval"
        ? (thread.pendingApprovals[0]?.command ?? "The agent asks for your approval.")
        : state === "failed"
          ? (needsYou(thread) ?? "It needs you.")
          : thread.changes === null
            ? "Its turn completed."
            : `Its turn completed: ${changesText(thread.changes)}.`
    due.push({
      threadId: thread.id,
      title: `${thread.title}: ${NOTIFY_EVENTS.find((e) => e.id === state)?.label}`,
      body
    })
  }
  return { now, due }
}

/** How many threads need the person (for the tab's title). */
export const needsYouCount = (threads: ReadonlyArray<Thread>): number =>
  threads.filter((t) => columnOf(t) === "needs-you").length
