'use strict'
// --workers N: one port, N worker processes each with its own interpreter and lifespan; sticky
// routing by client address; dead workers replaced; SIGTERM drains all (exit 0, WebSockets 1012);
// SIGHUP restarts them one at a time with no request lost under load; a worker whose app fails
// to start stops the server with exit 3; --reload restarts on .py changes.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const http = require('node:http')
const { WebSocket } = require('ws')
const { startCli: startHelperCli, waitFor, FIXTURES } = require('./helpers')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })
const startCli = (args, options = {}) => startHelperCli(args, { timeoutMs: 30000, ...options, track: children })

// One request on a fresh connection (so that the primary routes it anew).
function getFresh (url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, timeout: 10000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(body) }))
    })
    req.on('error', reject)
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
}

async function pidsOver (url, n) {
  const pids = new Set()
  for (let i = 0; i < n; i++) pids.add((await getFresh(url)).body.pid)
  return pids
}

for (const httpPath of ['native', 'node']) {
  test(`--workers 2 --no-sticky (--http ${httpPath}): both workers serve one port, each ran its lifespan; SIGTERM drains both and exits 0`, async () => {
    const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2', '--no-sticky', '--http', httpPath])
    const pids = await pidsOver(`${cli.url}/`, 6)
    assert.equal(pids.size, 2, `round-robin reaches both workers: ${[...pids]}`)
    for (const pid of pids) assert.match(cli.stdout(), new RegExp(`lifespan startup in worker ${pid}`))
    assert.doesNotMatch(cli.stdout(), new RegExp(`lifespan startup in worker ${cli.child.pid}\\b`), 'the primary runs no Python')

    const ws = new WebSocket(`ws://127.0.0.1:${cli.port}/ws`)
    await new Promise((resolve, reject) => { ws.once('message', resolve); ws.once('error', reject) })
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)))
    cli.child.kill('SIGTERM')
    assert.equal(await closed, 1012, 'WebSockets are closed with 1012 (service restart)')
    const exit = await cli.exitWithin(20000)
    assert.equal(exit.code, 0, cli.stderr())
    for (const pid of pids) assert.match(cli.stdout(), new RegExp(`lifespan shutdown in worker ${pid}`))
    assert.match(cli.stderr(), /Stopping parent process/)
  })
}

test('sticky by default: every connection from one client address reaches the same worker', async () => {
  const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2'])
  assert.match(cli.stderr(), /with 2 workers \(sticky by client address\)/)
  const pids = await pidsOver(`${cli.url}/`, 8)
  assert.equal(pids.size, 1, `one worker for 127.0.0.1: ${[...pids]}`)
  await cli.stop()
})

test('a worker that dies is replaced, with a log line naming how it exited', async () => {
  const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2', '--no-sticky'])
  const before = await pidsOver(`${cli.url}/`, 4)
  const victim = [...before][0]
  process.kill(victim, 'SIGKILL')
  await waitFor(() => new RegExp(`Worker \\[${victim}\\] died \\(signal SIGKILL\\); starting a new one in`).test(cli.stderr()), { timeoutMs: 10000, message: 'the death is logged' })
  await waitFor(() => (cli.stdout().match(/lifespan startup in worker/g) ?? []).length === 3, { timeoutMs: 20000, message: 'a replacement started' })
  const after = await pidsOver(`${cli.url}/`, 6)
  assert.equal(after.size, 2)
  assert.ok(!after.has(victim), 'the dead worker serves nothing')
  const exit = await cli.stop()
  assert.equal(exit.code, 0)
})

test('a worker whose app fails to start stops the whole server with exit code 3', async () => {
  const child = startCli(['cluster_apps:failing_startup', '--app-dir', FIXTURES, '--port', '0', '--workers', '2'])
  await assert.rejects(child, /exited \(3\) before listening[\s\S]*the database is unreachable[\s\S]*Application startup failed/)
})

test('bad --workers values exit 2 naming the flag', async () => {
  for (const value of ['0', 'two', '1.5']) {
    await assert.rejects(startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--workers', value]), (err) => {
      assert.match(err.message, /exited \(2\)/)
      assert.match(err.message, /Invalid value for '--workers'/)
      return true
    })
  }
})

// Keep-alive clients send requests back to back until stopped; every response must be a 200.
function load (url, clients) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: clients })
  const stats = { ok: 0, failed: 0, errors: [], pids: new Set() }
  let running = true
  const one = () => new Promise((resolve) => {
    const req = http.get(url, { agent, timeout: 10000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (d) => { body += d })
      res.on('end', () => {
        if (res.statusCode === 200) {
          stats.ok++
          stats.pids.add(JSON.parse(body).pid)
        } else {
          stats.failed++
          stats.errors.push(`status ${res.statusCode}`)
        }
        resolve()
      })
    })
    req.on('error', (err) => { stats.failed++; stats.errors.push(err.code ?? err.message); resolve() })
    req.on('timeout', () => req.destroy(new Error('timeout')))
  })
  const loops = Array.from({ length: clients }, async () => { while (running) await one() })
  return { stats, stop: async () => { running = false; await Promise.all(loops); agent.destroy() } }
}

for (const httpPath of ['native', 'node']) {
  test(`SIGHUP restarts the workers one at a time with no request lost under load (--http ${httpPath})`, async () => {
    const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2', '--no-sticky', '--http', httpPath, '--no-access-log'])
    const before = await pidsOver(`${cli.url}/`, 4)
    const running = load(`${cli.url}/`, 8)
    await waitFor(() => running.stats.ok > 200, { timeoutMs: 20000, message: 'load is flowing' })
    cli.child.kill('SIGHUP')
    await waitFor(() => /Workers restarted/.test(cli.stderr()), { timeoutMs: 40000, message: 'the rolling restart finished' })
    const atRestart = running.stats.ok
    await waitFor(() => running.stats.ok > atRestart + 200, { timeoutMs: 20000, message: 'load flows after the restart' })
    await running.stop()
    assert.equal(running.stats.failed, 0, `failed requests: ${running.stats.errors.slice(0, 10).join(', ')}`)
    const after = await pidsOver(`${cli.url}/`, 4)
    assert.equal(after.size, 2)
    for (const pid of before) assert.ok(!after.has(pid), 'every worker was replaced')
    for (const pid of before) assert.match(cli.stdout(), new RegExp(`lifespan shutdown in worker ${pid}`), 'old workers ran lifespan shutdown')
    const exit = await cli.stop()
    assert.equal(exit.code, 0)
  })
}

test('--reload restarts the worker when a .py file under the app dir changes', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-reload-'))
  try {
    const source = (version) => `
import os
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = f'{{"pid": {os.getpid()}, "version": ${version}}}'.encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})
`
    fs.writeFileSync(path.join(dir, 'reload_app.py'), source(1))
    const cli = await startCli(['reload_app:app', '--app-dir', dir, '--port', '0', '--reload', '--lifespan', 'off'])
    assert.match(cli.stderr(), /Will watch for changes in these directories/)
    assert.equal((await getFresh(`${cli.url}/`)).body.version, 1)
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'not python') // ignored
    fs.writeFileSync(path.join(dir, 'reload_app.py'), source(2))
    await waitFor(async () => (await getFresh(`${cli.url}/`)).body.version === 2, { timeoutMs: 20000, message: 'the new code serves' })
    assert.match(cli.stderr(), /reload_app\.py changed, reloading/)
    assert.doesNotMatch(cli.stderr(), /notes\.txt/)
    const exit = await cli.stop()
    assert.equal(exit.code, 0)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test("workers' print() and logging lines reach the primary's stdout/stderr whole, never mixed mid-line", async () => {
  const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2', '--no-sticky', '--no-access-log'])
  // both workers print 50 lines of ~3 KB at the same time, twice
  const pids = new Set()
  await Promise.all(Array.from({ length: 4 }, async () => pids.add((await getFresh(`${cli.url}/print`)).body.pid)))
  assert.equal(pids.size, 2)
  await waitFor(() => (cli.stdout().match(/^line \d+ from /gm) ?? []).length === 200, { timeoutMs: 10000, message: 'every printed line' })
  for (const line of cli.stdout().split('\n')) {
    if (!line.startsWith('line ')) {
      assert.match(line, /^(lifespan (startup|shutdown) in worker \d+)?$/, `an unexpected stdout line: ${line.slice(0, 80)}`)
      continue
    }
    assert.match(line, /^line \d+ from \d+ x{3000}$/, `a line arrived whole: ${line.slice(0, 60)}...${line.length}`)
  }
  assert.equal((cli.stderr().match(/app logger says hello from \d+/g) ?? []).length, 4, 'the app logger lines (stderr)')
  await cli.stop()
})

test('--workers with a port already in use exits 3 with the bind error, starting no worker', async () => {
  const net = require('node:net')
  const blocker = net.createServer()
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  try {
    await assert.rejects(startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', String(blocker.address().port), '--workers', '2']), (err) => {
      assert.match(err.message, /exited \(3\)/)
      assert.match(err.message, /\[Errno 98\] error while attempting to bind on address \(127\.0\.0\.1, \d+\): address already in use \(EADDRINUSE\)/)
      assert.doesNotMatch(err.message, /Started server process/, 'no worker was started')
      return true
    })
  } finally {
    blocker.close()
  }
})

test('--workers with TLS: every worker serves https (node:https) behind the one port', async () => {
  const { execFileSync } = require('node:child_process')
  const https = require('node:https')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-cluster-tls-'))
  try {
    const key = path.join(dir, 'key.pem')
    const cert = path.join(dir, 'cert.pem')
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' })
    const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--port', '0', '--workers', '2', '--no-sticky', '--ssl-keyfile', key, '--ssl-certfile', cert],
      { runningPattern: /node-asgi running on https:\/\/127\.0\.0\.1:(\d+)/ })
    const ca = fs.readFileSync(cert)
    const pids = new Set()
    for (let i = 0; i < 6; i++) {
      const body = await new Promise((resolve, reject) => {
        https.get(`https://127.0.0.1:${cli.port}/`, { ca, servername: 'localhost', agent: false, checkServerIdentity: () => undefined }, (res) => {
          let text = ''
          res.on('data', (d) => { text += d })
          res.on('end', () => resolve(JSON.parse(text)))
        }).on('error', reject)
      })
      assert.equal(body.scheme, 'https')
      pids.add(body.pid)
    }
    assert.equal(pids.size, 2, 'both workers terminate TLS')
    const exit = await cli.stop()
    assert.equal(exit.code, 0)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('--workers with --uds: the primary listens on the Unix socket (mode 0666) and both workers serve it', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-cluster-uds-'))
  try {
    const socketPath = path.join(dir, 'app.sock')
    const cli = await startCli(['cluster_apps:app', '--app-dir', FIXTURES, '--uds', socketPath, '--workers', '2', '--no-sticky'],
      { runningPattern: /node-asgi running on unix socket \S+ with 2 workers/ })
    assert.equal(fs.statSync(socketPath).mode & 0o777, 0o666)
    const pids = new Set()
    for (let i = 0; i < 6; i++) {
      const body = await new Promise((resolve, reject) => {
        http.get({ socketPath, path: '/', agent: false }, (res) => {
          let text = ''
          res.on('data', (d) => { text += d })
          res.on('end', () => resolve(JSON.parse(text)))
        }).on('error', reject)
      })
      assert.equal(body.client, null, 'no client address on a Unix socket (uvicorn)')
      pids.add(body.pid)
    }
    assert.equal(pids.size, 2)
    const exit = await cli.stop()
    assert.equal(exit.code, 0)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
