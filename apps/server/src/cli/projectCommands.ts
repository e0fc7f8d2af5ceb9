// `spindle project add|update|list`: a project's settings as flags (setup script and variables,
// default provider and model, the command agent, Codex's binary and overrides), one request each.
import { basename, resolve } from "node:path"
import { DEFAULT_RETENTION, type Project } from "@spindle/contracts"
import { slugify } from "@spindle/shared/slug"
import * as Effect from "effect/Effect"
import { commandId, parse, str } from "./commands.ts"
import { runWithClient } from "./connect.ts"
import { projectRemoveCommand } from "./lifecycleCommands.ts"
import { UsageError } from "./usage.ts"

const formatProject = (p: Project) =>
  `${p.id}  ${p.workspaceRoot}  default branch ${p.defaultBranch ?? "-"}${p.setupScript ? `  setup: ${p.setupScript}` : ""}${
    Object.keys(p.setupEnv).length > 0 ? `  setup env: ${Object.keys(p.setupEnv).join(", ")}` : ""
  }\n  ports per thread ${p.portCount}  pool ${p.worktreePoolSize}  remove archived worktrees after ${
    p.retention.removeArchivedAfterDays ?? "never"
  } day(s)  flag idle after ${p.retention.flagIdleAfterDays ?? "never"} day(s)`

/** `--setup-env NAME=VALUE`, repeated; the server checks names and values. */
const setupEnvFlag = (values: Record<string, unknown>) => {
  const pairs = values["setup-env"] as Array<string> | undefined
  if (pairs === undefined) return undefined
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf("=")
    const name = at < 0 ? "" : pair.slice(0, at)
    if (name === "") throw new UsageError(`--setup-env takes NAME=VALUE, got '${pair}'.`)
    if (Object.hasOwn(env, name)) throw new UsageError(`--setup-env sets ${name} twice.`)
    Object.defineProperty(env, name, { value: pair.slice(at + 1), enumerable: true, writable: true })
  }
  return env
}

const projectSettingFlags = {
  title: { type: "string" },
  "default-provider": { type: "string" },
  "default-model": { type: "string" },
  "agent-command": { type: "string" },
  "codex-bin": { type: "string" },
  "codex-config": { type: "string", multiple: true },
  "setup-script": { type: "string" },
  "setup-timeout": { type: "string" },
  "setup-env": { type: "string", multiple: true },
  "default-branch": { type: "string" },
  "pool-size": { type: "string" },
  "port-count": { type: "string" },
  "remove-archived-after": { type: "string" },
  "flag-idle-after": { type: "string" }
} as const

/** A whole number flag, checked here so a typo is a usage error; the server checks the range. */
const wholeNumber = (name: string, text: string) => {
  if (!/^\d{1,6}$/.test(text)) throw new UsageError(`--${name} takes a whole number (got '${text}').`)
  return Number(text)
}

/** `--remove-archived-after DAYS|never` and `--flag-idle-after DAYS|never`, over the current policy. */
const retentionFlags = (values: Record<string, unknown>, current: Project["retention"] | undefined) => {
  const days = (name: string) => {
    const text = str(values, name)
    if (text === undefined) return undefined
    return text === "never" ? null : wholeNumber(name, text)
  }
  const remove = days("remove-archived-after")
  const idle = days("flag-idle-after")
  if (remove === undefined && idle === undefined) return {}
  const base = current ?? DEFAULT_RETENTION
  return {
    retention: {
      removeArchivedAfterDays: remove === undefined ? base.removeArchivedAfterDays : remove,
      flagIdleAfterDays: idle === undefined ? base.flagIdleAfterDays : idle
    }
  }
}

const projectSettings = (values: Record<string, unknown>) => {
  const timeout = str(values, "setup-timeout")
  const setupEnv = setupEnvFlag(values)
  return {
    ...(str(values, "title") === undefined ? {} : { title: str(values, "title") }),
    ...(str(values, "setup-script") === undefined ? {} : { setupScript: str(values, "setup-script") }),
    ...(timeout === undefined ? {} : { setupTimeoutSeconds: Number(timeout) }),
    ...(setupEnv === undefined ? {} : { setupEnv }),
    ...(str(values, "default-branch") === undefined ? {} : { defaultBranch: str(values, "default-branch") }),
    ...(str(values, "default-provider") === undefined
      ? {}
      : { defaultProvider: str(values, "default-provider") }),
    ...(str(values, "default-model") === undefined ? {} : { defaultModel: str(values, "default-model") }),
    ...(str(values, "agent-command") === undefined
      ? {}
      : { agentCommand: agentCommandFlag(str(values, "agent-command")!) }),
    ...(str(values, "codex-bin") === undefined ? {} : { codexBin: str(values, "codex-bin") }),
    ...(values["codex-config"] === undefined ? {} : { codexConfig: values["codex-config"] }),
    ...(str(values, "pool-size") === undefined
      ? {}
      : { worktreePoolSize: wholeNumber("pool-size", str(values, "pool-size")!) }),
    ...(str(values, "port-count") === undefined
      ? {}
      : { portCount: wholeNumber("port-count", str(values, "port-count")!) })
  }
}

/** `--agent-command`: a JSON array of arguments, or words split on spaces (`my-agent --print {prompt}`). */
const agentCommandFlag = (text: string): ReadonlyArray<string> => {
  if (text.trimStart().startsWith("[")) {
    try {
      const argv = JSON.parse(text) as unknown
      if (Array.isArray(argv) && argv.every((arg) => typeof arg === "string")) return argv
    } catch {
      // Reported below.
    }
    throw new UsageError(
      `--agent-command as JSON must be an array of strings, e.g. '["my-agent","--print","{prompt}"]'.`
    )
  }
  const words = text.split(/\s+/u).filter((word) => word !== "")
  if (words.length === 0)
    throw new UsageError("--agent-command needs the program to run, e.g. 'my-agent --print {prompt}'.")
  return words
}

export const projectCommand = (args: ReadonlyArray<string>) => {
  const [sub, ...rest] = args
  if (sub === "add") {
    const { values, positionals, global } = parse(rest, { id: { type: "string" }, ...projectSettingFlags }, 1)
    const path = resolve(positionals[0]!)
    const command = {
      type: "project.create",
      commandId: commandId("project"),
      projectId: str(values, "id") ?? slugify(basename(path)).replace(/\./g, "-"),
      workspaceRoot: path,
      ...projectSettings(values),
      ...retentionFlags(values, undefined)
    }
    return runWithClient(
      global,
      (client) =>
        Effect.gen(function* () {
          yield* client["orchestration.dispatchCommand"]({ command })
          return (yield* client["project.list"]()).find((p) => p.id === command.projectId)!
        }),
      (project) => `Registered project ${project.id}\n${formatProject(project)}`
    )
  }
  if (sub === "update") {
    const { values, positionals, global } = parse(
      rest,
      {
        ...projectSettingFlags,
        "clear-setup-script": { type: "boolean" },
        "clear-setup-env": { type: "boolean" },
        "clear-agent-command": { type: "boolean" },
        "clear-codex-bin": { type: "boolean" }
      },
      1
    )
    const retentionGiven =
      values["remove-archived-after"] !== undefined || values["flag-idle-after"] !== undefined
    retentionFlags(values, undefined) // checked before connecting
    const command = {
      type: "project.update",
      commandId: commandId("project-update"),
      projectId: positionals[0]!,
      ...projectSettings(values),
      ...(values["clear-setup-script"] === true ? { setupScript: null } : {}),
      ...(values["clear-setup-env"] === true ? { setupEnv: {} } : {}),
      ...(values["clear-agent-command"] === true ? { agentCommand: null } : {}),
      ...(values["clear-codex-bin"] === true ? { codexBin: null } : {})
    }
    return runWithClient(
      global,
      (client) =>
        Effect.gen(function* () {
          // One retention flag changes one half of the policy; the other half stays as it is.
          const current = retentionGiven
            ? (yield* client["project.list"]()).find((p) => p.id === command.projectId)?.retention
            : undefined
          yield* client["orchestration.dispatchCommand"]({
            command: { ...command, ...retentionFlags(values, current) }
          })
          return (yield* client["project.list"]()).find((p) => p.id === command.projectId)!
        }),
      (project) => `Updated project ${project.id}\n${formatProject(project)}`
    )
  }
  if (sub === "remove") return projectRemoveCommand(rest)
  if (sub === "list") {
    const { global } = parse(rest, {}, 0)
    return runWithClient(
      global,
      (client) => client["project.list"](),
      (projects) =>
        projects.length === 0
          ? "No projects. Add one with 'spindle project add <path>'."
          : projects.map(formatProject).join("\n")
    )
  }
  throw new UsageError(
    "usage: spindle project add <path> [--id ID] [--setup-script CMD] [--setup-env NAME=VALUE ...] | spindle project update <id> [...] | spindle project remove <id> [--archive-threads] | spindle project list"
  )
}
