/**
 * After the last test mocha waits for the event loop to drain; a client or timer left open (an
 * etcd watch retrying for ever did) would hold the run until CI's own limit, with nothing said.
 * Armed by the root hook: if the process is still alive `graceMs` later, it names what is open
 * and exits 1. Unreferenced, so it never keeps the process alive itself.
 */
export function armExitWatchdog(graceMs: number): void {
  const timer = setTimeout(() => {
    process.stderr.write(
      `test run: still running ${graceMs} ms after the last test, held by: ${process.getActiveResourcesInfo().join(', ')}\n`,
    );
    process.exit(1);
  }, graceMs);
  timer.unref();
}
