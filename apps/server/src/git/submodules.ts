// Submodules fetch only what the user allowed. `.gitmodules` is read from a commit's objects
// (git config --blob: never the checkout, never an include), each URL is checked against the
// URLs recorded from the default branch when the user turned submodules on, and only the
// submodules that pass are initialised, from the URL checked (pinned on git's command line over
// any in the repository's config), with git's own transport switches set so that file://,
// ext:: and every other transport but https, http, ssh and git are refused by git itself, nested
// submodules included. A branch an agent wrote can name any URL in its `.gitmodules`; the host
// would fetch it with the server's network position and credentials.
import * as Effect from "effect/Effect"
import type { GitCli } from "./GitCli.ts"
import type { GitError } from "./GitError.ts"

export interface Submodule {
  readonly name: string
  readonly path: string
  readonly url: string
}

/** Over every submodule call: no transport but these four, whatever a config or URL asks. */
export const SUBMODULE_TRANSPORTS: Readonly<Record<string, string>> = {
  "protocol.allow": "never",
  "protocol.https.allow": "always",
  "protocol.http.allow": "always",
  "protocol.ssh.allow": "always",
  "protocol.git.allow": "always",
  "protocol.file.allow": "never",
  "protocol.ext.allow": "never"
}

/** `.gitmodules` as committed at `commitish`; empty when the commit has none (or it does not parse). */
export const readSubmodules = (git: GitCli["Service"], repo: string, commitish: string) =>
  Effect.gen(function* () {
    const listed = yield* git.run(
      ["config", "--blob", `${commitish}:.gitmodules`, "-z", "--get-regexp", "^submodule\\..*\\.(path|url)$"],
      { cwd: repo }
    )
    if (listed.exitCode !== 0) return [] as ReadonlyArray<Submodule>
    const byName = new Map<string, { path?: string; url?: string }>()
    for (const record of listed.stdout.split("\0")) {
      const newline = record.indexOf("\n")
      if (newline < 0) continue
      const key = record.slice(0, newline)
      const value = record.slice(newline + 1)
      const dot = key.lastIndexOf(".")
      const name = key.slice("submodule.".length, dot)
      const field = key.slice(dot + 1)
      const entry = byName.get(name) ?? {}
      if (field === "path") entry.path = value
      if (field === "url") entry.url = value
      byName.set(name, entry)
    }
    return [...byName].flatMap(([name, { path, url }]) =>
      path === undefined || url === undefined ? [] : [{ name, path, url }]
    )
  })

/**
 * How git would reach `url`: a network transport it may use, or why it is never used. Relative
 * URLs (`../lib.git`) are resolved by git against the remote; the transport switches guard them.
 */
export const transportOf = (
  url: string
): { readonly ok: true } | { readonly ok: false; readonly why: string } => {
  if (/^[A-Za-z][A-Za-z0-9+.-]*::/u.test(url)) {
    return { ok: false, why: "it runs a remote helper (such as ext::, which runs a command)" }
  }
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//u.exec(url)?.[1]?.toLowerCase()
  if (scheme !== undefined) {
    return ["https", "http", "ssh", "git", "git+ssh", "ssh+git"].includes(scheme)
      ? { ok: true }
      : { ok: false, why: `Spindle fetches submodules only over https, http, ssh and git, not ${scheme}://` }
  }
  if (url.startsWith("./") || url.startsWith("../")) return { ok: true }
  // scp-like `[user@]host:path`: ssh. A colon after a slash is a local path (as git reads it).
  const colon = url.indexOf(":")
  if (colon > 0 && !url.slice(0, colon).includes("/")) return { ok: true }
  return { ok: false, why: "it is a local path, which Spindle never fetches a submodule from" }
}

export interface InitSubmodules {
  readonly repo: string
  readonly worktree: string
  /** The commit the worktree was checked out at: its `.gitmodules` is the one read. */
  readonly sha: string
  /** The URLs the user allowed (recorded from the default branch); nothing else is fetched. */
  readonly allowedUrls: ReadonlyArray<string>
  /** The fix to name in a warning (the command that records the URLs again). */
  readonly refresh: string
  readonly config: Readonly<Record<string, string>>
  /** Run the repository's hooks (the project turned them on). */
  readonly hooks?: boolean
}

/** Initialises the allowed submodules of a new worktree; the answer is the warnings for the thread. */
export const initAllowedSubmodules = (
  git: GitCli["Service"],
  options: InitSubmodules,
  withLock: <A, E>(effect: Effect.Effect<A, E>) => Effect.Effect<A, E>
) =>
  Effect.gen(function* () {
    const warnings: Array<string> = []
    const allowed: Array<Submodule> = []
    for (const submodule of yield* readSubmodules(git, options.repo, options.sha)) {
      const transport = transportOf(submodule.url)
      if (!options.allowedUrls.includes(submodule.url)) {
        warnings.push(
          `Submodule ${submodule.path} was not initialised: its URL ${submodule.url} is not one the user allowed (the URLs in .gitmodules on the default branch when submodules were turned on). If you trust it, commit it to the default branch and run '${options.refresh}'.`
        )
      } else if (!transport.ok) {
        warnings.push(
          `Submodule ${submodule.path} was not initialised: ${submodule.url} is refused, since ${transport.why}.`
        )
      } else if (submodule.name.includes("=")) {
        // It could not be named in a `-c` setting (below), so its URL could not be pinned.
        warnings.push(`Submodule ${submodule.path} was not initialised: its name holds '='.`)
      } else {
        allowed.push(submodule)
      }
    }
    if (allowed.length === 0) return warnings
    // The URL checked, on the command line: git otherwise prefers `submodule.<name>.url` from the
    // repository's config, which anything that can write the shared .git can set. A relative URL
    // is left to git to resolve against the remote (the transport switches still hold).
    const pinned = Object.fromEntries(
      allowed
        .filter((submodule) => !submodule.url.startsWith("./") && !submodule.url.startsWith("../"))
        .map((submodule) => [`submodule.${submodule.name}.url`, submodule.url])
    )
    const result = yield* withLock(
      git.run(
        [
          "submodule",
          "update",
          "--init",
          "--recursive",
          "--",
          ...allowed.map((submodule) => `:(literal)${submodule.path}`)
        ],
        {
          cwd: options.worktree,
          worktreeOf: options.repo,
          timeout: "5 minutes",
          network: true,
          hooks: options.hooks === true,
          config: { ...options.config, ...pinned, ...SUBMODULE_TRANSPORTS }
        }
      )
    ).pipe(
      Effect.catchTag("GitError", (error: GitError) =>
        Effect.succeed({ exitCode: 1, stdout: "", stderr: error.message })
      )
    )
    if (result.exitCode !== 0) {
      warnings.push(`Submodules were not initialised: ${result.stderr.trim().split("\n")[0] ?? "git failed"}`)
    }
    return warnings
  })
