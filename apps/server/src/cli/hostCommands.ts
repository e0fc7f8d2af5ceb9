// `spindle hosts`: the hosts sharing the server's store, with their state (online, offline,
// stopped), load (turn slots in use against their limit) and threads.
import type { Host } from "@spindle/contracts"
import * as Command from "effect/cli/Command"
import * as Effect from "effect/Effect"
import { withClient } from "./connect.ts"
import { print, table } from "./output.ts"

const load = (host: Host) =>
  `${host.runningTurns}/${host.maxRunningTurns === null ? "unlimited" : host.maxRunningTurns}`

export const hostsCommand = Command.make("hosts", {}, () =>
  Effect.gen(function* () {
    const hosts = yield* withClient((client) => client["hosts.list"]())
    yield* print(hosts, (all) =>
      table(
        ["HOST", "NAME", "STATE", "TURNS", "THREADS", "URL", "LAST HEARTBEAT"],
        all.map((host) => [
          `${host.id}${host.self ? " *" : ""}`,
          host.name,
          host.state,
          load(host),
          String(host.threads),
          host.url,
          host.heartbeatAt
        ])
      )
    )
  })
).pipe(
  Command.withDescription(
    "The hosts sharing this server's store: state, turns in use against the limit, threads (* this server)"
  )
)
