/**
 * Loaded into the process of each test file (scripts/test.sh). Once every test of the file
 * has ended, the process has LINGER_MS to exit by itself. If something the tests started
 * still holds it open (a server, a socket, a timer, a child process), it says what, and
 * exits with the tests' own status: a leak shows in the report instead of holding up the
 * suite.
 */
import { after } from 'node:test';

const LINGER_MS = 20_000;

if (process.env.NODE_TEST_CONTEXT?.startsWith('child')) {
  after(() => {
    setTimeout(() => {
      const held = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap');
      process.stderr.write(
        `warning: this test file's process was still running ${LINGER_MS / 1000} s after its last test, held open by ${held.join(', ') || 'nothing known'}; it exits now\n`,
      );
      process.exit();
    }, LINGER_MS).unref();
  });
}
