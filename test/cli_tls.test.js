'use strict'
// The CLI's TLS (--ssl-keyfile, --ssl-certfile, --ssl-keyfile-password, --ssl-ca-certs,
// --ssl-cert-reqs): https and wss through node:https on both --http paths, client certificates,
// and the exit codes for unusable keys and certificates (3) and bad flag combinations (2).
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { startCli, runCli, request, wsHello, usageError, waitForText } = require('./cli_child')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const APP = ['cluster_apps:app', '--app-dir', 'fixtures', '--port', '0']
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-tls-'))
test.after(() => fs.rmSync(dir, { recursive: true, force: true }))
const file = (name) => path.join(dir, name)
const read = (name) => fs.readFileSync(file(name))

function openssl (...args) {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'], timeout: 60000 })
}

test.before(() => {
  // the server: a self-signed certificate for localhost, also its own CA for the clients
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', 'server.key', '-out', 'server.crt')
  // the same with a passphrase-protected key
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-passout', 'pass:s3cret', '-subj', '/CN=localhost', '-days', '1', '-keyout', 'encrypted.key', '-out', 'encrypted.crt')
  // a CA for client certificates, a client it signed, and a client signed by nobody it knows
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=node-asgi test CA', '-days', '1', '-keyout', 'ca.key', '-out', 'ca.crt')
  openssl('req', '-new', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=client', '-keyout', 'client.key', '-out', 'client.csr')
  openssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'client.crt')
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=stranger', '-days', '1', '-keyout', 'stranger.key', '-out', 'stranger.crt')
})

const TLS = () => ['--ssl-keyfile', file('server.key'), '--ssl-certfile', file('server.crt')]
// 127.0.0.1 is where the CLI listens; the certificate is for localhost
const trust = (extra = {}) => ({ ca: read('server.crt'), servername: 'localhost', ...extra })

for (const httpPath of ['native', 'node']) {
  test(`--http ${httpPath} with --ssl-*: https and wss, scope scheme https/wss`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, ...TLS()], { track: children })
    t.after(() => cli.stop())
    assert.equal(cli.scheme, 'https', 'the running-on line says https://')
    const res = await request(`${cli.url}/`, trust())
    assert.equal(res.status, 200)
    const scope = res.json()
    assert.equal(scope.scheme, 'https')
    assert.deepEqual(scope.server, ['127.0.0.1', cli.port])
    assert.equal((await wsHello(`wss://127.0.0.1:${cli.port}/ws`, trust())).scheme, 'wss')
    // a client that does not trust the self-signed certificate is refused by its own TLS check
    await assert.rejects(request(`${cli.url}/`, { servername: 'localhost' }), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })
    // and plain HTTP on the TLS port gets no HTTP answer
    const plain = await request(`http://127.0.0.1:${cli.port}/`).catch((err) => err)
    assert.ok(plain instanceof Error || plain.status === 400, `plain http: ${plain.status}`)
    if (httpPath === 'native') assert.match(cli.stderr(), /TLS is served through node:https/)
    await waitForText(cli.stdout, /^INFO: {5}127\.0\.0\.1:\d+ - "GET \/ HTTP\/1\.1" 200 OK$/m)
  })
}

test('--ssl-keyfile-password decrypts a protected key', async (t) => {
  const cli = await startCli([...APP, '--ssl-keyfile', file('encrypted.key'), '--ssl-certfile', file('encrypted.crt'), '--ssl-keyfile-password', 's3cret'], { track: children })
  t.after(() => cli.stop())
  const res = await request(`${cli.url}/`, { ca: read('encrypted.crt'), servername: 'localhost' })
  assert.equal(res.json().scheme, 'https')
})

test('a wrong or missing --ssl-keyfile-password exits 3 with a clear message, never listening', async () => {
  for (const password of [['--ssl-keyfile-password', 'wrong'], []]) {
    const r = await runCli([...APP, '--ssl-keyfile', file('encrypted.key'), '--ssl-certfile', file('encrypted.crt'), ...password])
    assert.equal(r.killed, false, 'no passphrase prompt or hang')
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^ERROR: {4}invalid TLS key or certificate \(--ssl-keyfile .*encrypted\.key, --ssl-certfile .*encrypted\.crt\): .*(bad decrypt|bad password|decrypt)/im)
    assert.doesNotMatch(r.stderr, /running on/)
  }
})

test('a key that does not match the certificate exits 3', async () => {
  const r = await runCli([...APP, '--ssl-keyfile', file('client.key'), '--ssl-certfile', file('server.crt')])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /^ERROR: {4}invalid TLS key or certificate .*key values mismatch/im)
})

test('a missing or unreadable --ssl-certfile, --ssl-keyfile or --ssl-ca-certs exits 3 naming the file', async () => {
  const missing = file('no-such.pem')
  const cases = [
    ['--ssl-certfile', ['--ssl-keyfile', file('server.key'), '--ssl-certfile', missing]],
    ['--ssl-keyfile', ['--ssl-keyfile', missing, '--ssl-certfile', file('server.crt')]],
    ['--ssl-ca-certs', [...TLS(), '--ssl-ca-certs', missing]],
    ['--ssl-certfile', ['--ssl-keyfile', file('server.key'), '--ssl-certfile', dir]]
  ]
  for (const [flag, args] of cases) {
    const r = await runCli([...APP, ...args])
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, new RegExp(`^ERROR: {4}cannot read ${flag} `, 'm'), r.stderr)
    assert.ok(r.stderr.includes(args[args.indexOf(flag) + 1]), `names the file: ${r.stderr}`)
    assert.doesNotMatch(r.stderr, /running on/)
  }
})

test('a file that is not PEM exits 3', async () => {
  const junk = file('junk.pem')
  fs.writeFileSync(junk, 'this is not a certificate\n')
  const r = await runCli([...APP, '--ssl-keyfile', file('server.key'), '--ssl-certfile', junk])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /^ERROR: {4}invalid TLS key or certificate/m)
})

test('bad TLS flag combinations and values exit 2 naming the flags', async () => {
  let r = await runCli([...APP, '--ssl-keyfile', file('server.key')])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /'--ssl-keyfile' and '--ssl-certfile' must be given together/)
  r = await runCli([...APP, '--ssl-certfile', file('server.crt')])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /'--ssl-keyfile' and '--ssl-certfile' must be given together/)
  r = await runCli([...APP, '--ssl-ca-certs', file('ca.crt')])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /'--ssl-ca-certs'/)
  r = await runCli([...APP, ...TLS(), '--ssl-cert-reqs', '3'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /Invalid value for '--ssl-cert-reqs': "3"/)
})

for (const httpPath of ['native', 'node']) {
  test(`--http ${httpPath}: --ssl-cert-reqs 2 with --ssl-ca-certs admits only clients with a certificate from that CA`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, ...TLS(), '--ssl-ca-certs', file('ca.crt'), '--ssl-cert-reqs', '2'], { track: children })
    t.after(() => cli.stop())
    const client = { key: read('client.key'), cert: read('client.crt') }
    // no certificate: the handshake is refused (TLS 1.3 reports it when the client reads)
    await assert.rejects(request(`${cli.url}/`, trust()), (err) => {
      assert.match(`${err.code} ${err.message}`, /certificate required|ECONNRESET|EPIPE|socket hang up/i)
      return true
    })
    // a certificate from another CA: refused too
    await assert.rejects(request(`${cli.url}/`, trust({ key: read('stranger.key'), cert: read('stranger.crt') })), (err) => {
      assert.match(`${err.code} ${err.message}`, /unknown ca|ECONNRESET|EPIPE|socket hang up/i)
      return true
    })
    // signed by the CA: served, over https and wss
    assert.equal((await request(`${cli.url}/`, trust(client))).json().scheme, 'https')
    assert.equal((await wsHello(`wss://127.0.0.1:${cli.port}/ws`, trust(client))).scheme, 'wss')
    await assert.rejects(wsHello(`wss://127.0.0.1:${cli.port}/ws`, trust()))
  })
}

test('--ssl-cert-reqs 1 (optional): clients without a certificate still get in', async (t) => {
  const cli = await startCli([...APP, ...TLS(), '--ssl-ca-certs', file('ca.crt'), '--ssl-cert-reqs', '1'], { track: children })
  t.after(() => cli.stop())
  assert.equal((await request(`${cli.url}/`, trust())).status, 200)
  assert.equal((await request(`${cli.url}/`, trust({ key: read('client.key'), cert: read('client.crt') }))).status, 200)
})
