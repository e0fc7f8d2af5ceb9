// Repositories an agent has tampered with, for the trust-boundary scenario: a setup script committed
// on a branch the agent chose, one written into its own checkout, a `.worktreeinclude` whose
// destination passes through a symlink (to a folder, or dangling) on the agent's branch, and a
// repository whose default branch carries a setup script that dumps its environment.
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { commitFile, git, initRepo } from "../../src/testing/fixtures.ts"

export interface TamperedRepos {
  readonly repo: string
  /** Would exist if a setup script from the agent's branch or checkout ran. */
  readonly branchMarker: string
  readonly checkoutMarker: string
  /** Folders outside every repository that an include copy must not write into. */
  readonly outsideTarget: string
  readonly plantedFile: string
  /** A repository whose default branch's `.spindle/setup.sh` writes `env` into the worktree. */
  readonly envRepo: string
}

export const tamperedRepos = (dir: string): TamperedRepos => {
  const repo = initRepo(join(dir, "repo-trust"))
  const branchMarker = join(dir, "ran-from-branch")
  const checkoutMarker = join(dir, "ran-from-checkout")
  const outsideTarget = join(dir, "outside-target")
  const plantedFile = join(dir, "outside-planted.env")
  mkdirSync(outsideTarget)

  // main: config/ is a folder; config/local.env and local.env are ignored and listed for copying.
  commitFile(repo, ".gitignore", "config/local.env\nlocal.env\n")
  commitFile(repo, ".worktreeinclude", "config/local.env\nlocal.env\n")
  commitFile(repo, "config/README", "settings live here\n")
  writeFileSync(join(repo, "config", "local.env"), "SECRET=from-the-root\n")
  writeFileSync(join(repo, "local.env"), "SECRET=top-level\n")

  // The agent's branch: a setup script of its own, config/ a symlink out of the repository, and
  // local.env a dangling symlink to a file outside.
  git(repo, "checkout", "--quiet", "-b", "agent/evil")
  commitFile(repo, ".spindle/setup.sh", `#!/bin/sh\ntouch '${branchMarker}'\n`)
  git(repo, "rm", "--quiet", "-r", "config")
  rmSync(join(repo, "config"), { recursive: true, force: true })
  symlinkSync(outsideTarget, join(repo, "config"))
  git(repo, "add", "config")
  git(repo, "commit", "--quiet", "-m", "config is elsewhere")
  git(repo, "rm", "--quiet", "--cached", "--ignore-unmatch", "local.env")
  rmSync(join(repo, "local.env"), { force: true })
  symlinkSync(plantedFile, join(repo, "local.env"))
  git(repo, "add", "-f", "local.env")
  git(repo, "commit", "--quiet", "-m", "local.env is elsewhere")
  git(repo, "checkout", "--quiet", "main")
  // Back on main the root keeps its own ignored files (checkout removed the tracked links).
  mkdirSync(join(repo, "config"), { recursive: true })
  writeFileSync(join(repo, "config", "local.env"), "SECRET=from-the-root\n")
  writeFileSync(join(repo, "local.env"), "SECRET=top-level\n")

  // The agent's own checkout (the project root, for a thread created there) gets a setup script.
  mkdirSync(join(repo, ".spindle"), { recursive: true })
  writeFileSync(join(repo, ".spindle", "setup.sh"), `#!/bin/sh\ntouch '${checkoutMarker}'\n`)

  const envRepo = initRepo(join(dir, "repo-env"))
  commitFile(envRepo, ".spindle/setup.sh", "#!/bin/sh\nenv > setup-env.txt\n")
  return { repo, branchMarker, checkoutMarker, outsideTarget, plantedFile, envRepo }
}
