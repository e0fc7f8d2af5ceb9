// The git capability as layers: the per-repository locks and the Repositories and Worktrees
// services over a GitCli. Needs a ChildProcessSpawner and ServerConfig.
import * as Layer from "effect/Layer"
import { GitCli } from "./GitCli.ts"
import { RepoLocks } from "./RepoLocks.ts"
import { Repositories } from "./Repositories.ts"
import { Worktrees } from "./Worktrees.ts"

/** Everything above GitCli; tests provide their own (watched) GitCli underneath. */
export const GitServices = Worktrees.layer.pipe(
  Layer.provideMerge(Repositories.layer),
  Layer.provideMerge(RepoLocks.layer)
)

export const GitLayer = GitServices.pipe(Layer.provideMerge(GitCli.layer))
