'use strict'
// The CLI's --http (native by default, node:http on request), --loop (auto: uvloop when it
// imports), and the native server's header flags.
const test = require('node:test')
const assert = require('node:assert/strict')
const { WebSocket } = require('ws')
const { startCli, runNodeProcess } = require('./helpers')

const children = new Set()
test.after(() => { for (const c of children) c.kill('SIGKILL') })

async function get (url) {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) })
  return { status: res.status, headers: res.headers, body: await res.text() }
}

test('by default the CLI serves through the native server on uvloop (--loop auto)', async (t) => {
  const cli = await startCli(['cli_apps:loop_name', '--app-dir', 'fixtures', '--port', '0'], { track: children })
  t.after(() => cli.stop())
  const res = await get(cli.url)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('server'), 'node-asgi', 'the native server names itself')
  assert.match(res.headers.get('date'), /GMT$/)
  assert.equal(res.body, 'uvloop.Loop')
})

test('--http node serves through node:http; --loop asyncio picks the stdlib loop', async (t) => {
  const cli = await startCli(['cli_apps:loop_name', '--app-dir', 'fixtures', '--port', '0', '--http', 'node', '--loop', 'asyncio'], { track: children })
  t.after(() => cli.stop())
  const res = await get(cli.url)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('server'), 'node-asgi', 'the CLI sends its server header on node:http too')
  assert.match(res.headers.get('keep-alive') ?? '', /timeout=/, "node:http's keep-alive header")
  assert.equal(res.body, 'asyncio.unix_events._UnixSelectorEventLoop')
})

test('--no-server-header and --no-date-header (native server)', async (t) => {
  const cli = await startCli(['raw_apps:hello', '--app-dir', 'fixtures', '--port', '0', '--no-server-header', '--no-date-header'], { track: children })
  t.after(() => cli.stop())
  const res = await get(cli.url)
  assert.equal(res.status, 200)
  assert.equal(res.headers.get('server'), null)
  assert.equal(res.headers.get('date'), null)
})

for (const http of ['native', 'node']) {
  test(`--http ${http}: WebSockets are served, and SIGTERM closes them with 1012`, async (t) => {
    const cli = await startCli(['ws_echo:app', '--app-dir', 'fixtures', '--port', '0', '--http', http], { track: children })
    t.after(() => cli.stop())
    const ws = new WebSocket(`ws://127.0.0.1:${cli.port}/`)
    await new Promise((resolve, reject) => { ws.once('open', resolve); ws.once('error', reject) })
    const echoed = new Promise((resolve) => ws.once('message', (data, binary) => resolve([data.toString(), binary])))
    ws.send('hi')
    assert.deepEqual(await echoed, ['hi', false])
    const closed = new Promise((resolve) => ws.once('close', (code) => resolve(code)))
    cli.child.kill('SIGTERM')
    assert.equal(await closed, 1012)
    const { code } = await cli.exitWithin(10000)
    assert.equal(code, 0)
  })
}

test('--http with an unknown value exits 2 naming the flag', async () => {
  const r = await runNodeProcess(['bin/node-asgi.js', 'raw_apps:hello', '--app-dir', 'fixtures', '--http', 'h3'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /Invalid value for '--http': 'h3' is not one of 'native', 'node'/)
})
