// The board's one connection to the server and the state it keeps: the read model (a snapshot
// once, then every event folded in by sequence), the connection's state, the errors to show, and,
// for the thread page being looked at, a bounded window of its events, agent items and setup log.
// Reconnects by itself and resumes from its last sequence; an event out of order reloads the
// snapshot rather than guess. Memory is bounded by the number of threads, not of events.
import {
  checkedClient,
  type Sequence,
  type Snapshot,
  SpindleError,
  type SpindleEvent,
  SpindleRpcs,
  type ThreadId
} from "@spindle/contracts"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as RpcClient from "effect/rpc/RpcClient"
import * as RpcSerialization from "effect/rpc/RpcSerialization"
import * as Stream from "effect/Stream"
import * as Socket from "effect/socket/Socket"
import { applyEvent, fromSnapshot, type ReadModel } from "./model.ts"

/**
 * The snapshot `/board/snapshot` answers (the page's HTML preloads it, so it comes while the script
 * loads); undefined when it could not be had (the socket's is asked then). The page and that answer
 * come from one server build, which encoded it with these same contracts, so only its shape is
 * checked here: a full decode of 1,000 threads would cost the first render a fifth of its time.
 */
const preloadedSnapshot = (): Promise<Snapshot | undefined> =>
  fetch("/board/snapshot", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : undefined))
    .then((json: { sequence?: unknown; projects?: unknown; threads?: unknown } | undefined) =>
      json !== undefined &&
      typeof json.sequence === "number" &&
      Array.isArray(json.projects) &&
      Array.isArray(json.threads)
        ? (json as Snapshot)
        : undefined
    )
    .catch(() => undefined)

const makeClient = (url: string) =>
  Effect.gen(function* () {
    const protocol = yield* Layer.build(
      RpcClient.layerProtocolSocket({ retryTransientErrors: false }).pipe(
        Layer.provide(Socket.layerWebSocket(url, { openTimeout: "5 seconds" })),
        Layer.provide(Socket.layerWebSocketConstructorGlobal),
        Layer.provide(RpcSerialization.layerJson)
      )
    )
    return checkedClient(yield* RpcClient.make(SpindleRpcs).pipe(Effect.provideContext(protocol)))
  })
export type Client = Effect.Success<ReturnType<typeof makeClient>>

export type ConnectionState =
  | { readonly kind: "connecting" }
  | { readonly kind: "live"; readonly since: number }
  | { readonly kind: "reconnecting"; readonly attempt: number; readonly reason: string }
  | { readonly kind: "signed-out"; readonly reason: string }

export interface Notice {
  readonly id: number
  readonly message: string
  readonly at: number
}

/** One agent item as it streamed: text and output are the deltas joined (capped, end kept). */
export interface ItemView {
  readonly key: string
  readonly kind: string
  readonly turnId: string
  text: string
  command?: string
  output: string
  exitCode?: number | null
  changes?: ReadonlyArray<{ readonly path: string; readonly kind: string }>
  /** Tool calls: the tool and its server. */
  tool?: string
  server?: string
  status: string
}

export interface Watched {
  readonly threadId: ThreadId
  /** The thread's latest events, oldest first (at most MAX_WATCHED_EVENTS). */
  events: Array<SpindleEvent>
  items: Map<string, ItemView>
  setupLog: { run: number | null; text: string; streaming: boolean }
  historyLoaded: boolean
}

export const MAX_WATCHED_EVENTS = 500
const MAX_ITEMS = 200
const MAX_TEXT = 16_384
const MAX_SETUP_LOG = 64 * 1024
const MAX_NOTICES = 5

const keepEnd = (text: string, max: number) => (text.length > max ? text.slice(text.length - max) : text)

/** The message of whatever failed: a SpindleError's own words, else the error's. */
export const messageOf = (cause: Cause.Cause<unknown>): string => {
  const error = Cause.squash(cause)
  if (error instanceof SpindleError) return `${error.reason}: ${error.message}`
  if (typeof error === "object" && error !== null && "message" in error) return String(error.message)
  return String(error)
}

export class BoardStore {
  model: ReadModel | undefined
  connection: ConnectionState = { kind: "connecting" }
  notices: Array<Notice> = []
  watched: Watched | undefined
  client: Client | undefined
  /** How many events were folded in since the page loaded (for the page and its tests). */
  eventsApplied = 0
  private listeners = new Set<() => void>()
  private scheduled = false
  private noticeId = 0
  /** Counts changes, so a view that subscribes after its first render knows whether it missed one. */
  version = 0
  private setupFiber: Fiber.Fiber<unknown, unknown> | undefined

  private readonly wsUrl: string

  constructor(wsUrl: string) {
    this.wsUrl = wsUrl
  }

  subscribe(listener: () => void) {
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** Listeners hear of changes at most once per frame, however many events arrived. */
  private changed() {
    this.version++
    if (this.scheduled) return
    this.scheduled = true
    const flush = () => {
      this.scheduled = false
      for (const listener of this.listeners) listener()
    }
    if (typeof requestAnimationFrame === "function" && document.visibilityState === "visible") {
      requestAnimationFrame(flush)
    } else setTimeout(flush, 16)
  }

  notify(message: string) {
    this.notices = [...this.notices, { id: ++this.noticeId, message, at: Date.now() }].slice(-MAX_NOTICES)
    this.changed()
  }

  dismiss(id: number) {
    this.notices = this.notices.filter((n) => n.id !== id)
    this.changed()
  }

  /** Runs a call on the live client; its failure is shown, never swallowed. Resolves undefined then. */
  run<A>(f: (client: Client) => Effect.Effect<A, unknown>): Promise<A | undefined> {
    const client = this.client
    if (client === undefined) {
      this.notify("Not connected to the server; try again once the board is live.")
      return Promise.resolve(undefined)
    }
    return Effect.runPromiseExit(f(client)).then((exit) => {
      if (exit._tag === "Success") return exit.value
      this.notify(messageOf(exit.cause))
      return undefined
    })
  }

  private apply(event: SpindleEvent) {
    const model = this.model
    if (model === undefined || event.sequence <= model.sequence) return
    if (event.sequence !== model.sequence + 1) {
      throw new Error(`event ${event.sequence} after ${model.sequence}: a gap; reloading the snapshot`)
    }
    this.model = applyEvent(model, event)
    this.eventsApplied++
    const watched = this.watched
    if (watched !== undefined && "threadId" in event.payload && event.payload.threadId === watched.threadId) {
      this.record(watched, event)
      if (event.type === "thread.setup-started") this.followSetupLog(watched)
    }
    this.changed()
  }

  private record(watched: Watched, event: SpindleEvent) {
    const last = watched.events.at(-1)
    if (last !== undefined && event.sequence <= last.sequence) return
    watched.events.push(event)
    if (watched.events.length > MAX_WATCHED_EVENTS)
      watched.events.splice(0, watched.events.length - MAX_WATCHED_EVENTS)
    if (event.type !== "thread.turn-item") return
    const { item, phase, turnId } = event.payload
    const key = `${turnId}/${item.id}`
    let view = watched.items.get(key)
    if (view === undefined) {
      view = { key, kind: item.kind, turnId, text: "", output: "", status: phase }
      watched.items.set(key, view)
      if (watched.items.size > MAX_ITEMS) watched.items.delete(watched.items.keys().next().value!)
    }
    // `updated` carries what was added; `started` and `completed` carry the whole so far.
    if (item.text !== undefined)
      view.text = keepEnd(phase === "updated" ? view.text + item.text : item.text, MAX_TEXT)
    if (item.output !== undefined) {
      view.output = keepEnd(phase === "updated" ? view.output + item.output : item.output, MAX_TEXT)
    }
    if (item.command !== undefined) view.command = item.command
    if (item.exitCode !== undefined) view.exitCode = item.exitCode
    if (item.changes !== undefined) view.changes = item.changes
    if (item.tool !== undefined) view.tool = item.tool
    if (item.server !== undefined) view.server = item.server
    view.status = item.status ?? phase
  }

  /** Keeps a window on one thread for its page: history first, then what streams in. */
  watch(threadId: ThreadId) {
    if (this.watched?.threadId === threadId) return
    this.unwatch()
    const watched: Watched = {
      threadId,
      events: [],
      items: new Map(),
      setupLog: { run: null, text: "", streaming: false },
      historyLoaded: false
    }
    this.watched = watched
    this.loadHistory(watched)
    this.followSetupLog(watched)
    this.changed()
  }

  unwatch() {
    if (this.setupFiber !== undefined) Effect.runFork(Fiber.interrupt(this.setupFiber))
    this.setupFiber = undefined
    this.watched = undefined
  }

  private loadHistory(watched: Watched) {
    void this.run((client) =>
      client["thread.events"]({ threadId: watched.threadId, limit: MAX_WATCHED_EVENTS })
    ).then((history) => {
      if (this.watched !== watched || history === undefined) return
      const live = watched.events
      watched.events = []
      watched.items = new Map()
      for (const event of history) this.record(watched, event)
      for (const event of live) this.record(watched, event)
      watched.historyLoaded = true
      this.changed()
    })
  }

  /** Streams the setup log of the thread's current run (the log so far, then its lines live). */
  private followSetupLog(watched: Watched) {
    const client = this.client
    if (client === undefined) return
    if (this.setupFiber !== undefined) Effect.runFork(Fiber.interrupt(this.setupFiber))
    watched.setupLog = { run: null, text: "", streaming: true }
    this.setupFiber = Effect.runFork(
      client["thread.streamSetupLog"]({ threadId: watched.threadId }).pipe(
        Stream.runForEach((item) =>
          Effect.sync(() => {
            if (this.watched !== watched) return
            const log = watched.setupLog
            if (item.kind === "log")
              watched.setupLog = { run: item.run, text: keepEnd(item.text, MAX_SETUP_LOG), streaming: true }
            else
              watched.setupLog = {
                ...log,
                run: item.run,
                text: keepEnd(`${log.text}${item.line}\n`, MAX_SETUP_LOG)
              }
            this.changed()
          })
        ),
        Effect.catchCause((cause) =>
          Cause.hasInterruptsOnly(cause)
            ? Effect.void
            : Effect.sync(() => this.notify(`Setup log: ${messageOf(cause)}`))
        ),
        Effect.ensuring(
          Effect.sync(() => {
            if (this.watched === watched) {
              watched.setupLog = { ...watched.setupLog, streaming: false }
              this.changed()
            }
          })
        )
      )
    )
  }

  /** One connection: a client, the snapshot if there is none yet, then the events from our sequence. */
  private session = Effect.suspend(() => this.connectOnce()).pipe(Effect.scoped)

  private connectOnce() {
    const self = this
    return Effect.gen(function* () {
      const client = yield* makeClient(self.wsUrl)
      if (self.model === undefined) {
        self.model = fromSnapshot(yield* client["orchestration.getSnapshot"]())
      }
      const model = self.model
      self.client = client
      self.connection = { kind: "live", since: Date.now() }
      self.changed()
      if (self.watched !== undefined) {
        // What it missed while away comes with the events; its setup log stream needs a new start.
        self.followSetupLog(self.watched)
      }
      yield* client["orchestration.subscribe"]({ fromSequence: model.sequence as Sequence }).pipe(
        Stream.runForEach((event) => Effect.sync(() => self.apply(event)))
      )
    })
  }

  /** Runs forever: connect, follow, and after any end wait a little and connect again. */
  start() {
    const self = this
    // The first state comes from the preloaded snapshot, shown as soon as it is here; then the
    // socket follows from its sequence (and asks for a snapshot itself only without one).
    const first = Effect.promise(preloadedSnapshot).pipe(
      Effect.tap((snapshot) =>
        Effect.sync(() => {
          if (snapshot === undefined || self.model !== undefined) return
          self.model = fromSnapshot(snapshot)
          self.changed()
        })
      )
    )
    const loop = Effect.gen(function* () {
      let attempt = 0
      while (true) {
        const exit = yield* Effect.exit(self.session)
        self.client = undefined
        attempt = self.connection.kind === "live" ? 1 : attempt + 1
        const reason = exit._tag === "Failure" ? messageOf(exit.cause) : "the event stream ended"
        if (/gap; reloading/.test(reason)) self.model = undefined
        if (/unauthorized/.test(reason) || (yield* signedOut)) {
          self.connection = { kind: "signed-out", reason }
          self.changed()
          return
        }
        self.connection = { kind: "reconnecting", attempt, reason }
        self.changed()
        yield* Effect.sleep(Math.min(200 * 2 ** Math.min(attempt - 1, 4), 3000))
      }
    })
    Effect.runFork(Effect.andThen(first, loop))
  }
}

/** Whether the server says this browser has no session (a revoked or expired cookie). */
const signedOut = Effect.promise(() =>
  fetch("/board/session", { credentials: "same-origin" })
    .then((r) => r.status === 401)
    .catch(() => false)
)
