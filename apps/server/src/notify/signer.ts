// Signs a delivery: `sha256=` and the hex HMAC-SHA256 of the exact body bytes with the project's
// secret, as `X-Spindle-Signature` carries it. Nothing else sees the secret.
import { createHmac } from "node:crypto"

export const SIGNATURE_HEADER = "X-Spindle-Signature"

/** The signature header's value for `body` (UTF-8 bytes) under `secret`. */
export const sign = (secret: string, body: string): string =>
  `sha256=${createHmac("sha256", secret).update(body, "utf8").digest("hex")}`
