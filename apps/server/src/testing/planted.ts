// Programs an agent could plant in a repository for the host's git to run, each writing a marker
// file when it runs: fsmonitor, hooks, filter and diff drivers, a fake git dir behind a worktree's
// .git file. For tests that check none of them runs. Not shipped.
import { chmodSync, existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { git } from "./fixtures.ts"

/** A shell command that records that `name` ran, in `markers`. */
export const touch = (markers: string, name: string) => `touch '${join(markers, name)}'`

/** The markers written so far (empty when nothing ran). */
export const markersIn = (markers: string) => (existsSync(markers) ? readdirSync(markers).sort() : [])

/** An executable script at `path` that touches the marker `name`. */
export const plantScript = (path: string, markers: string, name: string) => {
  writeFileSync(path, `#!/bin/sh\n${touch(markers, name)}\nexit 0\n`)
  chmodSync(path, 0o755)
  return path
}

/**
 * Config in `dir`'s repository (the shared one, as an agent's worktree can write it) naming a
 * filter and a diff driver `planted`, and fsmonitor; `*.txt` files use the drivers once a
 * `.gitattributes` saying so is checked out.
 */
export const plantDrivers = (dir: string, markers: string) => {
  const set = (key: string, value: string) => git(dir, "config", key, value)
  set("filter.planted.clean", `${touch(markers, "filter-clean")}; cat`)
  set("filter.planted.smudge", `${touch(markers, "filter-smudge")}; cat`)
  set("filter.planted.process", `sh -c '${touch(markers, "filter-process")}'`)
  set("filter.planted.required", "true")
  set("diff.planted.textconv", `${touch(markers, "diff-textconv")}; cat`)
  set("diff.planted.command", `${touch(markers, "diff-command")}; true`)
  set("diff.external", `sh -c '${touch(markers, "diff-external")}'`)
  set("core.fsmonitor", plantScript(join(markers, "..", "fsmonitor.sh"), markers, "fsmonitor"))
}

/** The `.gitattributes` line that sends `*.txt` through the planted drivers. */
export const PLANTED_ATTRIBUTES = "*.txt filter=planted diff=planted\n"

/** A hooks folder with post-checkout and reference-transaction hooks, named by core.hooksPath. */
export const plantHooksPath = (repo: string, hooks: string, markers: string) => {
  mkdirSync(hooks, { recursive: true })
  plantScript(join(hooks, "post-checkout"), markers, "hooksPath-post-checkout")
  plantScript(join(hooks, "reference-transaction"), markers, "hooksPath-reference-transaction")
  git(repo, "config", "core.hooksPath", hooks)
}

/**
 * Replaces `worktree`'s .git file with a link to a git dir made inside it, whose own config runs
 * fsmonitor: what an agent can do with nothing but write access to its worktree.
 */
export const plantFakeGitDir = (worktree: string, markers: string) => {
  const fake = join(worktree, ".fake")
  git(worktree, "init", "--quiet", "--initial-branch=main", fake)
  git(fake, "config", "core.fsmonitor", plantScript(join(fake, "fsmonitor.sh"), markers, "fake-fsmonitor"))
  writeFileSync(join(worktree, ".git"), `gitdir: ${join(fake, ".git")}\n`)
  return fake
}
