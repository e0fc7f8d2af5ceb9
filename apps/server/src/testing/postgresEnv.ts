// vitest's setupFile for the `server-postgres` project: hands the cluster's URL to this worker's
// environment, where testStore.ts (and any process a test starts) finds it.
import { inject } from "vitest"

process.env.SPINDLE_TEST_POSTGRES = inject("postgresAdminUrl")
