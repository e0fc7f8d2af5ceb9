// The Project read model: a git repository the user registered, and the bounded values its
// settings may hold (the setup script's extra environment).
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { ProjectId } from "./ids.ts"
import { NotifyOutcome, NotifyWebhook } from "./notify.ts"
import { ThreadOverlap } from "./radar.ts"
import {
  AbsolutePath,
  Actor,
  IsoTimestamp,
  ModelName,
  ProviderKind,
  RuntimeMode,
  SetupScript,
  SetupTimeoutSeconds,
  StoredTitle
} from "./values.ts"

/** Variables Spindle itself gives every setup run; a project cannot set them. */
export const SPINDLE_SETUP_VARIABLES = [
  "SPINDLE_PROJECT_ROOT",
  "SPINDLE_WORKTREE_PATH",
  "SPINDLE_THREAD_ID",
  "SPINDLE_BRANCH",
  "SPINDLE_PORT",
  "SPINDLE_PORT_COUNT",
  "T3CODE_PROJECT_ROOT",
  "T3CODE_WORKTREE_PATH"
] as const

export const MAX_SETUP_ENV_ENTRIES = 64
export const MAX_SETUP_ENV_VALUE_LENGTH = 8_192

/** A portable shell variable name. */
const SETUP_ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/u

/** A variable's value, for `what` ("setup", "agent") variables: bounded, no NUL. */
const variableValue = (what: string) =>
  Schema.String.check(
    Schema.isMaxLength(MAX_SETUP_ENV_VALUE_LENGTH, {
      message: `${what} variable values must be at most ${MAX_SETUP_ENV_VALUE_LENGTH} characters`
    }),
    Schema.isPattern(/^[^\0]*$/u, { message: `${what} variable values must not contain NUL` })
  )

/**
 * NAME -> value records of `what` variables. Names are checked here rather than by the record's
 * key schema, so a bad one is named in the error instead of being reported as an excess property;
 * `reserved` answers why Spindle's own names are refused, or undefined when none is taken.
 */
const variables = (
  what: string,
  reserved: (names: ReadonlyArray<string>) => string | undefined,
  description: string
) =>
  Schema.Record(Schema.String, variableValue(what))
    .check(
      Schema.isMaxProperties(MAX_SETUP_ENV_ENTRIES, {
        message: `at most ${MAX_SETUP_ENV_ENTRIES} ${what} variables`
      }),
      Schema.makeFilter((env: { readonly [name: string]: string }) => {
        const names = Object.keys(env)
        const bad = names.find((name) => !SETUP_ENV_NAME.test(name))
        if (bad !== undefined)
          return `${what} variable names must be letters, digits and '_', not starting with a digit, at most 128 characters: '${bad.slice(0, 128)}' is not`
        return reserved(names) ?? true
      })
    )
    .annotate({ description })

export const SetupEnvValue = variableValue("setup")

const setupReserved = new Set<string>([...SPINDLE_SETUP_VARIABLES, "__proto__"])

/** Extra variables for the project's setup script, on top of the allowlisted server variables. */
export const SetupEnv = variables(
  "setup",
  (names) => {
    const taken = names.filter((name) => setupReserved.has(name))
    return taken.length === 0
      ? undefined
      : `${taken.join(", ")} cannot be set: Spindle sets ${SPINDLE_SETUP_VARIABLES.join(", ")} itself`
  },
  "Variables (NAME -> value) added to the setup script's environment; they are stored in the event log and shown to clients, so keep secrets out"
)
export type SetupEnv = typeof SetupEnv.Type

export const AgentEnvValue = variableValue("agent")

/**
 * Extra variables for the project's agents (Codex and the commands it runs, command agents), on top
 * of the allowlist of the server's own; the same names and bounds as setupEnv. SPINDLE_* names are
 * Spindle's own (its settings, ports and tokens), so none can be set or shadowed here.
 */
export const AgentEnv = variables(
  "agent",
  (names) => {
    const taken = names.filter((name) => /^(SPINDLE|T3CODE)_/u.test(name) || name === "__proto__")
    return taken.length === 0
      ? undefined
      : `${taken.join(", ")} cannot be set: names starting with SPINDLE_ or T3CODE_ are Spindle's own`
  },
  "Variables (NAME -> value) added to the agents' environment (Codex and its commands, command agents); stored in the event log and shown to clients, so keep secrets out (serve --agent-env NAME passes a server variable instead)"
)
export type AgentEnv = typeof AgentEnv.Type

// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f\ufffd]*$/u

/**
 * A CLI agent run by the `command` provider: its argv, where an argument holding `{prompt}` gets
 * the turn's prompt (without one, the prompt goes to its stdin). Runs in the worktree.
 */
export const AgentCommand = Schema.Array(
  Schema.String.check(
    Schema.isMinLength(1, { message: "agent command arguments must not be empty" }),
    Schema.isMaxLength(8_192, { message: "agent command arguments must be at most 8192 characters" }),
    Schema.isPattern(NO_CONTROL, { message: "agent command arguments must not contain control characters" })
  )
)
  .check(
    Schema.isMinLength(1, { message: "the agent command needs at least the program to run" }),
    Schema.isMaxLength(64, { message: "the agent command has at most 64 arguments" })
  )
  .annotate({
    description:
      "argv of a CLI agent for the command provider; an argument holding {prompt} gets the prompt, else it goes to stdin"
  })
export type AgentCommand = typeof AgentCommand.Type

/** The Codex CLI to run: an absolute path or a command name looked up on PATH. */
export const CodexBin = Schema.String.check(
  Schema.isMinLength(1),
  Schema.isMaxLength(4_096),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  Schema.isPattern(/^(\/[^\u0000-\u001f\u007f\ufffd]*|[A-Za-z0-9][A-Za-z0-9._+-]*)$/u, {
    message: "the Codex binary must be an absolute path or a command name such as codex"
  })
)

/** A Codex config override, `KEY=VALUE` as for `codex -c` (VALUE is TOML, else a plain string). */
export const CodexConfigOverride = Schema.String.check(
  Schema.isMaxLength(8_192),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  Schema.isPattern(/^[A-Za-z0-9_][A-Za-z0-9_.\-"]*=[^\u0000\n\r]*$/u, {
    message: 'Codex config overrides are KEY=VALUE on one line, e.g. model="gpt-5-codex"'
  })
)
export const CodexConfig = Schema.Array(CodexConfigOverride).check(
  Schema.isMaxLength(64, { message: "at most 64 Codex config overrides" })
)

/**
 * The submodule URLs new worktrees may fetch, as written in `.gitmodules` on the default branch
 * when the user last turned `initSubmodules` on (recorded by the server, never taken from a client).
 */
export const SubmoduleUrls = Schema.Array(Schema.String.check(Schema.isMaxLength(2_048))).check(
  Schema.isMaxLength(256, { message: "at most 256 submodule URLs" })
)

/** Spare worktrees kept checked out at the default branch's head, for fast starts (0: no pool). */
export const WorktreePoolSize = Schema.Int.check(
  Schema.isBetween(
    { minimum: 0, maximum: 16 },
    { message: "the worktree pool holds 0 to 16 spare worktrees" }
  )
)

/** Ports each thread of the project gets (a block of consecutive ports; 0: none). */
export const PortCount = Schema.Int.check(
  Schema.isBetween({ minimum: 0, maximum: 100 }, { message: "a thread's port block holds 0 to 100 ports" })
)
export const DEFAULT_PORT_COUNT = 10

const Days = Schema.Int.check(
  Schema.isBetween({ minimum: 0, maximum: 3_650 }, { message: "a number of days from 0 to 3650" })
)

/**
 * What the background cleanup does for the project. It re-checks each worktree right before it
 * acts and never removes uncommitted or unpushed work.
 */
export const RetentionPolicy = Schema.Struct({
  /** Remove the (clean, pushed) worktrees of threads archived this many days ago; null: never. */
  removeArchivedAfterDays: Schema.NullOr(Days),
  /** Flag active threads with no activity for this many days; null: never. */
  flagIdleAfterDays: Schema.NullOr(Days)
}).annotate({ identifier: "RetentionPolicy" })
export type RetentionPolicy = typeof RetentionPolicy.Type

export const DEFAULT_RETENTION: RetentionPolicy = { removeArchivedAfterDays: 7, flagIdleAfterDays: 14 }

/** A git object id as git prints it: SHA-1 (40 hex) or SHA-256 (64 hex), lower case. */
export const GitObjectId = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{40}(?:[0-9a-f]{24})?$/u, {
    message: "a git object id is 40 or 64 lower-case hex digits"
  })
)

/**
 * What the user saw of the default branch when they last vouched for it (`project add`, a change
 * of default branch, `project update --approve-setup`). Read from git by the server, never sent by
 * a client: an agent can move the branch from its worktree, so only this blob's script runs.
 */
export const SetupApproval = Schema.Struct({
  /** `.spindle/setup.sh`'s blob on the default branch then; null: there was none, so any committed one needs approval. */
  setupBlob: Schema.NullOr(GitObjectId),
  /** The default branch's commit then; a start warns when the branch no longer contains it. Null: no such branch. */
  branchCommit: Schema.NullOr(GitObjectId),
  approvedAt: IsoTimestamp
}).annotate({ identifier: "SetupApproval" })
export type SetupApproval = typeof SetupApproval.Type

/** A host's clone of a project's repository: where that host makes the project's worktrees. */
export const ProjectCheckout = Schema.Struct({
  /** The host (its id) that holds it. */
  host: Schema.String,
  /** The repository's top-level directory on that host (real path). */
  workspaceRoot: AbsolutePath
}).annotate({ identifier: "ProjectCheckout" })
export type ProjectCheckout = typeof ProjectCheckout.Type

export const Project = Schema.Struct({
  id: ProjectId,
  title: StoredTitle,
  /**
   * The repository's top-level directory (real path): as answered by a host, that host's checkout
   * (the first one where it has none).
   */
  workspaceRoot: AbsolutePath,
  /**
   * Each host's checkout of the repository, the first the host that registered the project.
   * Empty in projects from before hosts were recorded: `workspaceRoot` serves whichever host runs.
   */
  checkouts: Schema.Array(ProjectCheckout).pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  /** Detected at registration (origin/HEAD, main, master, ...), overridable; null when unknown. */
  defaultBranch: Schema.NullOr(Schema.String),
  /**
   * Shell command run in each new worktree; when null, `.spindle/setup.sh` as committed on the
   * default branch is run (never a copy in a worktree or on another ref).
   */
  setupScript: Schema.NullOr(SetupScript),
  setupTimeoutSeconds: SetupTimeoutSeconds,
  /** Extra variables for the setup script; absent in projects recorded before it existed. */
  setupEnv: SetupEnv.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  /** Extra variables for the project's agents; absent in projects recorded before it existed. */
  agentEnv: AgentEnv.pipe(Schema.withDecodingDefaultKey(Effect.succeed({}))),
  /**
   * The committed setup script and default-branch commit the user approved. Null in projects
   * recorded before pinning existed: their committed script does not run until approved.
   */
  setupApproval: Schema.NullOr(SetupApproval).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /**
   * Whether new worktrees get `git submodule update --init --recursive`, for the submodules whose
   * URL is in `submoduleUrls` (any other is skipped with a warning on the thread).
   */
  initSubmodules: Schema.Boolean,
  submoduleUrls: SubmoduleUrls.pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  /**
   * Whether git runs the repository's hooks when Spindle checks out a worktree for the project
   * (worktree add, a restore on unarchive). Off by default: an agent can write hooks into the
   * shared .git, and Spindle's git runs on the host.
   */
  gitHooks: Schema.Boolean.pipe(Schema.withDecodingDefaultKey(Effect.succeed(false))),
  /** Who last set `gitHooks`, and when (null: never set, so off). */
  gitHooksSetBy: Schema.NullOr(Schema.Struct({ actor: Actor, at: IsoTimestamp })).pipe(
    Schema.withDecodingDefaultKey(Effect.succeed(null))
  ),
  defaultProvider: ProviderKind,
  defaultModel: Schema.NullOr(ModelName),
  /**
   * The runtimeMode of a thread started without one. New projects get `sandboxed`; a project
   * recorded before the setting existed keeps `full-access`, what its threads always got, so
   * replaying an old log changes nobody's rights behind their back (`project show` says which).
   */
  defaultRuntimeMode: RuntimeMode.pipe(Schema.withDecodingDefaultKey(Effect.succeed("full-access" as const))),
  /** The Codex CLI for this project's threads; null: the server's (--codex-bin). */
  codexBin: Schema.NullOr(CodexBin).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /** Codex `-c` overrides for this project's threads, after the server's (so these win). */
  codexConfig: CodexConfig.pipe(Schema.withDecodingDefaultKey(Effect.succeed([]))),
  /** The CLI agent the `command` provider runs; null: that provider is not set up for this project. */
  agentCommand: Schema.NullOr(AgentCommand).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /**
   * The Agent Client Protocol agent the `acp` provider runs (its argv; it speaks ACP on stdio), also
   * the command of an ACP preset when set; null: the `acp` provider is not set up here.
   */
  acpAgent: Schema.NullOr(AgentCommand).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /** Spare worktrees kept ready for new threads (0: none). */
  worktreePoolSize: WorktreePoolSize.pipe(Schema.withDecodingDefaultKey(Effect.succeed(0))),
  /** Ports each new thread gets (SPINDLE_PORT, SPINDLE_PORT_COUNT). */
  portCount: PortCount.pipe(Schema.withDecodingDefaultKey(Effect.succeed(DEFAULT_PORT_COUNT))),
  retention: RetentionPolicy.pipe(Schema.withDecodingDefaultKey(Effect.succeed(DEFAULT_RETENTION))),
  /**
   * The conflict radar's overlaps between the project's live threads, as last recorded
   * (project.overlap-changed); absent when there are none.
   */
  overlaps: Schema.optionalKey(Schema.Array(ThreadOverlap)),
  /**
   * Where Spindle POSTs the project's notifications (an approval asked for, a turn failed, work
   * ready to review), and whether a secret signs them; the secret itself is never shown. Null: none.
   */
  notifyWebhook: Schema.NullOr(NotifyWebhook).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  /** How the last notification's delivery went (delivered, or given up and why); null before the first. */
  lastNotify: Schema.NullOr(NotifyOutcome).pipe(Schema.withDecodingDefaultKey(Effect.succeed(null))),
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp
}).annotate({ identifier: "Project", description: "A git repository registered with Spindle" })
export type Project = typeof Project.Type
