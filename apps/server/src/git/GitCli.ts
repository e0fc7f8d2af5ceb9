// The only place that runs git. Every call has a timeout, no prompt, no pager, and keeps stderr
// for the error message. It knows git's command line, not what Spindle does with it.
import { SpindleError } from "@spindle/contracts"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { PlatformError } from "effect/PlatformError"
import * as ChildProcess from "effect/process/ChildProcess"
import { ChildProcessSpawner } from "effect/process/ChildProcessSpawner"
import * as Stream from "effect/Stream"

export interface GitResult {
  readonly exitCode: number
  readonly stdout: string
  readonly stderr: string
}

export interface GitRunOptions {
  readonly cwd: string
  readonly timeout?: Duration.Input
}

const DEFAULT_TIMEOUT = Duration.seconds(60)

const gitEnv = {
  GIT_TERMINAL_PROMPT: "0",
  GIT_PAGER: "cat",
  PAGER: "cat",
  GIT_OPTIONAL_LOCKS: "0",
  LC_ALL: "C"
}

const collect = (stream: Stream.Stream<Uint8Array, PlatformError>) =>
  stream.pipe(Stream.decodeText, Stream.mkString)

export class GitCli extends Context.Service<
  GitCli,
  {
    /** Runs `git <args>` in `cwd`; a non-zero exit is a result, not an error. */
    readonly run: (
      args: ReadonlyArray<string>,
      options: GitRunOptions
    ) => Effect.Effect<GitResult, SpindleError>
    /** The top-level directory of the work tree containing `path`, or undefined outside a repository. */
    readonly toplevel: (path: string) => Effect.Effect<string | undefined, SpindleError>
    /** The branch new worktrees start from: origin/HEAD, then main/master/init.defaultBranch, then HEAD's branch. */
    readonly defaultBranch: (repo: string) => Effect.Effect<string | undefined, SpindleError>
  }
>()("spindle/git/GitCli") {
  static readonly layer = Layer.effect(
    GitCli,
    Effect.gen(function* () {
      const spawner = yield* ChildProcessSpawner

      const run = Effect.fn("GitCli.run")(function* (args: ReadonlyArray<string>, options: GitRunOptions) {
        const command = ChildProcess.make("git", ["-c", "core.quotePath=off", ...args], {
          cwd: options.cwd,
          env: gitEnv,
          extendEnv: true,
          stdin: "ignore"
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
                new SpindleError({
                  reason: "git",
                  path: options.cwd,
                  message: `git ${args[0] ?? ""} timed out in ${options.cwd}. Check for a stuck git process or a slow filesystem, then retry.`
                })
              )
          }),
          Effect.catchTag("PlatformError", (error) =>
            Effect.fail(
              new SpindleError({
                reason: "git",
                path: options.cwd,
                message: `Could not run git in ${options.cwd}: ${error.message}. Is git installed and on PATH?`
              })
            )
          )
        )
      })

      const toplevel = Effect.fn("GitCli.toplevel")(function* (path: string) {
        const result = yield* run(["rev-parse", "--show-toplevel"], { cwd: path })
        return result.exitCode === 0 ? result.stdout.trim() : undefined
      })

      const firstLine = (args: ReadonlyArray<string>, cwd: string) =>
        Effect.map(run(args, { cwd }), (r) => (r.exitCode === 0 ? r.stdout.trim() || undefined : undefined))

      const hasLocalBranch = (repo: string, branch: string) =>
        Effect.map(
          run(["show-ref", "--verify", "--quiet", `refs/heads/${branch}`], { cwd: repo }),
          (r) => r.exitCode === 0
        )

      const defaultBranch = Effect.fn("GitCli.defaultBranch")(function* (repo: string) {
        const remoteHead = yield* firstLine(
          ["symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD"],
          repo
        )
        if (remoteHead !== undefined) return remoteHead.replace(/^origin\//, "")
        const configured = yield* firstLine(["config", "--get", "init.defaultBranch"], repo)
        for (const candidate of ["main", "master", ...(configured ? [configured] : [])]) {
          if (yield* hasLocalBranch(repo, candidate)) return candidate
        }
        return yield* firstLine(["symbolic-ref", "--quiet", "--short", "HEAD"], repo)
      })

      return { run, toplevel, defaultBranch }
    })
  )
}
