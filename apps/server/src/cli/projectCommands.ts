// `spindle project add|update|list|show|remove`: a project's settings as flags (setup script and
// variables, default provider, model and runtime mode, the agents' variables, the command agent,
// Codex's binary and overrides, lifecycle, the notify webhook and the file holding its secret),
// checked before connecting, then one request each. A secret is read here and sent once; nothing
// prints it (the server shows only whether one is set).
import { readFileSync } from "node:fs"
import { basename, resolve } from "node:path"
import {
  type Actor,
  notifyOutcomeText,
  PROVIDER_KINDS,
  type Project,
  type RetentionPolicy
} from "@spindle/contracts"
import { slugify } from "@spindle/shared/slug"
import * as Argument from "effect/cli/Argument"
import * as Command from "effect/cli/Command"
import * as Flag from "effect/cli/Flag"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { withClient } from "./connect.ts"
import { CliFailure, EXIT, usageError } from "./errors.ts"
import { idArgument, idFlag } from "./ids.ts"
import { projectRemoveCommand } from "./lifecycleCommands.ts"
import { commandId, print, table } from "./output.ts"
import { modeSummary, RUNTIME_MODES, runtimeModeHelp } from "./runtimeModes.ts"

/** What the user approved of the default branch: the setup script's blob and the commit seen. */
const setupApprovalLine = (p: Project) => {
  const a = p.setupApproval
  if (a === null)
    return `approved setup: none yet (a committed setup script waits for 'spindle project update ${p.id} --approve-setup')`
  return `approved setup: ${a.setupBlob === null ? "no committed script" : `blob ${a.setupBlob}`}  branch seen at ${
    a.branchCommit ?? "-"
  }  (${a.approvedAt})`
}

/** Where notifications go, signed or not; the secret itself is never known here. */
const notifyLines = (p: Project) => {
  const webhook = p.notifyWebhook
  const lines = [
    webhook === null
      ? "  notify off (set a webhook with --notify-webhook URL)"
      : `  notify ${webhook.url}  ${
          webhook.secretSet
            ? "signed (X-Spindle-Signature, with the secret set)"
            : "unsigned: no secret is set, so deliveries carry no signature (--notify-secret-file PATH)"
        }`
  ]
  const last = p.lastNotify
  if (last !== null) lines.push(`  last notification ${notifyOutcomeText(last)}`)
  return lines
}

const formatProject = (p: Project) =>
  [
    `${p.id}  ${p.workspaceRoot}`,
    `  title ${p.title}  default branch ${p.defaultBranch ?? "-"}`,
    `  setup ${p.setupScript ?? "(none)"}  timeout ${p.setupTimeoutSeconds} s${
      Object.keys(p.setupEnv).length > 0 ? `  setup env: ${Object.keys(p.setupEnv).join(", ")}` : ""
    }`,
    `  agent ${p.defaultProvider ?? "codex"}${p.defaultModel ? ` ${p.defaultModel}` : ""}${
      p.agentCommand ? `  command: ${p.agentCommand.join(" ")}` : ""
    }${p.acpAgent ? `  acp agent: ${p.acpAgent.join(" ")}` : ""}${Object.keys(p.agentEnv).length > 0 ? `  agent env: ${Object.keys(p.agentEnv).join(", ")}` : ""}`,
    `  ${setupApprovalLine(p)}`,
    `  submodules ${p.initSubmodules ? `on (${p.submoduleUrls.length} allowed URL(s))` : "off"}`,
    `  threads start ${p.defaultRuntimeMode}: ${modeSummary(p.defaultRuntimeMode)}`,
    `  git hooks ${p.gitHooks ? "on (the repository's hooks run on Spindle's checkouts)" : "off"}${
      p.gitHooksSetBy === null ? "" : `  set by ${actorName(p.gitHooksSetBy.actor)} at ${p.gitHooksSetBy.at}`
    }`,
    `  ports per thread ${p.portCount}  pool ${p.worktreePoolSize}  remove archived worktrees after ${
      p.retention.removeArchivedAfterDays ?? "never"
    } day(s)  flag idle after ${p.retention.flagIdleAfterDays ?? "never"} day(s)`,
    ...notifyLines(p),
    ...(p.checkouts.length > 1
      ? [`  checkouts ${p.checkouts.map((c) => `${c.host}:${c.workspaceRoot}`).join("  ")}`]
      : [])
  ].join("\n")

const actorName = (actor: Actor) =>
  actor.kind === "client"
    ? `client token ${actor.tokenId}`
    : actor.kind === "provider-session"
      ? `agent session ${actor.sessionId}`
      : "the server"

const optional = (name: string, description: string) =>
  Flag.String(name).pipe(Flag.withDescription(description), Flag.optional)
const optionalInt = (name: string, description: string) =>
  Flag.Int(name).pipe(Flag.withDescription(description), Flag.optional)

const settingFlags = {
  title: optional("title", "A title"),
  defaultProvider: Flag.Literals("default-provider", PROVIDER_KINDS).pipe(
    Flag.withDescription("The agent its threads use by default"),
    Flag.optional
  ),
  defaultModel: optional("default-model", "The model its threads use by default"),
  defaultRuntimeMode: Flag.Literals("default-runtime-mode", RUNTIME_MODES).pipe(
    Flag.withDescription(
      runtimeModeHelp(
        "The runtime mode of threads started without --runtime-mode (default for a new project: sandboxed)"
      )
    ),
    Flag.optional
  ),
  agentCommand: optional(
    "agent-command",
    "The command agent: 'my-agent --print {prompt}', or a JSON array of arguments"
  ),
  acpAgent: optional(
    "acp-agent",
    "The ACP agent (provider acp; a preset uses it instead of its own command): 'gemini --experimental-acp', or a JSON array of arguments"
  ),
  codexBin: optional("codex-bin", "The Codex CLI for this project"),
  codexConfig: Flag.String("codex-config").pipe(
    Flag.withDescription("A Codex config override KEY=VALUE, as codex -c takes it (repeatable)"),
    Flag.atLeast(0)
  ),
  setupScript: optional("setup-script", "A shell command run in each new worktree"),
  setupTimeout: optionalInt("setup-timeout", "Seconds the setup script may take"),
  setupEnv: Flag.String("setup-env").pipe(
    Flag.withDescription("NAME=VALUE for the setup script (repeatable; on update, replaces the set)"),
    Flag.atLeast(0)
  ),
  agentEnv: Flag.String("agent-env").pipe(
    Flag.withDescription(
      "NAME=VALUE for the project's agents, on top of the server's allowlist (repeatable; on update, replaces the set)"
    ),
    Flag.atLeast(0)
  ),
  defaultBranch: optional("default-branch", "The branch new worktrees start from"),
  gitHooks: Flag.Literals("git-hooks", ["on", "off"]).pipe(
    Flag.withDescription(
      "Run the repository's git hooks when Spindle checks out a worktree (off by default: an agent can write them)"
    ),
    Flag.optional
  ),
  poolSize: optionalInt("pool-size", "Worktrees kept ready in advance"),
  initSubmodules: Flag.Literals("init-submodules", ["on", "off"]).pipe(
    Flag.withDescription(
      "on: new worktrees initialise the submodules whose URLs are in .gitmodules on the default branch now (recorded; 'on' again records them again); off: none"
    ),
    Flag.optional
  ),
  portCount: optionalInt("port-count", "Ports each thread gets (SPINDLE_PORT...)"),
  removeArchivedAfter: optional("remove-archived-after", "DAYS|never: remove archived threads' worktrees"),
  flagIdleAfter: optional("flag-idle-after", "DAYS|never: flag threads idle this long"),
  notifyWebhook: optional(
    "notify-webhook",
    "An http(s) URL POSTed to when a thread needs you (approval asked, turn failed, ready to review); on update, a new URL keeps the secret"
  ),
  notifySecretFile: optional(
    "notify-secret-file",
    "A file holding the secret that signs each delivery (X-Spindle-Signature); read here, trimmed, never shown back"
  )
}

type SettingFlags = {
  readonly [K in keyof typeof settingFlags]: (typeof settingFlags)[K] extends Flag.Flag<infer A> ? A : never
}

/** `--setup-env` or `--agent-env` NAME=VALUE, repeated; the server checks names and values. */
const envOf = (flag: string, pairs: ReadonlyArray<string>) => {
  const env: Record<string, string> = {}
  for (const pair of pairs) {
    const at = pair.indexOf("=")
    const name = at < 0 ? "" : pair.slice(0, at)
    if (name === "") return Effect.fail(usageError(`--${flag} takes NAME=VALUE, got '${pair}'.`))
    if (Object.hasOwn(env, name)) return Effect.fail(usageError(`--${flag} sets ${name} twice.`))
    Object.defineProperty(env, name, { value: pair.slice(at + 1), enumerable: true, writable: true })
  }
  return Effect.succeed(env)
}

/** The secret in `--notify-secret-file`, trimmed; its value is never part of a message. */
const secretOf = (path: string) => {
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch {
    return Effect.fail(usageError(`--notify-secret-file ${path}: no such file, or it cannot be read.`))
  }
  const secret = text.trim()
  return secret === ""
    ? Effect.fail(usageError(`--notify-secret-file ${path} is empty: put the secret in it (one line).`))
    : Effect.succeed(secret)
}

/** `--agent-command` (or `--acp-agent`): a JSON array of arguments, or words split on spaces (`my-agent --print {prompt}`). */
const agentCommandOf = (text: string, flag = "agent-command") => {
  if (text.trimStart().startsWith("[")) {
    try {
      const argv = JSON.parse(text) as unknown
      if (Array.isArray(argv) && argv.every((arg) => typeof arg === "string")) return Effect.succeed(argv)
    } catch {
      // Reported below.
    }
    return Effect.fail(
      usageError(`--${flag} as JSON must be an array of strings, e.g. '["my-agent","--print","{prompt}"]'.`)
    )
  }
  const words = text.split(/\s+/u).filter((word) => word !== "")
  return words.length === 0
    ? Effect.fail(usageError(`--${flag} needs the program to run, e.g. 'my-agent --print {prompt}'.`))
    : Effect.succeed(words)
}

const days = (name: string, value: Option.Option<string>) => {
  if (value._tag === "None") return Effect.succeed(undefined)
  if (value.value === "never") return Effect.succeed(null)
  return /^\d{1,6}$/.test(value.value)
    ? Effect.succeed(Number(value.value))
    : Effect.fail(usageError(`--${name} takes a number of days or 'never' (got '${value.value}').`))
}

const nonNegative = (name: string, value: Option.Option<number>) =>
  value._tag === "Some" && value.value < 0
    ? Effect.fail(usageError(`--${name} takes a whole number from 0 (got ${value.value}).`))
    : Effect.succeed(Option.getOrUndefined(value))

/** The project fields the flags set (checked here, before connecting), and the retention halves given. */
const settingsOf = (flags: SettingFlags) =>
  Effect.gen(function* () {
    const o = Option.getOrUndefined
    const agentCommand =
      flags.agentCommand._tag === "Some" ? yield* agentCommandOf(flags.agentCommand.value) : undefined
    const acpAgent =
      flags.acpAgent._tag === "Some" ? yield* agentCommandOf(flags.acpAgent.value, "acp-agent") : undefined
    const setupEnv = flags.setupEnv.length > 0 ? yield* envOf("setup-env", flags.setupEnv) : undefined
    const agentEnv = flags.agentEnv.length > 0 ? yield* envOf("agent-env", flags.agentEnv) : undefined
    for (const override of flags.codexConfig) {
      if (!/^[A-Za-z0-9_][A-Za-z0-9_.\-"]*=/u.test(override)) {
        return yield* usageError(
          `--codex-config takes KEY=VALUE (a Codex config key, then its TOML value), got '${override}'. Example: --codex-config 'model="gpt-5-codex"'.`
        )
      }
    }
    const notifySecret =
      flags.notifySecretFile._tag === "Some" ? yield* secretOf(flags.notifySecretFile.value) : undefined
    const setupTimeout = yield* nonNegative("setup-timeout", flags.setupTimeout)
    const poolSize = yield* nonNegative("pool-size", flags.poolSize)
    const portCount = yield* nonNegative("port-count", flags.portCount)
    const retention = {
      removeArchivedAfterDays: yield* days("remove-archived-after", flags.removeArchivedAfter),
      flagIdleAfterDays: yield* days("flag-idle-after", flags.flagIdleAfter)
    }
    const fields = {
      ...(o(flags.title) === undefined ? {} : { title: o(flags.title) }),
      ...(o(flags.setupScript) === undefined ? {} : { setupScript: o(flags.setupScript) }),
      ...(setupTimeout === undefined ? {} : { setupTimeoutSeconds: setupTimeout }),
      ...(setupEnv === undefined ? {} : { setupEnv }),
      ...(agentEnv === undefined ? {} : { agentEnv }),
      ...(o(flags.defaultBranch) === undefined ? {} : { defaultBranch: o(flags.defaultBranch) }),
      ...(o(flags.gitHooks) === undefined ? {} : { gitHooks: o(flags.gitHooks) === "on" }),
      ...(o(flags.defaultProvider) === undefined ? {} : { defaultProvider: o(flags.defaultProvider) }),
      ...(o(flags.defaultModel) === undefined ? {} : { defaultModel: o(flags.defaultModel) }),
      ...(o(flags.defaultRuntimeMode) === undefined
        ? {}
        : { defaultRuntimeMode: o(flags.defaultRuntimeMode) }),
      ...(agentCommand === undefined ? {} : { agentCommand }),
      ...(acpAgent === undefined ? {} : { acpAgent }),
      ...(o(flags.codexBin) === undefined ? {} : { codexBin: o(flags.codexBin) }),
      ...(flags.codexConfig.length === 0 ? {} : { codexConfig: flags.codexConfig }),
      ...(poolSize === undefined ? {} : { worktreePoolSize: poolSize }),
      ...(o(flags.initSubmodules) === undefined ? {} : { initSubmodules: o(flags.initSubmodules) === "on" }),
      ...(portCount === undefined ? {} : { portCount }),
      ...(o(flags.notifyWebhook) === undefined ? {} : { notifyWebhook: o(flags.notifyWebhook) }),
      ...(notifySecret === undefined ? {} : { notifySecret })
    }
    return { fields, retention }
  })

/** One retention flag changes one half of the policy; the other half stays as it is. */
const mergeRetention = (
  given: { removeArchivedAfterDays: number | null | undefined; flagIdleAfterDays: number | null | undefined },
  base: RetentionPolicy
) =>
  given.removeArchivedAfterDays === undefined && given.flagIdleAfterDays === undefined
    ? {}
    : {
        retention: {
          removeArchivedAfterDays:
            given.removeArchivedAfterDays === undefined
              ? base.removeArchivedAfterDays
              : given.removeArchivedAfterDays,
          flagIdleAfterDays:
            given.flagIdleAfterDays === undefined ? base.flagIdleAfterDays : given.flagIdleAfterDays
        }
      }

const notFound = (id: string) =>
  new CliFailure({
    code: EXIT.failed,
    reason: "not-found",
    message: `project ${id} does not exist. See 'spindle project list'.`,
    details: { projectId: id }
  })

const projectArg = idArgument("project", "The project's id")

const add = Command.make(
  "add",
  {
    path: Argument.String("path").pipe(Argument.withDescription("The git repository")),
    id: idFlag("project", "id", "Its id (default: from the folder's name)").pipe(Flag.optional),
    ...settingFlags
  },
  (flags) =>
    Effect.gen(function* () {
      const { fields, retention } = yield* settingsOf(flags)
      const path = resolve(flags.path)
      const projectId = Option.getOrUndefined(flags.id) ?? slugify(basename(path)).replace(/\./g, "-")
      const project = yield* withClient((client) =>
        Effect.gen(function* () {
          const { DEFAULT_RETENTION } = yield* Effect.promise(() => import("@spindle/contracts"))
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "project.create",
              commandId: commandId("project"),
              projectId,
              workspaceRoot: path,
              ...fields,
              ...mergeRetention(retention, DEFAULT_RETENTION)
            }
          })
          return (yield* client["project.list"]()).find((p) => p.id === projectId)!
        })
      )
      yield* print(project, (p) => `Registered project ${p.id}\n${formatProject(p)}`)
    })
).pipe(Command.withDescription("Register a git repository as a project"))

const clear = (name: string, what: string) =>
  Flag.Boolean(name).pipe(Flag.withDescription(`Remove ${what}`), Flag.withDefault(false))

const update = Command.make(
  "update",
  {
    project: projectArg,
    ...settingFlags,
    clearSetupScript: clear("clear-setup-script", "the setup script"),
    clearSetupEnv: clear("clear-setup-env", "the setup variables"),
    clearAgentEnv: clear("clear-agent-env", "the agents' variables"),
    clearAgentCommand: clear("clear-agent-command", "the command agent"),
    clearCodexBin: clear("clear-codex-bin", "the project's Codex binary"),
    clearNotifyWebhook: clear("clear-notify-webhook", "the notify webhook and its secret"),
    clearNotifySecret: clear("clear-notify-secret", "the notify secret (deliveries go unsigned)"),
    approveSetup: Flag.Boolean("approve-setup").pipe(
      Flag.withDescription(
        "Approve .spindle/setup.sh as the default branch holds it now (review it first); a changed committed script does not run until approved"
      ),
      Flag.withDefault(false)
    )
  },
  (flags) =>
    Effect.gen(function* () {
      if (
        flags.clearNotifyWebhook &&
        (flags.notifyWebhook._tag === "Some" || flags.notifySecretFile._tag === "Some")
      )
        return yield* usageError(
          "--clear-notify-webhook removes the webhook and its secret: give it without --notify-webhook or --notify-secret-file."
        )
      if (flags.clearNotifySecret && flags.notifySecretFile._tag === "Some")
        return yield* usageError(
          "--clear-notify-secret and --notify-secret-file contradict each other: give one."
        )
      const { fields, retention } = yield* settingsOf(flags)
      const projectId = flags.project
      const project = yield* withClient((client) =>
        Effect.gen(function* () {
          const current = (yield* client["project.list"]()).find((p) => p.id === projectId)
          if (current === undefined) return yield* notFound(projectId)
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "project.update",
              commandId: commandId("project-update"),
              projectId,
              ...fields,
              ...(flags.clearSetupScript ? { setupScript: null } : {}),
              ...(flags.clearSetupEnv ? { setupEnv: {} } : {}),
              ...(flags.clearAgentEnv ? { agentEnv: {} } : {}),
              ...(flags.clearAgentCommand ? { agentCommand: null } : {}),
              ...(flags.clearCodexBin ? { codexBin: null } : {}),
              ...(flags.clearNotifyWebhook ? { notifyWebhook: null } : {}),
              ...(flags.clearNotifySecret ? { notifySecret: null } : {}),
              ...(flags.approveSetup ? { approveSetup: true } : {}),
              ...mergeRetention(retention, current.retention)
            }
          })
          return (yield* client["project.list"]()).find((p) => p.id === projectId)!
        })
      )
      yield* print(project, (p) => `Updated project ${p.id}\n${formatProject(p)}`)
    })
).pipe(Command.withDescription("Change a project's settings"))

const list = Command.make("list", {}, () =>
  Effect.gen(function* () {
    const projects = yield* withClient((client) => client["project.list"]())
    yield* print(projects, (all) =>
      all.length === 0
        ? "No projects. Add one with 'spindle project add <path>'."
        : table(
            ["ID", "ROOT", "DEFAULT BRANCH", "SETUP"],
            all.map((p) => [p.id, p.workspaceRoot, p.defaultBranch ?? "-", p.setupScript ?? "-"])
          )
    )
  })
).pipe(Command.withDescription("The projects"))

const show = Command.make("show", { project: projectArg }, ({ project: id }) =>
  Effect.gen(function* () {
    const project = yield* withClient((client) =>
      Effect.gen(function* () {
        const found = (yield* client["project.list"]()).find((p) => p.id === id)
        return found ?? (yield* notFound(id))
      })
    )
    yield* print(project, formatProject)
  })
).pipe(Command.withDescription("A project's settings"))

const checkoutAdd = Command.make(
  "add",
  {
    project: projectArg,
    path: Argument.String("path").pipe(
      Argument.withDescription("A clone of the project's repository on that host")
    ),
    host: optional("host", "The host (id or name, spindle hosts) that holds it; default the one connected to")
  },
  (flags) =>
    Effect.gen(function* () {
      const host = Option.getOrUndefined(flags.host)
      const project = yield* withClient((client) =>
        Effect.gen(function* () {
          yield* client["orchestration.dispatchCommand"]({
            command: {
              type: "project.checkout.add",
              commandId: commandId("checkout"),
              projectId: flags.project,
              // On another host the path is that host's: taken as given.
              workspaceRoot: host === undefined ? resolve(flags.path) : flags.path,
              ...(host === undefined ? {} : { host })
            }
          })
          return (yield* client["project.list"]()).find((p) => p.id === flags.project)!
        })
      )
      yield* print(project, (p) => `Added a checkout to project ${p.id}\n${formatProject(p)}`)
    })
).pipe(
  Command.withDescription(
    "Add a host's clone of the project's repository, so its threads may run on that host too"
  )
)

const checkout = Command.make("checkout").pipe(
  Command.withDescription("A project's checkouts: one clone per host it runs threads on"),
  Command.withSubcommands([checkoutAdd])
)

export const projectCommand = Command.make("project").pipe(
  Command.withDescription("Projects: the git repositories threads work in"),
  Command.withSubcommands([add, update, list, show, checkout, projectRemoveCommand])
)
