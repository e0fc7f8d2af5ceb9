// The Project read model: a git repository the user registered.
import * as Schema from "effect/Schema"
import { ProjectId } from "./ids.ts"
import {
  AbsolutePath,
  IsoTimestamp,
  ModelName,
  ProviderKind,
  SetupScript,
  SetupTimeoutSeconds,
  Title
} from "./values.ts"

export const Project = Schema.Struct({
  id: ProjectId,
  title: Title,
  /** The repository's top-level directory (real path). */
  workspaceRoot: AbsolutePath,
  /** Detected at registration (origin/HEAD, main, master, ...), overridable; null when unknown. */
  defaultBranch: Schema.NullOr(Schema.String),
  /** Shell command run in each new worktree; when null, an executable `.spindle/setup.sh` is used. */
  setupScript: Schema.NullOr(SetupScript),
  setupTimeoutSeconds: SetupTimeoutSeconds,
  /** Whether new worktrees get `git submodule update --init --recursive`. */
  initSubmodules: Schema.Boolean,
  defaultProvider: ProviderKind,
  defaultModel: Schema.NullOr(ModelName),
  createdAt: IsoTimestamp,
  updatedAt: IsoTimestamp
}).annotate({ identifier: "Project", description: "A git repository registered with Spindle" })
export type Project = typeof Project.Type
