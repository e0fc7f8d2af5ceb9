// Client token schemas: scopes, what a listing shows, what creation answers; and the admin view
// over both token kinds (one listing, revoke by id, owner rotation). Never the stored hash.
import * as Schema from "effect/Schema"
import { ProviderTokenInfo } from "./mcp.ts"
import { boundedText, IsoTimestamp } from "./values.ts"

/** What a client token may do. `admin` and `operate` each include `read`; nothing else is implied. */
export const ClientScope = Schema.Literals(["read", "operate", "admin"]).annotate({
  identifier: "ClientScope",
  description:
    "A client token scope: read (snapshots, subscriptions), operate (commands), admin (tokens, settings). " +
    "operate and admin each include read."
})
export type ClientScope = typeof ClientScope.Type

/** `tok_` and 12 lowercase hex digits: names a token without revealing it. */
export const ClientTokenId = Schema.String.check(
  Schema.isPattern(/^tok_[0-9a-f]{12}$/u, { message: "expected a token id such as tok_0123456789ab" })
).annotate({ identifier: "ClientTokenId", description: "The public id of a client token (not the secret)" })
export type ClientTokenId = typeof ClientTokenId.Type

/** The longest lifetime a client token may be given. */
export const MAX_CLIENT_TOKEN_LIFETIME_SECONDS = 10 * 366 * 86_400

const clientTokenInfoFields = {
  id: ClientTokenId,
  name: Schema.String,
  scopes: Schema.Array(ClientScope),
  createdAt: IsoTimestamp,
  /** null: never expires. */
  expiresAt: Schema.NullOr(IsoTimestamp),
  revokedAt: Schema.NullOr(IsoTimestamp),
  /** Updated at most once a minute. */
  lastUsedAt: Schema.NullOr(IsoTimestamp),
  /** The owner token, created on first start and kept in `<home>/owner-token`. */
  owner: Schema.Boolean
}

export const ClientTokenInfo = Schema.Struct(clientTokenInfoFields).annotate({
  identifier: "ClientTokenInfo",
  description: "A client token as listed: its id, name and scopes, never the token itself"
})
export type ClientTokenInfo = typeof ClientTokenInfo.Type

export const CreatedClientToken = Schema.Struct({
  ...clientTokenInfoFields,
  token: Schema.String.annotate({ description: "The secret (spc_…); shown this once, never stored" })
}).annotate({
  identifier: "CreatedClientToken",
  description: "A newly created client token, with the secret shown only in this answer"
})
export type CreatedClientToken = typeof CreatedClientToken.Type

export const ClientTokenCreateInput = Schema.Struct({
  name: boundedText(100).annotate({ description: "What the token is for, 1 to 100 characters" }),
  scopes: Schema.Array(ClientScope).check(
    Schema.isMinLength(1, { message: "must list at least one scope" }),
    Schema.isUnique({ message: "must not repeat a scope" })
  ),
  expiresInSeconds: Schema.optionalKey(
    Schema.Int.check(
      Schema.isBetween(
        { minimum: 1, maximum: MAX_CLIENT_TOKEN_LIFETIME_SECONDS },
        {
          message: `must be a whole number of seconds from 1 to ${MAX_CLIENT_TOKEN_LIFETIME_SECONDS} (10 years)`
        }
      )
    ).annotate({ description: "Lifetime in seconds; omitted: the token never expires" })
  )
}).annotate({ identifier: "ClientTokenCreateInput", description: "Create a client token" })
export type ClientTokenCreateInput = typeof ClientTokenCreateInput.Type

/** A token of either kind as an admin lists it, tagged by `kind`. */
export const ListedToken = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("client"), ...clientTokenInfoFields }).annotate({
    identifier: "ListedClientToken",
    description: "A client token (tok_…) of the app, the CLI or a script"
  }),
  Schema.Struct({ kind: Schema.Literal("provider"), ...ProviderTokenInfo.fields }).annotate({
    identifier: "ListedProviderToken",
    description: "A provider session token (ptk_…) an agent uses over MCP in one thread"
  })
]).annotate({
  identifier: "ListedToken",
  description: "A token of either kind as listed, never the token itself"
})
export type ListedToken = typeof ListedToken.Type

export const TokenRevokeInput = Schema.Struct({
  id: Schema.String.annotate({ description: "A client token id (tok_…) or a provider token id (ptk_…)" }),
  force: Schema.optionalKey(
    Schema.Boolean.annotate({
      description: "Required to revoke the owner token, which locks out whoever uses <home>/owner-token"
    })
  )
}).annotate({ identifier: "TokenRevokeInput" })
export type TokenRevokeInput = typeof TokenRevokeInput.Type

export const OwnerTokenRotation = Schema.Struct({
  /** Where the new owner token was written (mode 0600) before the old one was revoked. */
  path: Schema.String,
  token: ClientTokenInfo,
  /** The owner tokens revoked after the new file was in place. */
  revoked: Schema.Array(ClientTokenId)
}).annotate({
  identifier: "OwnerTokenRotation",
  description: "A new owner token written to <home>/owner-token; the previous ones revoked afterwards"
})
export type OwnerTokenRotation = typeof OwnerTokenRotation.Type
