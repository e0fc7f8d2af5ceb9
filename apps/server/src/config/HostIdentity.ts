// Which host this server is: an id kept in `<home>/host-id` (made once, so a restart is the same
// host) and a name (`--host-name`, default the machine's). Threads this host creates name it as
// their owner; the store's `hosts` table lists it (hosts/Hosts.ts).
import { randomBytes } from "node:crypto"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { hostname } from "node:os"
import { join } from "node:path"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"

export interface HostIdentity {
  readonly id: string
  readonly name: string
}

/** This server's host; undefined where no host is set up (tests of the engine alone). */
export const CurrentHost = Context.Reference<HostIdentity | undefined>("spindle/config/CurrentHost", {
  defaultValue: () => undefined
})

const ID = /^host_[0-9a-f]{12}$/u

export const hostIdPath = (home: string) => join(home, "host-id")

/** The home's host id, made on first use. A file that does not hold one is replaced by a new id. */
export const loadHostId = (home: string): string => {
  const path = hostIdPath(home)
  const kept = existsSync(path) ? readFileSync(path, "utf8").trim() : ""
  if (ID.test(kept)) return kept
  const id = `host_${randomBytes(6).toString("hex")}`
  writeFileSync(path, `${id}\n`, { mode: 0o600 })
  return id
}

export const defaultHostName = () => hostname()

export const layer = (home: string, name: string | undefined) =>
  Layer.sync(CurrentHost, () => ({ id: loadHostId(home), name: name ?? defaultHostName() }))

/**
 * Whether `host` acts on the thread: it made it (it holds the worktree and runs the setup and the
 * agent). Threads from before hosts were recorded (host null) belong to whichever host runs; with
 * no host set up (the engine alone), every thread is its own.
 */
export const ownedBy = (host: HostIdentity | undefined, thread: { readonly host: string | null }) =>
  host === undefined || thread.host === null || thread.host === host.id
