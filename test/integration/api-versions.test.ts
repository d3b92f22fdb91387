// Answers that depend on the API version a client speaks, as dockerd's changed between releases:
// a client pinned to an older version (docker-py 5 defaults to 1.41, dockerd 20.10's) gets what
// that dockerd answered.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { daemonWithBusybox, skip, type TestDaemon } from '../helpers/daemon.ts';

describe('API versions', { skip }, () => {
  let d: TestDaemon;
  daemonWithBusybox((_r, dd) => (d = dd));

  test('an exec whose command is missing reads 127 from API 1.42 on, 126 before (dockerd 20.10); a missing user or working directory 126', async () => {
    assert.equal((await d.docker(['run', '-d', '--name', 'ex', '--network', 'none', 'busybox', 'sleep', '60'])).code, 0);
    const exitOf = async (version: string, cmd: string[]) => {
      const made = await d.request('POST', `/${version}/containers/ex/exec`, JSON.stringify({ Cmd: cmd, AttachStdout: true, AttachStderr: true }));
      assert.equal(made.status, 201, made.body);
      const id = JSON.parse(made.body).Id;
      const started = await d.request('POST', `/${version}/exec/${id}/start`, JSON.stringify({ Detach: false, Tty: false }));
      assert.equal(started.status, 200);
      assert.match(started.body, /OCI runtime exec failed/);
      return JSON.parse((await d.request('GET', `/${version}/exec/${id}/json`)).body).ExitCode;
    };
    assert.equal(await exitOf('v1.47', ['docker', 'ps']), 127);
    assert.equal(await exitOf('v1.41', ['docker', 'ps']), 126);
    assert.equal(await exitOf('v1.47', ['/etc/passwd']), 126);
    assert.equal(await exitOf('v1.41', ['/etc/passwd']), 126);
    // A user or working directory that is not there is the exec's outcome too (126, dockerd's words).
    const outcome = async (body: object) => {
      const made = await d.request('POST', '/containers/ex/exec', JSON.stringify({ Cmd: ['pwd'], AttachStdout: true, AttachStderr: true, ...body }));
      const id = JSON.parse(made.body).Id;
      const started = await d.request('POST', `/exec/${id}/start`, JSON.stringify({ Detach: false, Tty: false }));
      return { status: started.status, body: started.body.replace(/[\x00-\x08]/g, ''), exit: JSON.parse((await d.request('GET', `/exec/${id}/json`)).body).ExitCode };
    };
    const user = await outcome({ User: 'postgres' });
    assert.deepEqual([user.status, user.exit], [200, 126]);
    assert.match(user.body, /unable to find user postgres: no matching entries in passwd file\r\n$/);
    const cwd = await outcome({ WorkingDir: '/var/opt' });
    assert.deepEqual([cwd.status, cwd.exit], [200, 126]);
    assert.match(cwd.body, /OCI runtime exec failed: exec failed: unable to start container process: chdir to cwd \("\/var\/opt"\) set in config.json failed: no such file or directory: unknown\r\n$/);
    assert.equal((await d.docker(['rm', '-f', 'ex'])).code, 0);
  });
});
