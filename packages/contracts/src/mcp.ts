// MCP schemas: what a provider session token may do and what issuing or listing one shows. Never the
// stored hash; the MCP tools' own input and output schemas join this file as they are written.
import * as Schema from "effect/Schema"
import { ProjectId, ThreadId } from "./ids.ts"
import { IsoTimestamp } from "./values.ts"

/** What a provider session may do over MCP. Neither capability implies the other. */
export const ProviderCapability = Schema.Literals(["thread-management", "thread-read"]).annotate({
  identifier: "ProviderCapability",
  description:
    "A provider session capability: thread-management lets the session start threads with t3_thread_start; " +
    "thread-read lets it read the threads it started. Tool input can never add one."
})
export type ProviderCapability = typeof ProviderCapability.Type

/** `ptk_` and 12 lowercase hex digits: names a provider session token without revealing it. */
export const ProviderTokenId = Schema.String.check(
  Schema.isPattern(/^ptk_[0-9a-f]{12}$/u, {
    message: "expected a provider token id such as ptk_0123456789ab"
  })
).annotate({
  identifier: "ProviderTokenId",
  description: "The public id of a provider session token (not the secret)"
})
export type ProviderTokenId = typeof ProviderTokenId.Type

const providerTokenInfoFields = {
  id: ProviderTokenId,
  threadId: ThreadId.annotate({ description: "The thread whose provider session holds the token" }),
  projectId: ProjectId.annotate({
    description: "The project of that thread; children are created only here"
  }),
  providerSessionId: Schema.String.annotate({ description: "The provider session the token was issued to" }),
  capabilities: Schema.Array(ProviderCapability),
  issuedAt: IsoTimestamp,
  /** Absolute end of life; an unused token also stops working after the idle timeout. */
  expiresAt: IsoTimestamp.annotate({
    description: "When the token stops working however it is used; an idle token stops earlier"
  }),
  /** null: never used. Updated at most once a minute. */
  lastUsedAt: Schema.NullOr(IsoTimestamp),
  /** Set when the provider session stopped or the thread's tokens were revoked. */
  revokedAt: Schema.NullOr(IsoTimestamp)
}

export const ProviderTokenInfo = Schema.Struct(providerTokenInfoFields).annotate({
  identifier: "ProviderTokenInfo",
  description:
    "A provider session token as listed: its id, thread, project, session and capabilities, never the token itself"
})
export type ProviderTokenInfo = typeof ProviderTokenInfo.Type

export const IssuedProviderToken = Schema.Struct({
  ...providerTokenInfoFields,
  token: Schema.String.annotate({
    description: "The secret (spn_…), handed to the provider session once and never stored"
  })
}).annotate({
  identifier: "IssuedProviderToken",
  description: "A newly issued provider session token, with the secret shown only in this answer"
})
export type IssuedProviderToken = typeof IssuedProviderToken.Type
