// Pure decisions about projects: register a repository, change its settings, remove it.
import {
  type Command,
  DEFAULT_PORT_COUNT,
  DEFAULT_RETENTION,
  DEFAULT_SETUP_TIMEOUT_SECONDS,
  type NotifyWebhook,
  type Project,
  type ProjectId,
  SpindleError,
  withoutBidiControls
} from "@spindle/contracts"
import { checkoutOn, type ReadModel } from "@spindle/read-model"
import * as HashMap from "effect/HashMap"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import {
  accept,
  type DecideContext,
  type Decision,
  findProject,
  projectNotFound,
  reject
} from "./decision.ts"

/** A project's default title: its folder's name, made a valid one-line title (the folder may not be). */
const titleFromPath = (path: string) => {
  const name = withoutBidiControls(path.replace(/\/+$/, "").split("/").pop() ?? "")
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is dropped
    .replace(/[\u0000-\u001f\u007f\ufffd]/gu, "")
    .trim()
    .slice(0, 200)
    .trim()
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(name) ? name : "project"
}

/**
 * The webhook a create or update leaves the project with (undefined: the command does not change
 * it), or the refusal of a secret without a webhook. A new URL keeps the secret. The secret's value
 * goes no further than `secretSet`: the engine stores it beside the log, never in an event.
 */
const webhookAfter = (
  projectId: ProjectId,
  current: NotifyWebhook | null,
  url: string | null | undefined,
  secret: string | null | undefined
): Result.Result<NotifyWebhook | null | undefined, SpindleError> => {
  if (url === null) {
    return typeof secret === "string"
      ? Result.fail(
          new SpindleError({
            reason: "validation",
            projectId,
            field: "notifySecret",
            message:
              "A notify secret cannot be set while the webhook is removed: leave the secret out, or give a webhook URL with it."
          })
        )
      : Result.succeed(null)
  }
  const target = url ?? current?.url
  if (target === undefined) {
    return typeof secret === "string"
      ? Result.fail(
          new SpindleError({
            reason: "validation",
            projectId,
            field: "notifySecret",
            message: `Project ${projectId} has no notify webhook for the secret to sign: set the URL too (--notify-webhook URL).`
          })
        )
      : Result.succeed(undefined)
  }
  if (url === undefined && secret === undefined) return Result.succeed(undefined)
  return Result.succeed({
    url: target,
    secretSet: secret === undefined ? (current?.secretSet ?? false) : secret !== null
  })
}

export const decideProject = (
  command: Extract<
    Command,
    { type: "project.create" | "project.update" | "project.remove" | "project.checkout.add" }
  >,
  model: ReadModel,
  context: DecideContext
): Decision => {
  const { now } = context
  switch (command.type) {
    case "project.create": {
      if (findProject(model, command.projectId) !== undefined) {
        return reject({
          reason: "conflict",
          projectId: command.projectId,
          message: `Project ${command.projectId} already exists. Choose another id, or update it with project.update.`
        })
      }
      // The same path on two hosts is two clones; on one host it is one repository.
      const existing = HashMap.findFirst(
        model.projects,
        (p) => checkoutOn(p, context.hostId) === command.workspaceRoot
      )
      if (Option.isSome(existing)) {
        const [id] = existing.value
        return reject({
          reason: "conflict",
          projectId: id,
          path: command.workspaceRoot,
          message: `The repository ${command.workspaceRoot} is already registered as project ${id}. Use that project instead.`
        })
      }
      const webhook = webhookAfter(command.projectId, null, command.notifyWebhook, command.notifySecret)
      if (Result.isFailure(webhook)) return Result.fail(webhook.failure)
      const project: Project = {
        id: command.projectId,
        title: command.title ?? titleFromPath(command.workspaceRoot),
        workspaceRoot: command.workspaceRoot,
        checkouts:
          context.hostId === undefined
            ? []
            : [{ host: context.hostId, workspaceRoot: command.workspaceRoot }],
        defaultBranch: command.defaultBranch ?? null,
        setupScript: command.setupScript ?? null,
        setupTimeoutSeconds: command.setupTimeoutSeconds ?? DEFAULT_SETUP_TIMEOUT_SECONDS,
        setupEnv: command.setupEnv ?? {},
        // Read by the server before the command got here (Commands); absent, nothing is approved.
        setupApproval: command.setupApproval ?? null,
        agentEnv: command.agentEnv ?? {},
        initSubmodules: command.initSubmodules ?? false,
        submoduleUrls: command.submoduleUrls ?? [],
        gitHooks: command.gitHooks ?? false,
        // Filled in from the event's actor by the projector.
        gitHooksSetBy: null,
        defaultProvider: command.defaultProvider ?? "codex",
        defaultModel: command.defaultModel ?? null,
        // A new project's threads work in the sandbox unless the user says otherwise (issue: threads
        // started full-access and nothing said so).
        defaultRuntimeMode: command.defaultRuntimeMode ?? "sandboxed",
        codexBin: command.codexBin ?? null,
        codexConfig: command.codexConfig ?? [],
        agentCommand: command.agentCommand ?? null,
        acpAgent: command.acpAgent ?? null,
        worktreePoolSize: command.worktreePoolSize ?? 0,
        portCount: command.portCount ?? DEFAULT_PORT_COUNT,
        retention: command.retention ?? DEFAULT_RETENTION,
        notifyWebhook: webhook.success ?? null,
        lastNotify: null,
        createdAt: now,
        updatedAt: now
      }
      return accept({ type: "project.created", payload: { project } })
    }

    case "project.update": {
      const current = findProject(model, command.projectId)
      if (current === undefined) return projectNotFound(command.projectId)
      const {
        type: _type,
        commandId: _commandId,
        projectId,
        approveSetup: _approve,
        notifyWebhook: url,
        notifySecret: secret,
        ...settings
      } = command
      const webhook = webhookAfter(projectId, current.notifyWebhook, url, secret)
      if (Result.isFailure(webhook)) return Result.fail(webhook.failure)
      const changes =
        webhook.success === undefined ? settings : { ...settings, notifyWebhook: webhook.success }
      if (Object.keys(changes).length === 0) {
        return reject({
          reason: "validation",
          projectId,
          message: "project.update changes nothing: give at least one setting to change."
        })
      }
      return accept({ type: "project.updated", payload: { projectId, changes } })
    }

    case "project.checkout.add": {
      const project = findProject(model, command.projectId)
      if (project === undefined) return projectNotFound(command.projectId)
      const host = context.hostId
      if (host === undefined) {
        return reject({
          reason: "validation",
          projectId: project.id,
          message: "This server has no host id, so there is no host to add a checkout for."
        })
      }
      const root = command.workspaceRoot
      // A project from before hosts were recorded: its one checkout is claimed by its host first.
      if (project.checkouts.length === 0 && root !== project.workspaceRoot) {
        return reject({
          reason: "conflict",
          projectId: project.id,
          field: "workspaceRoot",
          message: `Project ${project.id} was registered before hosts were recorded: first say which host holds ${project.workspaceRoot} (spindle project checkout add ${project.id} ${project.workspaceRoot} --host <that host>), then add other hosts' checkouts.`
        })
      }
      const held = project.checkouts.find((checkout) => checkout.host === host)
      if (held !== undefined) {
        return reject({
          reason: "conflict",
          projectId: project.id,
          path: held.workspaceRoot,
          message: `Project ${project.id} already has a checkout on this host: ${held.workspaceRoot}.`
        })
      }
      const other = HashMap.findFirst(
        model.projects,
        (p) => p.id !== project.id && checkoutOn(p, host) === root
      )
      if (Option.isSome(other)) {
        return reject({
          reason: "conflict",
          projectId: other.value[0],
          path: root,
          message: `The repository ${root} is already project ${other.value[0]}'s checkout on this host. Clone the repository again for ${project.id}.`
        })
      }
      return accept({
        type: "project.checkout-added",
        payload: { projectId: project.id, checkout: { host, workspaceRoot: root } }
      })
    }

    case "project.remove": {
      if (findProject(model, command.projectId) === undefined) return projectNotFound(command.projectId)
      const active = HashMap.size(
        HashMap.filter(model.threads, (t) => t.projectId === command.projectId && t.status === "active")
      )
      if (active > 0) {
        return reject({
          reason: "conflict",
          projectId: command.projectId,
          message: `Project ${command.projectId} still has ${active} active thread(s). Archive them first ('spindle thread archive <id>'), or remove the project with --archive-threads.`
        })
      }
      return accept({ type: "project.deleted", payload: { projectId: command.projectId } })
    }
  }
}
