// Test wiring for the git capability: real git through the Node process spawner, with the
// worktree root under a temp home. Not shipped.
import * as NodeServices from "@effect/platform-node/NodeServices"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { ServerConfig, type ServerSettings } from "../config/ServerConfig.ts"
import { GitCli } from "../git/GitCli.ts"
import { GitServices } from "../git/GitLayer.ts"
import { Repositories } from "../git/Repositories.ts"
import { Worktrees } from "../git/Worktrees.ts"
import { testSettings } from "./fixtures.ts"

/**
 * Builds the git services for `home`; `wrapGit` lets a test watch or alter git calls, `settings`
 * changes the server's settings.
 */
export const gitServices = (
  home: string,
  wrapGit?: (git: GitCli["Service"]) => GitCli["Service"],
  settings?: Partial<ServerSettings>
) =>
  Effect.gen(function* () {
    const cli = wrapGit
      ? Layer.effect(
          GitCli,
          Effect.map(GitCli, (git) => GitCli.of(wrapGit(git)))
        ).pipe(Layer.provide(GitCli.layer))
      : GitCli.layer
    const layer = GitServices.pipe(
      Layer.provideMerge(cli),
      Layer.provide(ServerConfig.layer({ ...testSettings(home), ...settings })),
      Layer.provide(NodeServices.layer)
    )
    const context = yield* Layer.build(layer)
    return {
      worktrees: Context.get(context, Worktrees),
      repositories: Context.get(context, Repositories),
      git: Context.get(context, GitCli)
    }
  })
