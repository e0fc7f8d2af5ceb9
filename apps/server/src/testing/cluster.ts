// Several real `spindle serve` hosts on one throwaway Postgres database, as a team runs them: each
// its own home and port, one store, one cluster secret, loopback only. Hosts can be killed,
// stopped (SIGSTOP) and started again on the same home. Not shipped.
import { randomBytes } from "node:crypto"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { Host } from "@spindle/contracts"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { makeClient } from "../cli/rpcClient.ts"
import { git } from "./fixtures.ts"
import { runSpindle, type ServerProcess, startServer } from "./serverProcess.ts"
import { postgresFor } from "./testStore.ts"

export interface ClusterHost {
  readonly name: string
  readonly home: string
  /** What `spindle` needs to talk to this host (its home: server.json and the owner token). */
  readonly env: { readonly SPINDLE_HOME: string }
  /** The running server (replaced by `restart`). */
  server: ServerProcess
  readonly token: () => string
}

export interface Cluster {
  readonly store: string
  readonly secretFile: string
  readonly hosts: ReadonlyArray<ClusterHost>
  /** Starts `host` again on its home, with the arguments it first had. */
  readonly restart: (host: ClusterHost) => Effect.Effect<void, Error, Scope.Scope>
}

export interface HostOptions {
  readonly args?: ReadonlyArray<string>
  readonly env?: NodeJS.ProcessEnv
}

/** Starts one host per name on a fresh database of the test cluster at `admin`, in `dir`. */
export const startCluster = (
  admin: string,
  dir: string,
  names: ReadonlyArray<string>,
  options: (name: string) => HostOptions = () => ({})
) =>
  Effect.gen(function* () {
    const store = postgresFor(admin, join(dir, "cluster-store"))
    const secretFile = join(dir, "cluster-secret")
    writeFileSync(secretFile, `${randomBytes(32).toString("hex")}\n`, { mode: 0o600 })
    const argsOf = (name: string) => [
      "--store",
      store,
      "--host-name",
      name,
      "--cluster-secret-file",
      secretFile,
      ...(options(name).args ?? [])
    ]
    const start = (name: string, home: string) =>
      startServer(home, argsOf(name), 30_000, options(name).env ?? {})
    const hosts: Array<ClusterHost> = []
    for (const name of names) {
      const home = join(dir, `home-${name}`)
      mkdirSync(home, { recursive: true, mode: 0o700 })
      const server = yield* start(name, home)
      hosts.push({
        name,
        home,
        env: { SPINDLE_HOME: home },
        server,
        token: () => readFileSync(join(home, "owner-token"), "utf8").trim()
      })
    }
    const restart = (host: ClusterHost) =>
      Effect.map(start(host.name, host.home), (server) => {
        host.server = server
      })
    return { store, secretFile, hosts, restart } satisfies Cluster
  })

/** `spindle <args> --json` against `host`, which must succeed: its parsed output. */
export const spindleJson = <A>(host: ClusterHost, args: ReadonlyArray<string>) =>
  Effect.flatMap(runSpindle([...args, "--json"], host.env, "90 seconds"), (out) =>
    out.code === 0
      ? Effect.succeed(JSON.parse(out.stdout) as A)
      : Effect.die(new Error(`spindle ${args.join(" ")} on ${host.name} exited ${out.code}:\n${out.output}`))
  )

/** The hosts as `host` lists them, by name. */
export const hostsByName = (host: ClusterHost) =>
  Effect.map(spindleJson<Array<Host>>(host, ["hosts"]), (all) => new Map(all.map((h) => [h.name, h])))

/** A WebSocket client of `host`, closed with the scope. */
export const clientOf = (host: ClusterHost) => makeClient({ url: host.server.url, token: host.token() })

/** A clone of `repo` (the same repository, its own checkout) at `path`. */
export const cloneOf = (repo: string, path: string) => {
  git(repo, "clone", "--quiet", repo, path)
  return path
}

/** Clones `repo` for each of `hosts` (in `dir`) and adds each clone as its checkout of `projectId`. */
export const addCheckouts = (
  client: Effect.Success<ReturnType<typeof clientOf>>,
  projectId: string,
  repo: string,
  dir: string,
  hosts: ReadonlyArray<ClusterHost>
) =>
  Effect.forEach(
    hosts,
    (host) =>
      client["orchestration.dispatchCommand"]({
        command: {
          type: "project.checkout.add",
          commandId: `checkout-${host.name}`,
          projectId,
          workspaceRoot: cloneOf(repo, join(dir, `clone-${host.name}`)),
          host: host.name
        }
      }),
    { discard: true }
  )
