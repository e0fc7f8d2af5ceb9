// Test fixture: a small filesystem of its own (tmpfs, mounted as root) to fill: what a full disk
// does to git, setup scripts and the store. Where this machine cannot mount (no root, no
// CAP_SYS_ADMIN), MOUNT_REFUSED says why and tests that need it are skipped, saying so.
import { execFileSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Effect from "effect/Effect"

const mount = (dir: string, size: string) =>
  execFileSync("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir], { stdio: "pipe" })
const unmount = (dir: string) => {
  try {
    execFileSync("umount", ["-l", dir], { stdio: "pipe" })
  } catch {
    // not mounted
  }
}

/** Why a tmpfs cannot be mounted here; undefined when it can. */
export const MOUNT_REFUSED: string | undefined = (() => {
  const probe = mkdtempSync(join(tmpdir(), "spindle-mount-probe-"))
  try {
    mount(probe, "64k")
    unmount(probe)
    return undefined
  } catch (error) {
    return `cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}): the full-disk tests need root with CAP_SYS_ADMIN`
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
})()

if (MOUNT_REFUSED !== undefined) console.warn(`skipped: ${MOUNT_REFUSED}`)

/** An empty tmpfs of `size` (e.g. "2m"), unmounted and removed with the scope. */
export const smallDisk = (size: string) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const dir = mkdtempSync(join(tmpdir(), "spindle-small-disk-"))
      mount(dir, size)
      return dir
    }),
    (dir) =>
      Effect.sync(() => {
        unmount(dir)
        rmSync(dir, { recursive: true, force: true })
      })
  )
