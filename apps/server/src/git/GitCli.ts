// The only place that runs git. Every call has a timeout, no prompt, no pager, a stable locale,
// and keeps stderr for the error message; no program a repository configures runs (no hook,
// fsmonitor, filter, diff or merge driver, planted transport program: repoPrograms.ts), and a
// call in a thread's worktree first checks that its .git links into the project's repository
// (worktreeLink.ts). It knows git's command line, not what Spindle does with it (that is
// Repositories and Worktrees).
import { groupOf, type ProcessGroup } from "@spindle/shared/processGroup"
import { shortText } from "@spindle/shared/shortText"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { PlatformError } from "effect/PlatformError"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"
import { GitError } from "./GitError.ts"
import {
  ALWAYS_OFF,
  type ConfigEntry,
  configFingerprint,
  DIFF_COMMANDS,
  DIFF_FLAGS,
  includesFiles,
  movesWorkTree,
  NO_HOOKS,
  neutralizers,
  parseConfigList
} from "./repoPrograms.ts"
import { foreignGitDir, gitDirsOf } from "./worktreeLink.ts"

export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface GitRunOptions {
  readonly cwd: string
  readonly timeout?: Duration.Input
  /** Extra `-c key=value` settings for this call only. */
  readonly config?: Readonly<Record<string, string>>
  /** Extra environment for this call only (a temporary index, a commit's author and dates). */
  readonly env?: Readonly<Record<string, string>>
  /** Run under `nice`, for background work that must not slow what a user waits for. */
  readonly lowPriority?: boolean
  /**
   * `cwd` is a worktree of this repository (a thread's, a pool slot): refused with a
   * `foreign-gitdir` GitError, before git runs, unless its .git links into the repository's own
   * common git dir.
   */
  readonly worktreeOf?: string
  /** Run the repository's hooks (a project that turned them on); off by default. */
  readonly hooks?: boolean
  /** A call that reaches a remote: the system config (credential helpers, proxies) is read too. */
  readonly network?: boolean
  /**
   * An index file of the caller's (absolute) for this call, in place of the checkout's own
   * (`GIT_INDEX_FILE`): a snapshot of a worktree leaves the real index untouched.
   */
  readonly indexFile?: string
  /**
   * A call a crash may orphan (a worktree being added or removed): git's process group is handed
   * to `record` before git does anything (a shell holds it until then), so whoever journals it can
   * find the group after a restart; `running` runs once git is on its way.
   */
  readonly tracked?: TrackedGit
}

export interface TrackedGit {
  readonly record: (group: ProcessGroup) => Effect.Effect<void>
  readonly running?: Effect.Effect<void>
}

/** Waits for one line on stdin, then becomes the command: nothing runs until the group is recorded. */
const GATE = 'read -r _ || exit 125; exec "$@"'

const DEFAULT_TIMEOUT = Duration.seconds(60)

const gitEnv = {
  // Replace refs (refs/replace/*) are writable from any worktree, so by any agent: honoured, they
  // would make the project's branch read (setup script, new checkouts) as a commit of its choosing.
  GIT_NO_REPLACE_OBJECTS: "1",
  GIT_TERMINAL_PROMPT: "0",
  GIT_ASKPASS: "",
  SSH_ASKPASS: "",
  GIT_PAGER: "cat",
  PAGER: "cat",
  GIT_OPTIONAL_LOCKS: "0",
  LC_ALL: "C",
  LANGUAGE: "C",
  GIT_EDITOR: ":",
  GIT_SEQUENCE_EDITOR: ":"
}

/** Config outside the user's and the repository's: read only by calls that reach a remote. */
const localEnv = { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1" }

const CACHED_CONFIGS = 256

const collect = (stream: Stream.Stream<Uint8Array, PlatformError>) =>
  stream.pipe(Stream.decodeText, Stream.mkString)

export class GitCli extends Context.Service<
  GitCli,
  {
    /** Runs `git <args>` in `cwd`; a non-zero exit is a result, not an error. */
    readonly run: (args: ReadonlyArray<string>, options: GitRunOptions) => Effect.Effect<GitResult, GitError>
    /** Runs `git <args>` and answers its stdout; a non-zero exit is a `command-failed` GitError. */
    readonly runOk: (args: ReadonlyArray<string>, options: GitRunOptions) => Effect.Effect<string, GitError>
  }
>()("spindle/git/GitCli") {
  static readonly layer = Layer.effect(
    GitCli,
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner

      /** Spawns git with exactly `gitArgs` (the caller has made them safe). */
      const spawn = (
        gitArgs: ReadonlyArray<string>,
        args: ReadonlyArray<string>,
        options: GitRunOptions
      ): Effect.Effect<GitResult, GitError> => {
        const [bin, argv] =
          options.lowPriority === true ? ["nice", ["-n", "19", "git", ...gitArgs]] : ["git", gitArgs]
        const tracked = options.tracked
        const base = options.network === true ? gitEnv : localEnv
        const env = {
          ...base,
          ...options.env,
          ...(options.indexFile === undefined ? {} : { GIT_INDEX_FILE: options.indexFile })
        }
        // Spawned processes lead their own group (the spawner's default); a tracked one starts as
        // the gate, which execs git (same pid, same group) once it reads its line.
        const command =
          tracked === undefined
            ? ChildProcess.make(bin, argv, {
                cwd: options.cwd,
                env,
                extendEnv: true,
                stdin: "ignore",
                forceKillAfter: "2 seconds"
              })
            : ChildProcess.make("sh", ["-c", GATE, "spindle-git", bin, ...argv], {
                cwd: options.cwd,
                env,
                extendEnv: true,
                stdin: "pipe",
                detached: true,
                forceKillAfter: "2 seconds"
              })
        return Effect.scoped(
          Effect.gen(function* () {
            const handle = yield* spawner.spawn(command)
            if (tracked !== undefined) {
              yield* tracked.record(groupOf(handle.pid))
              yield* Stream.run(Stream.make(new TextEncoder().encode("go\n")), handle.stdin)
              if (tracked.running !== undefined) yield* tracked.running
            }
            const [stdout, stderr, exitCode] = yield* Effect.all(
              [collect(handle.stdout), collect(handle.stderr), handle.exitCode],
              { concurrency: "unbounded" }
            )
            return { exitCode: Number(exitCode), stdout, stderr } satisfies GitResult
          })
        ).pipe(
          Effect.timeoutOrElse({
            duration: options.timeout ?? DEFAULT_TIMEOUT,
            orElse: () =>
              Effect.fail(
                new GitError({
                  reason: "timeout",
                  path: options.cwd,
                  message: `git ${args[0] ?? ""} did not finish in time in ${options.cwd}. Check for a stuck git process, a hook or a slow filesystem, then retry.`
                })
              )
          }),
          Effect.catchTag("PlatformError", (error) =>
            Effect.fail(
              new GitError({
                reason: "command-failed",
                path: options.cwd,
                message: `Could not run git in ${options.cwd}: ${error.message}. Check that git is installed and on PATH and that the directory exists.`
              })
            )
          )
        )
      }

      // What the config in a folder configures changes rarely; it is read again when one of its
      // files' content changes (or it includes others, which are not read here).
      const configs = new Map<string, { readonly fingerprint: string; readonly settings: Settings }>()
      interface Settings {
        readonly config: ReadonlyArray<readonly [string, string]>
        readonly flags: ReadonlyArray<string>
      }

      /** The settings that switch off every program the config read in `cwd` names. */
      const safeSettings = (options: GitRunOptions) =>
        Effect.gen(function* () {
          const fingerprint = configFingerprint(options.cwd)
          // The system config is read only by network calls: they are cached apart.
          const key = `${options.network === true ? "network" : "local"}\0${options.cwd}`
          const known = configs.get(key)
          if (fingerprint !== undefined && known?.fingerprint === fingerprint) return known.settings
          const listed = yield* spawn(["config", "--list", "--show-scope", "-z"], ["config"], {
            cwd: options.cwd,
            ...(options.network === undefined ? {} : { network: options.network })
          })
          const entries: ReadonlyArray<ConfigEntry> =
            listed.exitCode === 0 ? parseConfigList(listed.stdout) : []
          const settings = {
            config: neutralizers(entries),
            // `--work-tree` wins over core.worktree, which git reads before any `-c`.
            flags:
              movesWorkTree(entries) && gitDirsOf(options.cwd) !== undefined
                ? [`--work-tree=${options.cwd}`]
                : []
          }
          if (fingerprint !== undefined && !includesFiles(entries)) {
            if (configs.size >= CACHED_CONFIGS) configs.delete(configs.keys().next().value as string)
            configs.set(key, { fingerprint, settings })
          }
          return settings
        })

      const run = Effect.fn("GitCli.run")(function* (args: ReadonlyArray<string>, options: GitRunOptions) {
        if (options.worktreeOf !== undefined) {
          const why = foreignGitDir(options.cwd, options.worktreeOf)
          if (why !== undefined) {
            return yield* new GitError({
              reason: "foreign-gitdir",
              path: options.cwd,
              message: `Spindle runs no git in ${options.cwd}: ${why}, so git there could run programs its agent chose. If you moved it yourself, repair it with 'git -C ${options.worktreeOf} worktree repair ${options.cwd}'.`
            })
          }
        }
        const settings = args[0] === "config" ? { config: [], flags: [] } : yield* safeSettings(options)
        const config = [
          ["core.quotePath", "off"] as const,
          ...Object.entries(options.config ?? {}),
          // After the caller's settings, so none of them can turn a program back on.
          ...(options.hooks === true ? [] : [["core.hooksPath", NO_HOOKS] as const]),
          ...ALWAYS_OFF,
          ...settings.config
        ].flatMap(([key, value]) => ["-c", `${key}=${value}`])
        const at = args.findIndex((arg) => !arg.startsWith("-"))
        const diffing = at >= 0 && DIFF_COMMANDS.has(args[at] as string)
        const command = diffing ? [...args.slice(0, at + 1), ...DIFF_FLAGS, ...args.slice(at + 1)] : args
        return yield* spawn([...config, ...settings.flags, ...command], args, options)
      })

      const runOk = Effect.fn("GitCli.runOk")(function* (
        args: ReadonlyArray<string>,
        options: GitRunOptions
      ) {
        const result = yield* run(args, options)
        if (result.exitCode === 0) return result.stdout
        const full = result.stderr.trim()
        // A full disk makes git say so once per file: the error keeps the first and last lines.
        const stderr = shortText(full)
        const what = `git ${args.slice(0, 2).join(" ")}`
        if (stderr !== full)
          yield* Effect.logWarning(`${what} failed; all it wrote to stderr:\n${full}`).pipe(
            Effect.annotateLogs({ cwd: options.cwd, exitCode: result.exitCode })
          )
        return yield* new GitError({
          reason: "command-failed",
          path: options.cwd,
          stderr,
          message: `${what} failed in ${options.cwd}: ${stderr || `exit code ${result.exitCode}`}`
        })
      })

      return { run, runOk }
    })
  )
}
