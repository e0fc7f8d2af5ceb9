// The only place that runs git. Every call has a timeout, no prompt, no pager, a stable locale,
// and keeps stderr for the error message. It knows git's command line, not what Spindle does
// with it (that is Repositories and Worktrees).
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { PlatformError } from "effect/PlatformError"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"
import { GitError } from "./GitError.ts"

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
  /** Run under `nice`, for background work that must not slow what a user waits for. */
  readonly lowPriority?: boolean
}

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
  LANGUAGE: "C"
}

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

      const run = Effect.fn("GitCli.run")(function* (args: ReadonlyArray<string>, options: GitRunOptions) {
        const config = Object.entries(options.config ?? {}).flatMap(([key, value]) => [
          "-c",
          `${key}=${value}`
        ])
        const gitArgs = ["-c", "core.quotePath=off", ...config, ...args]
        const [bin, argv] =
          options.lowPriority === true ? ["nice", ["-n", "19", "git", ...gitArgs]] : ["git", gitArgs]
        const command = ChildProcess.make(bin, argv, {
          cwd: options.cwd,
          env: gitEnv,
          extendEnv: true,
          stdin: "ignore",
          forceKillAfter: "2 seconds"
        })
        return yield* Effect.scoped(
          Effect.gen(function* () {
            const handle = yield* spawner.spawn(command)
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
      })

      const runOk = Effect.fn("GitCli.runOk")(function* (
        args: ReadonlyArray<string>,
        options: GitRunOptions
      ) {
        const result = yield* run(args, options)
        if (result.exitCode === 0) return result.stdout
        const stderr = result.stderr.trim()
        return yield* new GitError({
          reason: "command-failed",
          path: options.cwd,
          stderr,
          message: `git ${args.slice(0, 2).join(" ")} failed in ${options.cwd}: ${stderr || `exit code ${result.exitCode}`}`
        })
      })

      return { run, runOk }
    })
  )
}
