// The hosts sharing this server's store. At start the server registers its row (id, name, URL,
// capacity, version) and then heartbeats by the store's clock; a clean stop marks it stopped. A
// host whose heartbeat is older than HOST_OFFLINE_MS is offline (killed, hung, or cut off from
// the store). Lists the hosts with the threads each owns and the turn slots in use.
//
// Hosts run side by side on one store only with a cluster secret (`--cluster-secret-file`), which
// they sign their calls to each other with; without one, a host is refused at start while another
// is online on the store.
import {
  HOST_HEARTBEAT_MS,
  HOST_OFFLINE_MS,
  type Host,
  type SpindleError,
  type Thread
} from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as HashMap from "effect/HashMap"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as SqlClient from "effect/sql/SqlClient"
import type { SqlError } from "effect/sql/SqlError"
import * as SqlSchema from "effect/sql/SqlSchema"
import { CurrentHost, type HostIdentity } from "../config/HostIdentity.ts"
import { AdmissionLimits, ServerConfig } from "../config/ServerConfig.ts"
import { Engine } from "../engine/Engine.ts"
import { holdsTurnSlot } from "../engine/occupancy.ts"
import { dialect } from "../persistence/dialect.ts"
import { LogSignals } from "../persistence/LogSignals.ts"
import { storeFailed } from "../persistence/storageFull.ts"
import { VERSION } from "../version.ts"

export class HostError extends Schema.TaggedError<HostError>()("HostError", {
  reason: Schema.Literals(["host-online", "lease-lost", "unavailable"]),
  message: Schema.String
}) {}

/**
 * Where a host that lost its lease says so: `spindle serve` stops the server on it (its agents
 * stopped, its row marked stopped). Unset (a server inside a test), it is only logged.
 */
export const LeaseLost = Context.Reference<Deferred.Deferred<never, HostError> | undefined>(
  "spindle/hosts/LeaseLost",
  { defaultValue: () => undefined }
)

const Row = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  url: Schema.String,
  max_running_turns: Schema.NullOr(Schema.Int),
  version: Schema.String,
  started_at: Schema.String,
  heartbeat_at: Schema.String,
  stopped_at: Schema.NullOr(Schema.String),
  now: Schema.String
})
type Row = typeof Row.Type

const stateOf = (row: Row): Host["state"] =>
  row.stopped_at !== null
    ? "stopped"
    : Date.parse(row.now) - Date.parse(row.heartbeat_at) > HOST_OFFLINE_MS
      ? "offline"
      : "online"

/** Another host as a caller needs it: where it is and whether it is there. */
export interface Peer {
  readonly id: string
  readonly name: string
  readonly url: string
  readonly state: Host["state"]
  readonly heartbeatAt: string
}

const peerOf = (row: Row): Peer => ({
  id: row.id,
  name: row.name,
  url: row.url,
  state: stateOf(row),
  heartbeatAt: row.heartbeat_at
})

export class Hosts extends Context.Service<
  Hosts,
  {
    /** This server's host. */
    readonly self: HostIdentity
    /** Registers this host at `url` and heartbeats until the scope closes, then marks it stopped. */
    readonly register: (url: string) => Effect.Effect<void, SpindleError, Scope.Scope>
    /** Every host of the store, this one first, with its state and load. */
    readonly list: Effect.Effect<ReadonlyArray<Host>, SpindleError>
    /** One host's address and state; undefined when the store does not know it. */
    readonly peer: (id: string) => Effect.Effect<Peer | undefined, SpindleError>
  }
>()("spindle/hosts/Hosts") {
  static readonly layer = Layer.effect(
    Hosts,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const engine = yield* Engine
      const limits = yield* AdmissionLimits
      const current = yield* CurrentHost
      const self = current ?? { id: "host_local", name: "local" }
      const { nowIso } = dialect(sql)
      const signals = yield* LogSignals
      const lost = yield* LeaseLost
      const { clusterSecret } = yield* ServerConfig

      const findAll = SqlSchema.findAll({
        Request: Schema.Void,
        Result: Row,
        execute: () => sql`SELECT *, ${nowIso} AS now FROM hosts ORDER BY started_at`
      })
      const rows = findAll(undefined).pipe(Effect.mapError(storeFailed("Reading the store's hosts")))

      // Refused before this server listens: without the secret it could not reach the other
      // hosts, nor they it, so their threads' commands would have nowhere to go.
      const others = (yield* rows).filter((row) => row.id !== self.id && stateOf(row) === "online")
      if (others.length > 0 && clusterSecret === undefined) {
        const names = others.map((row) => `${row.name} (${row.url})`).join(", ")
        return yield* new HostError({
          reason: "host-online",
          message: `Another Spindle host is online on this store: ${names}. Hosts share a store only with a cluster secret: start every one of them with the same --cluster-secret-file, or give this one its own store (--store).`
        })
      }

      const write = (what: string, effect: Effect.Effect<unknown, SqlError>) =>
        effect.pipe(Effect.asVoid, Effect.mapError(storeFailed(what)))

      const register = (url: string) =>
        Effect.gen(function* () {
          const max = Number.isFinite(limits.runningTurns) ? limits.runningTurns : null
          yield* write(
            "Registering this host",
            sql`
              INSERT INTO hosts (id, name, url, max_running_turns, version, started_at, heartbeat_at, stopped_at)
              VALUES (${self.id}, ${self.name}, ${url}, ${max}, ${VERSION}, ${nowIso}, ${nowIso}, NULL)
              ON CONFLICT (id) DO UPDATE SET name = excluded.name, url = excluded.url,
                max_running_turns = excluded.max_running_turns, version = excluded.version,
                started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, stopped_at = NULL`
          )
          const renew = sql`UPDATE hosts SET heartbeat_at = ${nowIso} WHERE id = ${self.id}`
          // On a shared store the heartbeat is this host's lease. One that lapsed (the process was
          // stopped, or cut off from the store, for longer than HOST_OFFLINE_MS) may have let
          // another host take the store: this host stops rather than run beside it. The embedded
          // store has its home's lock instead.
          const beat = (
            signals.shared
              ? Effect.gen(function* () {
                  const [row] = yield* sql<{ readonly heartbeat_at: string; readonly now: string }>`
                    SELECT heartbeat_at, ${nowIso} AS now FROM hosts WHERE id = ${self.id}`
                  const age =
                    row === undefined
                      ? Number.POSITIVE_INFINITY
                      : Date.parse(row.now) - Date.parse(row.heartbeat_at)
                  if (age <= HOST_OFFLINE_MS) return yield* renew
                  const message = `This host's lease on the store lapsed: its last heartbeat is ${Math.round(age / 1000)} s old (the process was stopped or cut off from the store), so another host may have taken the store. Stopping; start it again (it recovers its threads).`
                  yield* Effect.logError(message)
                  if (lost !== undefined)
                    yield* Deferred.fail(lost, new HostError({ reason: "lease-lost", message }))
                })
              : renew
          ).pipe(Effect.catchCause((cause) => Effect.logWarning("A host heartbeat failed", cause)))
          yield* Effect.forkScoped(Effect.repeat(beat, Schedule.spaced(`${HOST_HEARTBEAT_MS} millis`)))
          yield* Effect.addFinalizer(() =>
            sql`UPDATE hosts SET stopped_at = ${nowIso} WHERE id = ${self.id}`.pipe(Effect.ignore)
          )
        })

      const list = Effect.gen(function* () {
        const model = yield* engine.readModel
        const load = new Map<string, { threads: number; runningTurns: number }>()
        for (const thread of HashMap.values(model.threads) as Iterable<Thread>) {
          // A queued thread no host holds yet is placed when a slot frees.
          if (thread.deletedAt !== null || (thread.host === null && thread.status === "queued")) continue
          // Threads from before hosts were recorded were made by this store's one host.
          const owner = thread.host ?? self.id
          const entry = load.get(owner) ?? { threads: 0, runningTurns: 0 }
          entry.threads += 1
          if (holdsTurnSlot(thread)) entry.runningTurns += 1
          load.set(owner, entry)
        }
        const all = yield* rows
        return all
          .map(
            (row): Host => ({
              id: row.id,
              name: row.name,
              url: row.url,
              state: stateOf(row),
              maxRunningTurns: row.max_running_turns,
              runningTurns: load.get(row.id)?.runningTurns ?? 0,
              threads: load.get(row.id)?.threads ?? 0,
              version: row.version,
              startedAt: row.started_at,
              heartbeatAt: row.heartbeat_at,
              stoppedAt: row.stopped_at,
              self: row.id === self.id
            })
          )
          .sort((a, b) => Number(b.self) - Number(a.self))
      })

      const findOne = SqlSchema.findAll({
        Request: Schema.String,
        Result: Row,
        execute: (id) => sql`SELECT *, ${nowIso} AS now FROM hosts WHERE id = ${id}`
      })
      const peer = (id: string) =>
        findOne(id).pipe(
          Effect.map(([row]) => (row === undefined ? undefined : peerOf(row))),
          Effect.mapError(storeFailed("Reading a host of the store"))
        )

      return { self, register, list, peer }
    })
  )
}
