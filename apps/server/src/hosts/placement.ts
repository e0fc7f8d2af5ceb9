// Where a new thread runs, decided by the host a start arrives at. Pure: the hosts as listed (state
// and load), the project's checkouts and what the caller asked for. A host named by the caller is
// taken as named; an agent's child goes to its parent's host (its base branch is there); any other
// start goes to the online host with a checkout that has the most free turn slots, then the fewest
// threads, this host first among equals. With every host full the start still goes to one of them,
// where admission queues it for whichever host frees a slot first.
import { type Host, type Project, SpindleError } from "@spindle/contracts"
import { hasCheckoutOn } from "@spindle/read-model"
import * as Result from "effect/Result"

export interface PlacementRequest {
  readonly project: Project
  /** The host the caller named (id or name). */
  readonly named?: string | undefined
  /** The parent's host, for an agent's child. */
  readonly parentHost?: string | null | undefined
}

const free = (host: Host) =>
  host.maxRunningTurns === null ? Number.POSITIVE_INFINITY : host.maxRunningTurns - host.runningTurns

const describe = (host: Host) => `${host.name} (${host.id}, ${host.state})`

/** Finds a host by id, else by name; a name two hosts share must be given as an id. */
export const findHost = (hosts: ReadonlyArray<Host>, ref: string): Result.Result<Host, SpindleError> => {
  const byId = hosts.find((host) => host.id === ref)
  if (byId !== undefined) return Result.succeed(byId)
  const byName = hosts.filter((host) => host.name === ref)
  if (byName.length === 1 && byName[0] !== undefined) return Result.succeed(byName[0])
  return Result.fail(
    new SpindleError({
      reason: byName.length > 1 ? "conflict" : "not-found",
      field: "host",
      message:
        byName.length > 1
          ? `${byName.length} hosts are named ${ref}: name one by its id (${byName.map((h) => h.id).join(", ")}).`
          : `No host of this store is named ${ref}. The hosts: ${hosts.map(describe).join(", ") || "none"} (spindle hosts).`
    })
  )
}

/** The host must be online and hold a checkout of the project. */
const usable = (host: Host, project: Project, why: string): Result.Result<Host, SpindleError> => {
  if (host.state !== "online") {
    return Result.fail(
      new SpindleError({
        reason: "unavailable",
        projectId: project.id,
        message: `${why} is host ${describe(host)}, which is not online (last heartbeat ${host.heartbeatAt}); nothing was started. Start it when the host is back, or name another host.`
      })
    )
  }
  if (!hasCheckoutOn(project, host.id)) {
    return Result.fail(
      new SpindleError({
        reason: "unavailable",
        projectId: project.id,
        field: "host",
        message: `${why} is host ${describe(host)}, which has no checkout of project ${project.id}. Add one there (spindle project checkout add ${project.id} <path of a clone> --host ${host.name}), or name another host.`
      })
    )
  }
  return Result.succeed(host)
}

export const placeThread = (
  hosts: ReadonlyArray<Host>,
  request: PlacementRequest
): Result.Result<Host, SpindleError> => {
  const { project } = request
  const self = hosts.find((host) => host.self)
  if (request.named !== undefined) {
    return Result.flatMap(findHost(hosts, request.named), (host) => usable(host, project, "The host named"))
  }
  if (request.parentHost !== undefined && request.parentHost !== null) {
    const parent = hosts.find((host) => host.id === request.parentHost)
    if (parent !== undefined) return usable(parent, project, "The parent thread's host")
  }
  // A project from before hosts were recorded has one checkout, wherever its server runs.
  if (project.checkouts.length === 0 && self !== undefined) return Result.succeed(self)
  const candidates = hosts.filter((host) => host.state === "online" && hasCheckoutOn(project, host.id))
  const best = candidates.sort(
    (a, b) => free(b) - free(a) || a.threads - b.threads || Number(b.self) - Number(a.self)
  )[0]
  if (best === undefined) {
    const where = project.checkouts
      .map((c) => hosts.find((h) => h.id === c.host))
      .filter((h) => h !== undefined)
    return Result.fail(
      new SpindleError({
        reason: "unavailable",
        projectId: project.id,
        message: `No online host has a checkout of project ${project.id} (its checkouts are on ${where.map(describe).join(", ") || "no known host"}); nothing was started. Start one of those hosts, or add a checkout on an online one (spindle project checkout add ${project.id} <path> --host <host>).`
      })
    )
  }
  // Every host full: queued here when this host may take it, so no call is made for a wait.
  if (free(best) <= 0 && self !== undefined && candidates.includes(self)) return Result.succeed(self)
  return Result.succeed(best)
}
