'use strict'
// `node-asgi APP --app-dir fixtures --port 0` serves the app over HTTP, with uvicorn-style logs:
// the "running on" line, the access log (on stdout), --no-access-log, --root-path and --factory.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { spawn } = require('node:child_process')
const net = require('node:net')
const { once } = require('node:events')
const { childEnv, startCli: startHelperCli } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const BIN = path.join(ROOT, 'bin', 'node-asgi.js')
const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

function startCli (args, options = {}) {
  return startHelperCli(args, { ...options, track: children })
}

async function waitForOutput (read, pattern, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs
  while (!pattern.test(read())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in:\n${read()}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

test('serves the app on the printed port (uvicorn\'s startup lines on stderr)', async (t) => {
  const cli = await startCli(['raw_apps:hello', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  const res = await fetch(cli.url, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  assert.equal(await res.text(), 'Hello, world!')
  const err = cli.stderr()
  assert.match(err, new RegExp(`^INFO: {5}Started server process \\[${cli.child.pid}\\]$`, 'm'))
  assert.match(err, /^INFO: {5}node-asgi running on http:\/\/127\.0\.0\.1:\d+ \(Press CTRL\+C to quit\)$/m)
})

test('--app-dir takes an absolute path and the APP can be given after the options', async (t) => {
  const cli = await startCli(['--port', '0', '--app-dir', path.join(ROOT, 'fixtures'), 'fastapi_app:app'])
  t.after(() => cli.stop())
  const res = await fetch(`${cli.url}/items/3?q=cli`, { signal: AbortSignal.timeout(5000) })
  assert.deepEqual(await res.json(), { item_id: 3, q: 'cli' })
})

test('without --app-dir the app is looked up in the current directory', async (t) => {
  const cli = await startCli(['raw_apps:hello', '--port', '0'], { cwd: path.join(ROOT, 'fixtures') })
  t.after(() => cli.stop())
  assert.equal(await (await fetch(cli.url, { signal: AbortSignal.timeout(5000) })).text(), 'Hello, world!')
})

test('the access log has one line per request on stdout: client - "METHOD target HTTP/x.y" status phrase', async (t) => {
  const cli = await startCli(['raw_apps:headers_app', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  await (await fetch(`${cli.url}/some/path?status=201&x=%20y`, { signal: AbortSignal.timeout(5000) })).arrayBuffer()
  await (await fetch(`${cli.url}/other`, { method: 'POST', body: 'x', signal: AbortSignal.timeout(5000) })).arrayBuffer()
  const line = /^INFO: {5}127\.0\.0\.1:(\d+) - "GET \/some\/path\?status=201&x=%20y HTTP\/1\.1" 201 Created$/m
  await waitForOutput(cli.stdout, line)
  await waitForOutput(cli.stdout, /^INFO: {5}127\.0\.0\.1:\d+ - "POST \/other HTTP\/1\.1" 200 OK$/m)
  const port = Number(line.exec(cli.stdout())[1])
  assert.ok(port > 0 && port < 65536, 'the client port is logged')
  assert.equal(cli.stdout().match(/HTTP\/1\.1" \d{3}/g).length, 2, 'one access line per request')
  assert.doesNotMatch(cli.stderr(), /HTTP\/1\.1" \d{3}/, 'none on stderr')
})

test('the access log records error statuses too', async (t) => {
  const cli = await startCli(['raw_apps:raise_before_start', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  const res = await fetch(`${cli.url}/boom`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 500)
  await res.arrayBuffer()
  await waitForOutput(cli.stdout, /"GET \/boom HTTP\/1\.1" 500 Internal Server Error$/m)
  // and the app's exception is logged with its traceback, like uvicorn's
  assert.match(cli.stderr(), /^ERROR: {4}/m)
  assert.match(cli.stderr(), /Traceback \(most recent call last\):/)
  assert.match(cli.stderr(), /ValueError: boom before start/)
})

test('a response that started and then failed is still in the access log (uvicorn logs at http.response.start)', async (t) => {
  const cli = await startCli(['raw_apps:raise_after_start', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  const res = await fetch(`${cli.url}/partial`, { signal: AbortSignal.timeout(5000) })
  assert.equal(res.status, 200)
  await res.arrayBuffer().catch(() => {}) // the connection is closed mid-body
  await waitForOutput(cli.stderr, /RuntimeError: boom after start/)
  await waitForOutput(cli.stdout, /"GET \/partial HTTP\/1\.1" 200 OK$/m, 2000)
})

test('a streamed response the client abandons is still in the access log', async (t) => {
  const cli = await startCli(['raw_apps:streaming', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  const controller = new AbortController()
  const res = await fetch(`${cli.url}/slow?chunks=50&delay=0.1`, { signal: controller.signal })
  assert.equal(res.status, 200)
  const reader = res.body.getReader()
  await reader.read()
  controller.abort()
  await waitForOutput(cli.stdout, /"GET \/slow\?chunks=50&delay=0\.1 HTTP\/1\.1" 200 OK$/m, 3000)
})

test('--no-access-log serves without access lines', async (t) => {
  const cli = await startCli(['raw_apps:hello', '--app-dir', 'fixtures', '--port', '0', '--no-access-log'])
  t.after(() => cli.stop())
  for (let i = 0; i < 3; i++) assert.equal((await fetch(cli.url, { signal: AbortSignal.timeout(5000) })).status, 200)
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.doesNotMatch(cli.stdout() + cli.stderr(), /"GET \/ HTTP\/1\.1"/)
  assert.match(cli.stderr(), /node-asgi running on/)
})

test('--log-level warning hides the info lines and the access log', async (t) => {
  // nothing is printed at warning level, so pick a free port first and poll it
  const probe = net.createServer().listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const port = probe.address().port
  await new Promise((resolve) => probe.close(resolve))
  const child = spawn(process.execPath, [BIN, 'raw_apps:hello', '--app-dir', 'fixtures', '--port', String(port), '--log-level', 'warning'], { cwd: ROOT, env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stderr = ''
  let stdout = ''
  child.stderr.on('data', (d) => { stderr += d })
  child.stdout.on('data', (d) => { stdout += d })
  const exited = once(child, 'close')
  t.after(async () => {
    child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 10000)
    await exited
    clearTimeout(timer)
    children.delete(child)
  })
  let res = null
  for (let i = 0; i < 100 && res === null; i++) {
    res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2000) }).catch(() => null)
    if (res === null) await new Promise((resolve) => setTimeout(resolve, 100))
  }
  assert.ok(res, `the CLI answered on port ${port}:\n${stderr}`)
  assert.equal(await res.text(), 'Hello, world!')
  await new Promise((resolve) => setTimeout(resolve, 200))
  assert.doesNotMatch(stderr, /INFO:/)
  assert.doesNotMatch(stdout, /INFO:/, 'no access log on stdout either')
})

test('--root-path sets scope root_path, inside scope path (the spec default)', async (t) => {
  const cli = await startCli(['raw_apps:scope_json', '--app-dir', 'fixtures', '--port', '0', '--root-path', '/api/v1'])
  t.after(() => cli.stop())
  const scope = await (await fetch(`${cli.url}/things?a=1`, { signal: AbortSignal.timeout(5000) })).json()
  assert.equal(scope.root_path, '/api/v1')
  assert.equal(scope.path, '/api/v1/things')
  assert.equal(scope.query_string, 'a=1')
})

test('--root-path with a trailing slash is normalised', async (t) => {
  const cli = await startCli(['raw_apps:scope_json', '--app-dir', 'fixtures', '--port', '0', '--root-path', '/api/'])
  t.after(() => cli.stop())
  const scope = await (await fetch(`${cli.url}/x`, { signal: AbortSignal.timeout(5000) })).json()
  assert.equal(scope.root_path, '/api')
  assert.equal(scope.path, '/api/x')
})

test('--root-path with --no-path-includes-root-path serves FastAPI 0.92 and url_for includes the root path', async (t) => {
  const cli = await startCli(['fastapi_app:app', '--app-dir', 'fixtures', '--port', '0', '--root-path', '/api', '--no-path-includes-root-path'])
  t.after(() => cli.stop())
  assert.deepEqual(await (await fetch(`${cli.url}/items/1`, { signal: AbortSignal.timeout(5000) })).json(), { item_id: 1, q: null })
  const urlFor = await (await fetch(`${cli.url}/url-for`, { signal: AbortSignal.timeout(5000) })).json()
  assert.deepEqual(urlFor, { url: `${cli.url}/api/items/5`, root_path: '/api' })
})

test('--factory calls APP to get the app', async (t) => {
  const cli = await startCli(['raw_apps:create_app', '--app-dir', 'fixtures', '--port', '0', '--factory'])
  t.after(() => cli.stop())
  assert.equal(await (await fetch(cli.url, { signal: AbortSignal.timeout(5000) })).text(), 'Hello, world!')
})

test('--loop uvloop serves FastAPI', async (t) => {
  const cli = await startCli(['fastapi_app:app', '--app-dir', 'fixtures', '--port', '0', '--loop', 'uvloop'])
  t.after(() => cli.stop())
  assert.deepEqual(await (await fetch(`${cli.url}/items/2?q=uv`, { signal: AbortSignal.timeout(5000) })).json(), { item_id: 2, q: 'uv' })
  assert.equal(await (await fetch(`${cli.url}/stream`, { signal: AbortSignal.timeout(5000) })).text(), 'line 0\nline 1\nline 2\nline 3\nline 4\n')
  assert.equal((await cli.stop()).code, 0)
})

test('--lifespan off: a failing startup does not stop the server', async (t) => {
  const cli = await startCli(['raw_apps:lifespan_failed', '--app-dir', 'fixtures', '--port', '0', '--lifespan', 'off'])
  t.after(() => cli.stop())
  assert.equal(await (await fetch(cli.url, { signal: AbortSignal.timeout(5000) })).text(), 'served despite failed startup')
  assert.doesNotMatch(cli.stderr(), /Waiting for application startup/)
})

test('Starlette with its lifespan, served by the CLI', async (t) => {
  const cli = await startCli(['starlette_app:app', '--app-dir', 'fixtures', '--port', '0'])
  t.after(() => cli.stop())
  assert.deepEqual(await (await fetch(`${cli.url}/lifespan`, { signal: AbortSignal.timeout(5000) })).json(), { startup_ran: true, state_started: true })
  assert.match(cli.stderr(), /Application startup complete\./)
})
