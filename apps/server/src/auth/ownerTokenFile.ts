// The `<home>/owner-token` file: reading it (narrowing a too-open mode to 0600) and writing it so
// no other user can ever read it. Whether its token is still valid is ClientTokens' question.
import { randomBytes } from "node:crypto"
import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync
} from "node:fs"
import { dirname } from "node:path"
import { SpindleError } from "@spindle/contracts"
import * as Effect from "effect/Effect"

/** Larger than any token we write: such a file is not ours to parse. */
const MAX_FILE_BYTES = 1024

const fileError = (path: string, action: string) => (cause: unknown) =>
  new SpindleError({
    reason: "internal",
    message:
      `Cannot ${action} the owner token file ${path}: ${cause instanceof Error ? cause.message : String(cause)}. ` +
      `Check that ${dirname(path)} exists, belongs to this user and is writable.`,
    path
  })

/** Writes `content` so that no other user can read it at any moment: a 0600 temp file, then rename. */
const writePrivateFile = (path: string, content: string) => {
  const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`
  try {
    const fd = openSync(temp, "wx", 0o600)
    try {
      fchmodSync(fd, 0o600) // the umask may have narrowed it; make it exactly 0600
      writeFileSync(fd, content)
      fsyncSync(fd)
    } finally {
      closeSync(fd)
    }
    renameSync(temp, path)
  } catch (error) {
    rmSync(temp, { force: true })
    throw error
  }
}

/** The file's trimmed content after narrowing its mode to 0600; undefined when absent or unusable. */
export const readOwnerTokenFile = Effect.fn("ownerTokenFile.read")(function* (path: string) {
  const stat = yield* Effect.try({
    try: () => lstatSync(path, { throwIfNoEntry: false }),
    catch: fileError(path, "inspect")
  })
  if (stat === undefined) return undefined
  if (!stat.isFile()) {
    // A symlink or directory is replaced (rename swaps the link itself, never its target).
    yield* Effect.logWarning("The owner token path is not a regular file; replacing it").pipe(
      Effect.annotateLogs({ path })
    )
    return undefined
  }
  if ((stat.mode & 0o077) !== 0) {
    yield* Effect.try({ try: () => chmodSync(path, 0o600), catch: fileError(path, "restrict the mode of") })
    yield* Effect.logWarning("The owner token file was readable by others; its mode is now 0600").pipe(
      Effect.annotateLogs({ path, previousMode: (stat.mode & 0o777).toString(8) })
    )
  }
  if (stat.size > MAX_FILE_BYTES) return undefined
  return yield* Effect.try({
    try: () => readFileSync(path, "utf8").trim(),
    catch: fileError(path, "read")
  })
})

export const writeOwnerTokenFile = (path: string, token: string) =>
  Effect.try({ try: () => writePrivateFile(path, `${token}\n`), catch: fileError(path, "write") })
