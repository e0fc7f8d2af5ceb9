// The server names a bad value by its place in the command ("bootstrap.workspace.branch"); a person
// typed a flag. One table from a command's fields to the CLI's flags, so every refusal the CLI
// passes on names what was typed: "--branch does not apply with --mode current_checkout".

/** A command field (its path, array indexes left out) and the flag that sets it. */
const FLAGS: Record<string, string> = {
  prompt: "--prompt",
  threadId: "--thread-id",
  projectId: "--project",
  "bootstrap.createThread.projectId": "--project",
  "bootstrap.createThread.title": "--title",
  "bootstrap.createThread.provider": "--provider",
  "bootstrap.createThread.model": "--model",
  "bootstrap.createThread.runtimeMode": "--runtime-mode",
  "bootstrap.workspace.mode": "--mode",
  "bootstrap.workspace.branch": "--branch",
  "bootstrap.workspace.baseBranch": "--base",
  "bootstrap.workspace.pr": "--pr",
  "bootstrap.workspace.worktreePath": "--worktree",
  "bootstrap.workspace.fromThread": "--from-thread",
  "bootstrap.workspace.includeUncommitted": "--include-uncommitted",
  "bootstrap.runSetupScript": "--setup",
  "bootstrap.attachments": "--attach",
  "bootstrap.attachments.path": "--attach",
  setupScript: "--setup-script",
  setupTimeoutSeconds: "--setup-timeout",
  defaultRuntimeMode: "--default-runtime-mode",
  agentCommand: "--agent-command",
  acpAgent: "--acp-agent",
  agentEnv: "--agent-env",
  setupEnv: "--setup-env",
  notifyWebhook: "--notify-webhook",
  notifySecret: "--notify-secret-file"
}

/** The flag for a command field, if the CLI has one. */
export const flagFor = (field: string): string | undefined => FLAGS[field.replace(/\.\d+(?=\.|$)/g, "")]

/**
 * The server's refusal of field `field`, in the CLI's words: "Invalid thread.turn.start command:
 * bootstrap.workspace.branch: does not apply to mode current_checkout; …" becomes "--branch does
 * not apply with --mode current_checkout; …". Undefined when the field has no flag.
 */
export const inFlagWords = (field: string, message: string): string | undefined => {
  const flag = flagFor(field)
  if (flag === undefined) return undefined
  const said = message.replace(/^Invalid [\w.]+ command: /, "")
  // A schema's issue continues the field's name ("--branch does not apply …"); the server's own
  // refusal is a sentence of its own ("--from-thread: Thread t-1 belongs to …").
  const issue = said.startsWith(`${field}: `)
  const what = issue ? said.slice(field.length + 2) : said
  return `${flag}${issue ? "" : ":"} ${what}`
    .replace(/\bto mode (\w+)/g, "with --mode $1")
    .replace(/another mode\b/g, "another --mode")
    .replace(NAMED_FIELDS, (name) => FLAGS[`bootstrap.workspace.${name}`] ?? name)
}

/**
 * Workspace fields a refusal names in its text ("Give either fromThread or baseBranch"), said as
 * their flags; `branch` and `mode` are also plain words, and stay as they are.
 */
const NAMED_FIELDS = /(?<![\w.-])(baseBranch|pr|worktreePath|fromThread|includeUncommitted)(?![\w-])/g
