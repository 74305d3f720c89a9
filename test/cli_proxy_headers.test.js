'use strict'
// The CLI's --proxy-headers (on by default) and --forwarded-allow-ips: X-Forwarded-For/-Proto/-Port
// from a trusted peer set scope client, scheme and server port (uvicorn's rules), on both --http paths.
const test = require('node:test')
const assert = require('node:assert/strict')
const { startCli, runCli, request, wsHello, usageError } = require('./cli_child')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const APP = ['cluster_apps:app', '--app-dir', 'fixtures', '--port', '0']
const FORWARDED = { 'x-forwarded-for': '1.2.3.4', 'x-forwarded-proto': 'https', 'x-forwarded-port': '8443' }

async function scopeOf (cli, headers) {
  const res = await request(`${cli.url}/`, { headers })
  assert.equal(res.status, 200, res.body)
  return res.json()
}

/** The first WebSocket message of cluster_apps:app ({pid, scheme}), sent with `headers`. */
const wsHelloWith = (cli, headers) => wsHello(`ws://127.0.0.1:${cli.port}/ws`, { headers })

for (const httpPath of ['native', 'node']) {
  test(`--http ${httpPath}: a trusted peer (127.0.0.1 by default) sets client, scheme and server port`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath], { track: children })
    t.after(() => cli.stop())
    const scope = await scopeOf(cli, FORWARDED)
    assert.deepEqual(scope.client, ['1.2.3.4', 0])
    assert.equal(scope.scheme, 'https')
    assert.deepEqual(scope.server, ['127.0.0.1', 8443])
    // without the headers the peer itself is the client
    const plain = await scopeOf(cli, {})
    assert.equal(plain.client[0], '127.0.0.1')
    assert.ok(plain.client[1] > 0)
    assert.equal(plain.scheme, 'http')
    assert.deepEqual(plain.server, ['127.0.0.1', cli.port])
  })

  test(`--http ${httpPath}: an untrusted peer's X-Forwarded-* headers are ignored`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, '--forwarded-allow-ips', '10.0.0.1'], { track: children })
    t.after(() => cli.stop())
    const scope = await scopeOf(cli, FORWARDED)
    assert.equal(scope.client[0], '127.0.0.1')
    assert.notEqual(scope.client[1], 0)
    assert.equal(scope.scheme, 'http')
    assert.deepEqual(scope.server, ['127.0.0.1', cli.port])
    assert.equal((await wsHelloWith(cli, { 'x-forwarded-proto': 'https' })).scheme, 'ws')
  })

  test(`--http ${httpPath}: X-Forwarded-Proto https from a trusted peer makes a WebSocket's scheme wss`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath], { track: children })
    t.after(() => cli.stop())
    assert.equal((await wsHelloWith(cli, { 'x-forwarded-proto': 'https' })).scheme, 'wss')
    assert.equal((await wsHelloWith(cli, { 'x-forwarded-proto': 'wss' })).scheme, 'wss')
    assert.equal((await wsHelloWith(cli, {})).scheme, 'ws')
  })

  test(`--http ${httpPath}: --no-proxy-headers ignores X-Forwarded-* even from 127.0.0.1`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, '--no-proxy-headers'], { track: children })
    t.after(() => cli.stop())
    const scope = await scopeOf(cli, FORWARDED)
    assert.equal(scope.client[0], '127.0.0.1')
    assert.notEqual(scope.client[1], 0)
    assert.equal(scope.scheme, 'http')
    assert.deepEqual(scope.server, ['127.0.0.1', cli.port])
    assert.equal((await wsHelloWith(cli, { 'x-forwarded-proto': 'https' })).scheme, 'ws')
  })
}

test('a chain of proxies: the client is the right-most X-Forwarded-For entry that is not trusted', async (t) => {
  const cli = await startCli(APP, { track: children })
  t.after(() => cli.stop())
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-for': '1.2.3.4, 127.0.0.1' })).client, ['1.2.3.4', 0])
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-for': '5.6.7.8, 1.2.3.4, 127.0.0.1' })).client, ['1.2.3.4', 0])
  // every entry trusted: the left-most is the client
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-for': '127.0.0.1, 127.0.0.1' })).client, ['127.0.0.1', 0])
})

test('--forwarded-allow-ips takes a list with CIDR networks: trusted proxies in the chain are skipped', async (t) => {
  const cli = await startCli([...APP, '--forwarded-allow-ips', '127.0.0.1, 1.2.3.0/24'], { track: children })
  t.after(() => cli.stop())
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-for': '5.6.7.8, 1.2.3.4, 127.0.0.1' })).client, ['5.6.7.8', 0])
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-for': '5.6.7.8, 9.9.9.9, 1.2.3.4' })).client, ['9.9.9.9', 0])
})

test("--forwarded-allow-ips '*' trusts every peer: the left-most X-Forwarded-For entry is the client", async (t) => {
  const cli = await startCli([...APP, '--forwarded-allow-ips', '*'], { track: children })
  t.after(() => cli.stop())
  const scope = await scopeOf(cli, { ...FORWARDED, 'x-forwarded-for': '1.2.3.4, 127.0.0.1' })
  assert.deepEqual(scope.client, ['1.2.3.4', 0])
  assert.equal(scope.scheme, 'https')
  assert.deepEqual(scope.server, ['127.0.0.1', 8443])
})

test('$FORWARDED_ALLOW_IPS is the default of --forwarded-allow-ips, and the flag overrides it', async (t) => {
  const untrusted = await startCli(APP, { track: children, env: { FORWARDED_ALLOW_IPS: '10.0.0.1' } })
  t.after(() => untrusted.stop())
  assert.equal((await scopeOf(untrusted, FORWARDED)).client[0], '127.0.0.1')
  const trusted = await startCli([...APP, '--forwarded-allow-ips', '127.0.0.1'], { track: children, env: { FORWARDED_ALLOW_IPS: '10.0.0.1' } })
  t.after(() => trusted.stop())
  assert.deepEqual((await scopeOf(trusted, FORWARDED)).client, ['1.2.3.4', 0])
})

test('invalid X-Forwarded-Proto and -Port values are ignored', async (t) => {
  const cli = await startCli(APP, { track: children })
  t.after(() => cli.stop())
  const scope = await scopeOf(cli, { 'x-forwarded-proto': 'gopher', 'x-forwarded-port': '99999' })
  assert.equal(scope.scheme, 'http')
  assert.deepEqual(scope.server, ['127.0.0.1', cli.port])
  assert.deepEqual((await scopeOf(cli, { 'x-forwarded-port': 'abc' })).server, ['127.0.0.1', cli.port])
})

test('a bad --forwarded-allow-ips entry exits 2 naming it', async () => {
  const r = await runCli([...APP, '--forwarded-allow-ips', '127.0.0.1,not-an-address'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /'--forwarded-allow-ips'/, 'the message names the flag, not the JS option')
  assert.match(usageError(r.stderr), /not-an-address/)
  assert.doesNotMatch(r.stderr, /running on/)
})
