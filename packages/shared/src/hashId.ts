// Deterministic identifiers: the same parts always give the same id (a retried request, a notice
// recorded again after a restart), short enough for any id field.
import { createHash } from "node:crypto"

/** `prefix` and 20 hex characters of the parts' SHA-256. */
export const hashId = (prefix: string, ...parts: ReadonlyArray<string>) =>
  `${prefix}${createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 20)}`
