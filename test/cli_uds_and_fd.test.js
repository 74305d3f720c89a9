'use strict'
// The CLI's --uds PATH (a Unix domain socket) and --fd N (an inherited listening socket, systemd
// style) on both --http paths: serving, scope client/server, stale sockets, and bad input.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const net = require('node:net')
const path = require('node:path')
const { once } = require('node:events')
const { spawnSync } = require('node:child_process')
const { startCli, runCli, request, wsHello, waitForText, usageError } = require('./cli_child')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const APP = ['cluster_apps:app', '--app-dir', 'fixtures']

function tempDir (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-uds-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** A socket file nobody listens on, as a crashed server leaves behind (bound by a process that exited). */
function staleSocket (file) {
  const r = spawnSync('/usr/bin/python3', ['-c', 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])', file])
  assert.equal(r.status, 0, String(r.stderr))
  assert.ok(fs.statSync(file).isSocket())
}

/**
 * A listening socket made here, for the CLI to inherit as descriptor 3 (`stdio: [fd]` hands the
 * child a duplicate); release() closes this process's copy, so only the child accepts.
 */
async function inheritedListener (where) {
  const server = net.createServer().listen(where)
  await once(server, 'listening')
  const address = server.address()
  const fd = server._handle.fd
  assert.ok(Number.isInteger(fd) && fd > 2, `the listening socket's descriptor: ${fd}`)
  const release = async () => {
    if (typeof address !== 'string') return new Promise((resolve) => server.close(resolve))
    // closing a Unix socket server unlinks its path: keep the socket file under a second name
    fs.linkSync(address, `${address}.keep`)
    await new Promise((resolve) => server.close(resolve))
    fs.renameSync(`${address}.keep`, address)
  }
  return { fd, address, release }
}

for (const httpPath of ['native', 'node']) {
  test(`--http ${httpPath} --uds: HTTP and WebSocket over the socket; scope client and server are null`, async (t) => {
    const socketPath = path.join(tempDir(t), 'app.sock')
    const cli = await startCli([...APP, '--http', httpPath, '--uds', socketPath], { track: children })
    t.after(() => cli.stop())
    assert.equal(cli.socketPath, socketPath, 'the running-on line names the socket')
    const res = await request({ socketPath, path: '/' })
    assert.equal(res.status, 200)
    const scope = res.json()
    assert.equal(scope.client, null)
    assert.equal(scope.server, null)
    assert.equal(scope.scheme, 'http')
    assert.equal(scope.pid, cli.child.pid)
    assert.equal((await wsHello(`ws+unix://${socketPath}:/ws`)).scheme, 'ws')
    // X-Forwarded-* from a Unix socket peer (no address, so not a trusted one) change nothing
    assert.equal((await request({ socketPath, path: '/', headers: { 'x-forwarded-for': '1.2.3.4' } })).json().client, null)
  })

  test(`--http ${httpPath} --uds: the access log has an empty client, like uvicorn's`, async (t) => {
    const socketPath = path.join(tempDir(t), 'app.sock')
    const cli = await startCli([...APP, '--http', httpPath, '--uds', socketPath], { track: children })
    t.after(() => cli.stop())
    assert.equal((await request({ socketPath, path: '/logged' })).status, 200)
    await waitForText(cli.stdout, /"GET \/logged HTTP\/1\.1" 200 OK$/m)
    assert.match(cli.stdout(), /^INFO: {6}- "GET \/logged HTTP\/1\.1" 200 OK$/m)
  })

  test(`--http ${httpPath} --uds: the socket file is removed on shutdown`, async (t) => {
    const socketPath = path.join(tempDir(t), 'app.sock')
    const cli = await startCli([...APP, '--http', httpPath, '--uds', socketPath], { track: children })
    t.after(() => cli.stop())
    assert.ok(fs.statSync(socketPath).isSocket())
    assert.deepEqual(await cli.stop(), { code: 0, signal: null })
    assert.equal(fs.existsSync(socketPath), false, 'no socket file is left behind')
  })

  test(`--http ${httpPath} --uds: a new socket is connectable by every user (mode 0666, like uvicorn)`, async (t) => {
    const socketPath = path.join(tempDir(t), 'app.sock')
    const cli = await startCli([...APP, '--http', httpPath, '--uds', socketPath], { track: children })
    t.after(() => cli.stop())
    assert.equal((fs.statSync(socketPath).mode & 0o777).toString(8), '666')
  })

  test(`--http ${httpPath} --uds: a stale socket file at the path is replaced`, async (t) => {
    const socketPath = path.join(tempDir(t), 'stale.sock')
    staleSocket(socketPath)
    await assert.rejects(request({ socketPath, path: '/' }), { code: 'ECONNREFUSED' })
    const cli = await startCli([...APP, '--http', httpPath, '--uds', socketPath], { track: children })
    t.after(() => cli.stop())
    assert.equal((await request({ socketPath, path: '/' })).json().pid, cli.child.pid)
  })

  test(`--http ${httpPath} --uds: a regular file at the path exits 3 and is left alone`, async (t) => {
    const file = path.join(tempDir(t), 'not-a-socket')
    fs.writeFileSync(file, 'precious data\n')
    const r = await runCli([...APP, '--http', httpPath, '--uds', file])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, new RegExp(`^ERROR: {4}.*error while attempting to bind on address ${file}: .*\\(?EADDRINUSE\\)?`, 'm'))
    assert.doesNotMatch(r.stderr, /running on/)
    assert.equal(fs.readFileSync(file, 'utf8'), 'precious data\n')
  })

  test(`--http ${httpPath} --uds: a directory that does not exist exits 3 naming the path`, async (t) => {
    const socketPath = path.join(tempDir(t), 'missing', 'app.sock')
    const r = await runCli([...APP, '--http', httpPath, '--uds', socketPath])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^ERROR: {4}.*error while attempting to bind on address .*missing\/app\.sock: .*\(?E(NOENT|ACCES)\)?$/m)
    assert.doesNotMatch(r.stderr, /running on/)
  })

  test(`--http ${httpPath} --fd 3: serves an inherited listening TCP socket`, async (t) => {
    const listener = await inheritedListener({ port: 0, host: '127.0.0.1' })
    const started = startCli([...APP, '--http', httpPath, '--fd', '3'], { track: children, stdio: [listener.fd] })
    await listener.release() // only the child's duplicate is left listening
    const cli = await started
    t.after(() => cli.stop())
    assert.equal(cli.port, listener.address.port, 'the running-on line gives the inherited address')
    const scope = (await request(`http://127.0.0.1:${listener.address.port}/`)).json()
    assert.equal(scope.pid, cli.child.pid)
    assert.deepEqual(scope.server, ['127.0.0.1', listener.address.port])
    assert.equal(scope.client[0], '127.0.0.1')
    assert.equal((await wsHello(`ws://127.0.0.1:${listener.address.port}/ws`)).scheme, 'ws')
    assert.deepEqual(await cli.stop(), { code: 0, signal: null })
  })

  test(`--http ${httpPath} --fd 3: serves an inherited listening Unix socket`, async (t) => {
    const socketPath = path.join(tempDir(t), 'inherited.sock')
    const listener = await inheritedListener(socketPath)
    const started = startCli([...APP, '--http', httpPath, '--fd', '3'], { track: children, stdio: [listener.fd] })
    await listener.release()
    const cli = await started
    t.after(() => cli.stop())
    const scope = (await request({ socketPath, path: '/' })).json()
    assert.equal(scope.pid, cli.child.pid)
    assert.equal(scope.client, null)
    assert.deepEqual(await cli.stop(), { code: 0, signal: null })
  })
}

test('--workers 2 --fd 3: the primary serves an inherited listening Unix socket through both workers', async (t) => {
  const socketPath = path.join(tempDir(t), 'inherited-cluster.sock')
  const listener = await inheritedListener(socketPath)
  const started = startCli([...APP, '--fd', '3', '--workers', '2', '--no-sticky'], { track: children, stdio: [listener.fd] })
  await listener.release()
  const cli = await started
  t.after(() => cli.stop())
  assert.match(cli.stderr(), /node-asgi running on socket fd 3 with 2 workers/)
  const pids = new Set()
  for (let i = 0; i < 6; i++) pids.add((await request({ socketPath, path: '/' })).json().pid)
  assert.equal(pids.size, 2, 'both workers serve the inherited socket')
  assert.deepEqual(await cli.stop(), { code: 0, signal: null })
})

test('--fd naming a descriptor that is not an open socket exits 3', async () => {
  for (const fd of ['9', '0']) {
    const r = await runCli([...APP, '--fd', fd])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, new RegExp(`^ERROR: {4}.*error while attempting to bind on address fd ${fd}: .*\\(?E[A-Z]+\\)?`, 'm'))
    assert.doesNotMatch(r.stderr, /running on/)
  }
})

test('--uds with --fd, an empty --uds, or a bad --fd exits 2 naming the flag', async () => {
  let r = await runCli([...APP, '--uds', '/tmp/x.sock', '--fd', '3'])
  assert.equal(r.code, 2, r.stderr)
  assert.equal(usageError(r.stderr), "Error: Options '--uds' and '--fd' cannot be used together.")
  r = await runCli([...APP, '--uds', ''])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /'--uds'/)
  r = await runCli([...APP, '--fd', 'three'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /Invalid value for '--fd': "three"/)
})
