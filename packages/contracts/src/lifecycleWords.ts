// Words the server says about worktrees that the CLI reads back. Their own module, so that the CLI
// (which loads no schema, for its start time) can import them alone: @spindle/contracts/lifecycleWords.

/** How a worktree's uncommitted changes stop keeping it: said after what they are. */
export const UNCOMMITTED_ADVICE = "Commit or stash them, or archive with --force to discard them."
