// The shared invariants over several hosts on one store: one gapless log that every host has
// caught up with and every subscriber saw once and in order; on each host, worktrees and
// spindle/* branches that match the live threads it owns, both ways (another host's worktrees are
// in its own home and its own clone); no thread stuck in a transient state; every seeded change of
// a user still there.
import { existsSync, readFileSync } from "node:fs"
import type { Snapshot } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Stream from "effect/Stream"
import type { SpindleClient } from "../../src/cli/rpcClient.ts"
import { type SeededChange, transient, workspaceViolations } from "./invariants.ts"
import { caughtUp, type Tracker, trackerViolations } from "./tracker.ts"

export interface ClusterMember {
  readonly name: string
  readonly id: string
  readonly home: string
  readonly client: SpindleClient
}

export interface ClusterInvariantInput {
  readonly members: ReadonlyArray<ClusterMember>
  readonly trackers: ReadonlyArray<Tracker>
  readonly seeded?: ReadonlyArray<SeededChange>
  /** Also wait (up to 120 s) for the start queue to empty: every queued start placed and begun. */
  readonly drainQueue?: boolean
}

/** The first host's snapshot once nothing is in flight (at most 30 s; 120 s to drain the queue). */
const settled = (client: SpindleClient, drainQueue: boolean) =>
  client["orchestration.getSnapshot"]().pipe(
    Effect.repeat({
      until: (snapshot) =>
        !snapshot.threads.some((t) => transient(t) || (drainQueue && t.status === "queued")),
      schedule: Schedule.spaced("200 millis")
    }),
    Effect.timeoutOption(drainQueue ? "120 seconds" : "30 seconds"),
    Effect.flatMap((found) =>
      found._tag === "Some" ? Effect.succeed(found.value) : client["orchestration.getSnapshot"]()
    )
  )

export const checkClusterInvariants = (input: ClusterInvariantInput) =>
  Effect.gen(function* () {
    const violations: Array<string> = []
    const notes: Array<string> = []
    const first = input.members[0]
    if (first === undefined)
      return { violations: ["no hosts"], notes, events: 0, threads: 0, worktrees: 0, settledMs: 0 }
    const settling = Date.now()
    const snapshot = yield* settled(first.client, input.drainQueue === true)
    const settledMs = Date.now() - settling
    for (const thread of snapshot.threads) {
      if (transient(thread))
        violations.push(`thread ${thread.id} (host ${thread.host}) is stuck in a transient state`)
    }
    // Every host reaches the same end of the log.
    const last = Math.max(
      ...(yield* Effect.forEach(input.members, (m) =>
        Effect.map(m.client["server.getStatus"](), (status) => status.sequence)
      ))
    )
    for (const member of input.members) {
      const reached = yield* member.client["server.getStatus"]().pipe(
        Effect.map((status) => status.sequence),
        Effect.repeat({ until: (sequence) => sequence >= last, schedule: Schedule.spaced("50 millis") }),
        Effect.timeoutOption("10 seconds")
      )
      if (reached._tag === "None")
        violations.push(`host ${member.name} did not catch up with the log's end (${last})`)
    }
    // Gapless: a fresh read of the whole log from the first host is 1..last, each once.
    const sequences: Array<number> = []
    yield* first.client["orchestration.subscribe"]({ fromSequence: 0 }).pipe(
      Stream.takeUntil((event) => event.sequence >= last),
      Stream.runForEach((event) => Effect.sync(() => sequences.push(event.sequence))),
      Effect.timeoutOption("30 seconds")
    )
    const gaps = sequences.filter((s, i) => s !== i + 1).length
    if (gaps > 0 || sequences.length !== last)
      violations.push(`the log read back has ${sequences.length} events to ${last}, ${gaps} out of place`)
    for (const tracker of input.trackers) {
      yield* caughtUp(tracker, last)
      violations.push(...trackerViolations(tracker, last))
    }
    // Each host's worktrees and branches against the threads it owns, in its home and its clone.
    let worktrees = 0
    for (const member of input.members) {
      const own: Snapshot = yield* Effect.map(member.client["orchestration.getSnapshot"](), (s) => ({
        ...s,
        threads: s.threads.filter((t) => t.host === member.id)
      }))
      const before = violations.length
      workspaceViolations(member.home, own, violations, notes)
      for (let i = before; i < violations.length; i++) violations[i] = `${member.name}: ${violations[i]}`
      worktrees += own.threads.filter((t) => t.workspace.worktreePath !== null).length
    }
    for (const change of input.seeded ?? []) {
      if (!existsSync(change.path)) violations.push(`${change.path} (a user's change) was removed`)
      else if (readFileSync(change.path, "utf8") !== change.content)
        violations.push(`${change.path} was changed`)
    }
    return { violations, notes, events: last, threads: snapshot.threads.length, worktrees, settledMs }
  })
