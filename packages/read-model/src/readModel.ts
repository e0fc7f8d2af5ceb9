// The in-memory read model the decider decides against, the projector folds events into and
// persistence stores: plain types below every service, so no layer reaches up for them.
// Persistent maps keep each update O(log n) without copying every thread.
import type { EventDraft, Project, ProjectId, Thread, ThreadId } from "@spindle/contracts"
import * as HashMap from "effect/HashMap"

export interface ReadModel {
  /** The sequence of the last event folded in. */
  readonly sequence: number
  readonly projects: HashMap.HashMap<ProjectId, Project>
  readonly threads: HashMap.HashMap<ThreadId, Thread>
  /** The queued threads, next to start first (kept by the projector; rebuilt from threads on load). */
  readonly queue: ReadonlyArray<ThreadId>
}

export const emptyReadModel: ReadModel = {
  sequence: 0,
  projects: HashMap.empty(),
  threads: HashMap.empty(),
  queue: []
}

/** The queue as the threads say it (status `queued`, in the order they were queued). */
export const queueOf = (threads: HashMap.HashMap<ThreadId, Thread>): ReadonlyArray<ThreadId> =>
  Array.from(HashMap.values(threads))
    .filter((thread) => thread.status === "queued" && thread.queue !== null)
    .sort((a, b) => (a.queue?.sequence ?? 0) - (b.queue?.sequence ?? 0))
    .map((thread) => thread.id)

export type AggregateRef =
  | { readonly kind: "project"; readonly id: ProjectId }
  | { readonly kind: "thread"; readonly id: ThreadId }

/** The one project or thread an event changes. */
export const aggregateOf = (event: EventDraft): AggregateRef => {
  switch (event.type) {
    case "project.created":
      return { kind: "project", id: event.payload.project.id }
    case "project.updated":
    case "project.deleted":
    case "project.overlap-changed":
    case "project.notify-delivered":
    case "project.notify-failed":
    case "project.checkout-added":
      return { kind: "project", id: event.payload.projectId }
    case "thread.created":
    case "thread.queued":
      return { kind: "thread", id: event.payload.thread.id }
    default:
      return { kind: "thread", id: event.payload.threadId }
  }
}

/** The thread an event is about, if it is about one. */
export const threadOfEvent = (event: EventDraft): ThreadId | undefined => {
  const ref = aggregateOf(event)
  return ref.kind === "thread" ? ref.id : undefined
}
