// What keeps the programs a repository's config names from running when Spindle runs git. An
// agent can write its repository's config (the shared `.git/config`, its worktree's
// `config.worktree`, files they include) and `.gitattributes`, so every such program is forced
// off on every call: hooks and fsmonitor always, each filter, diff and merge driver configured
// under any name, and the transport programs (ssh command, credential helpers, upload-pack) set
// in the repository itself (the user's own global ones stay, so fetches keep their credentials).
// Knows git's config, not which call Spindle makes; GitCli applies it.
import { createHash } from "node:crypto"
import { readFileSync } from "node:fs"
import { homedir } from "node:os"
import { isAbsolute, join, resolve } from "node:path"
import { gitDirsOf } from "./worktreeLink.ts"

/** A config entry as `git config --list --show-scope -z` answers it. */
export interface ConfigEntry {
  readonly scope: string
  readonly key: string
  readonly value: string
}

/** `<scope>\0<key>\n<value>\0` records (a key given without a value has no newline). */
export const parseConfigList = (output: string): ReadonlyArray<ConfigEntry> => {
  const fields = output.split("\0")
  const entries: Array<ConfigEntry> = []
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const scope = fields[i] as string
    const record = fields[i + 1] as string
    const newline = record.indexOf("\n")
    entries.push(
      newline < 0
        ? { scope, key: record, value: "" }
        : { scope, key: record.slice(0, newline), value: record.slice(newline + 1) }
    )
  }
  return entries
}

/**
 * Where hooks are looked for: a path under which no file can ever exist, so no hook runs and
 * nothing can be planted there (an empty folder could be written to by whoever can write it).
 */
export const NO_HOOKS = "/dev/null"

/** Settings every call gets, whatever the config says. */
export const ALWAYS_OFF: ReadonlyArray<readonly [string, string]> = [
  ["core.fsmonitor", "false"],
  // ext:: runs a command as a transport; its default is off, but a repository may turn it on.
  ["protocol.ext.allow", "never"]
]

/** Subcommands that print diffs: external diff commands and textconv are turned off by flag. */
export const DIFF_COMMANDS: ReadonlySet<string> = new Set(["diff", "log", "show", "format-patch"])
export const DIFF_FLAGS = ["--no-ext-diff", "--no-textconv"] as const

/** Scopes an agent can write: the repository's own config and its worktrees'. */
const REPOSITORY_SCOPES = new Set(["local", "worktree"])

const DRIVER = /^(filter\.(.+)\.(clean|smudge|process)|diff\.(.+)\.(textconv|command)|merge\.(.+)\.driver)$/
const CREDENTIAL_HELPER = /^credential\.(.+\.)?helper$/
/**
 * Single-valued settings that name a program (for a transport, or for signatures Spindle never
 * asks for), and what stands in for them: git's own default, or nothing to run.
 */
const TRANSPORT_PROGRAMS: ReadonlyArray<readonly [RegExp, (key: string) => string]> = [
  [/^core\.sshcommand$/, () => "ssh"],
  [/^remote\..+\.uploadpack$/, () => "git-upload-pack"],
  [/^remote\..+\.receivepack$/, () => "git-receive-pack"],
  [/^core\.gitproxy$/, () => "none"],
  // Run by the shell in place of for-each-ref over alternates; empty runs nothing.
  [/^core\.alternaterefscommand$/, () => ""],
  [/^gpg\.(.+\.)?program$/, () => "gpg"]
]

/**
 * The `-c key=value` settings that neutralize the programs `entries` configure. An empty value
 * is what git reads as "no command" for filters; for diff and merge drivers it is an error
 * instead of a run (diff commands get DIFF_FLAGS, so they never read them).
 */
export const neutralizers = (
  entries: ReadonlyArray<ConfigEntry>
): ReadonlyArray<readonly [string, string]> => {
  const settings: Array<readonly [string, string]> = []
  const seen = new Set<string>()
  const set = (key: string, value: string) => {
    if (seen.has(`${key}\0${value}`)) return
    seen.add(`${key}\0${value}`)
    settings.push([key, value])
  }
  for (const { key } of entries) {
    const driver = DRIVER.exec(key)
    if (driver === null) continue
    set(key, "")
    // A required filter with no command would make every checkout fail.
    if (driver[2] !== undefined) set(`filter.${driver[2]}.required`, "false")
  }
  if (entries.some((e) => /^diff\.external$/.test(e.key))) set("diff.external", "")
  // `submodule.<name>.update = !command` runs the command on `git submodule update`.
  for (const { key, value } of entries) {
    if (/^submodule\..+\.update$/.test(key) && value.trim().startsWith("!")) set(key, "checkout")
  }
  const planted = entries.filter((e) => REPOSITORY_SCOPES.has(e.scope))
  for (const [pattern, fallback] of TRANSPORT_PROGRAMS) {
    for (const { key } of planted) {
      if (!pattern.test(key)) continue
      const trusted = entries.filter((e) => e.key === key && !REPOSITORY_SCOPES.has(e.scope)).at(-1)
      set(key, trusted?.value ?? fallback(key))
    }
  }
  // Helpers form one list; an empty value clears it, then the user's own are given again.
  if (planted.some((e) => CREDENTIAL_HELPER.test(e.key))) {
    set("credential.helper", "")
    for (const e of entries) {
      if (CREDENTIAL_HELPER.test(e.key) && !REPOSITORY_SCOPES.has(e.scope) && e.value !== "") {
        settings.push([e.key, e.value])
      }
    }
  }
  return settings
}

/**
 * Whether the config moves the work tree (core.worktree, read by git before any `-c`): in a
 * checkout's top level, GitCli then names the work tree itself, so a reset or checkout cannot
 * write elsewhere.
 */
export const movesWorkTree = (entries: ReadonlyArray<ConfigEntry>) =>
  entries.some((e) => e.key === "core.worktree")

/** Whether the entries pull in other files, whose changes no fingerprint of ours would see. */
export const includesFiles = (entries: ReadonlyArray<ConfigEntry>) =>
  entries.some((e) => /^include(if\..+)?\.path$/.test(e.key))

/**
 * The config files git reads in `cwd` (a main checkout or a linked worktree), by content, as a key
 * for a cache of what they configure; undefined when `cwd` is neither. By content, not by stamp:
 * git rewrites `.git/config` whole for small things (a branch deleted), and a change within one
 * tick of the file system's clock would keep its stamp.
 */
export const configFingerprint = (cwd: string): string | undefined => {
  const files = configFiles(cwd)
  if (files === undefined) return undefined
  const hash = createHash("sha256")
  for (const file of files) {
    let content: Buffer | undefined
    try {
      content = readFileSync(file)
    } catch {
      content = undefined
    }
    hash.update(`${file}\0${content === undefined ? "-" : `${content.length}\0`}`)
    if (content !== undefined) hash.update(content)
    hash.update("\0")
  }
  return hash.digest("base64")
}

const configFiles = (cwd: string): ReadonlyArray<string> | undefined => {
  const gitDirs = gitDirsOf(cwd)
  if (gitDirs === undefined) return undefined
  const home = process.env.HOME ?? homedir()
  const xdg = process.env.XDG_CONFIG_HOME
  const global = process.env.GIT_CONFIG_GLOBAL
  return [
    join(gitDirs.common, "config"),
    join(gitDirs.gitDir, "config.worktree"),
    ...(global !== undefined
      ? [isAbsolute(global) ? global : resolve(global)]
      : [join(home, ".gitconfig"), join(xdg && xdg !== "" ? xdg : join(home, ".config"), "git", "config")]),
    process.env.GIT_CONFIG_SYSTEM ?? "/etc/gitconfig"
  ]
}
