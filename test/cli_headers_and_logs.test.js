'use strict'
// The CLI's response headers (--header, --server-header, --date-header), its access log on stdout,
// --log-config (Python logging set up before the app is imported) and --env-file.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawnSync } = require('node:child_process')
const { BIN, startCli, runCli, request, waitForText, usageError } = require('./cli_child')

const children = new Set()
test.after(() => { for (const child of children) child.kill('SIGKILL') })

const APP = ['cluster_apps:app', '--app-dir', 'fixtures', '--port', '0']
const HEADERS_APP = ['raw_apps:headers_app', '--app-dir', 'fixtures', '--port', '0']

function tempDir (t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-cli-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** Every value of header `name` in a response's rawHeaders, in order. */
function values (res, name) {
  const out = []
  for (let i = 0; i < res.rawHeaders.length; i += 2) {
    if (res.rawHeaders[i].toLowerCase() === name) out.push(res.rawHeaders[i + 1])
  }
  return out
}

for (const httpPath of ['native', 'node']) {
  test(`--http ${httpPath}: --header adds response headers; the app's same-named headers replace them`, async (t) => {
    const cli = await startCli([...HEADERS_APP, '--http', httpPath,
      '--header', 'X-Extra: one', '--header', 'x-other:two:three', '--header', 'Content-Type: text/html', '--header', 'x-dup: default'], { track: children })
    t.after(() => cli.stop())
    const res = await request(`${cli.url}/`)
    assert.equal(res.status, 200)
    assert.equal(res.body, 'body')
    assert.deepEqual(values(res, 'x-extra'), ['one'])
    assert.deepEqual(values(res, 'x-other'), ['two:three'], 'the value is everything after the first colon')
    assert.deepEqual(values(res, 'content-type'), ['text/plain; charset=utf-8'], "the app's content-type wins")
    assert.deepEqual(values(res, 'x-dup'), ['1', '2'], "the app's repeated header is kept whole, the default dropped")
  })

  test(`--http ${httpPath}: by default a server: node-asgi and a Date header are sent`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath], { track: children })
    t.after(() => cli.stop())
    const res = await request(`${cli.url}/`)
    assert.deepEqual(values(res, 'server'), ['node-asgi'])
    assert.equal(values(res, 'date').length, 1)
    assert.ok(Math.abs(Date.parse(res.headers.date) - Date.now()) < 60000, res.headers.date)
  })

  test(`--http ${httpPath}: --no-server-header and --no-date-header leave them out`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, '--no-server-header', '--no-date-header'], { track: children })
    t.after(() => cli.stop())
    const res = await request(`${cli.url}/`)
    assert.equal(res.status, 200)
    assert.deepEqual(values(res, 'server'), [])
    assert.deepEqual(values(res, 'date'), [])
  })

  test(`--http ${httpPath}: --header server:NAME replaces the default server header (uvicorn)`, async (t) => {
    const cli = await startCli([...APP, '--http', httpPath, '--header', 'Server: my-proxy'], { track: children })
    t.after(() => cli.stop())
    assert.deepEqual(values(await request(`${cli.url}/`), 'server'), ['my-proxy'])
  })

  test(`--http ${httpPath}: the access log is on stdout in uvicorn's format with the status phrase, not on stderr`, async (t) => {
    const cli = await startCli([...HEADERS_APP, '--http', httpPath], { track: children })
    t.after(() => cli.stop())
    assert.equal((await request(`${cli.url}/a?status=201`)).status, 201)
    assert.equal((await request(`${cli.url}/b?status=404`)).status, 404)
    assert.equal((await request(`${cli.url}/c`, { method: 'POST', body: 'x' })).status, 200)
    await waitForText(cli.stdout, /"POST \/c HTTP\/1\.1" 200 OK\n/)
    const lines = cli.stdout().split('\n').filter((l) => l.includes('HTTP/1.1"'))
    assert.equal(lines.length, 3, cli.stdout())
    assert.match(lines[0], /^INFO: {5}127\.0\.0\.1:\d+ - "GET \/a\?status=201 HTTP\/1\.1" 201 Created$/)
    assert.match(lines[1], /^INFO: {5}127\.0\.0\.1:\d+ - "GET \/b\?status=404 HTTP\/1\.1" 404 Not Found$/)
    assert.match(lines[2], /^INFO: {5}127\.0\.0\.1:\d+ - "POST \/c HTTP\/1\.1" 200 OK$/)
    assert.doesNotMatch(cli.stderr(), /HTTP\/1\.1"/)
    assert.match(cli.stderr(), /^INFO: {5}Application startup complete\.$/m, 'server messages stay on stderr')
  })
}

test('--header without NAME:VALUE, or with a bad name, exits 2 naming --header', async () => {
  for (const bad of ['no-colon', ': empty name', 'bad name: x']) {
    const r = await runCli([...APP, '--header', 'x-ok: 1', '--header', bad])
    assert.equal(r.code, 2, `${bad}: ${r.stderr}`)
    assert.match(usageError(r.stderr), /^Error: Invalid value for '--header'/)
    assert.ok(usageError(r.stderr).includes(JSON.stringify(bad)), r.stderr)
    assert.doesNotMatch(r.stderr, /running on/)
  }
})

test('--log-config with a JSON dictConfig: the app\'s logger gets the configured format and handlers', async (t) => {
  const dir = tempDir(t)
  const logFile = path.join(dir, 'app.log')
  const config = path.join(dir, 'logging.json')
  fs.writeFileSync(config, JSON.stringify({
    version: 1,
    disable_existing_loggers: false,
    formatters: { mine: { format: 'MYFMT|%(name)s|%(levelname)s|%(message)s' } },
    handlers: {
      file: { class: 'logging.FileHandler', filename: logFile, formatter: 'mine' },
      out: { class: 'logging.StreamHandler', stream: 'ext://sys.stdout', formatter: 'mine' }
    },
    loggers: { cluster_apps: { handlers: ['file', 'out'], level: 'INFO', propagate: false } }
  }))
  const cli = await startCli([...APP, '--log-config', config], { track: children })
  t.after(() => cli.stop())
  const { pid } = (await request(`${cli.url}/print`)).json()
  await waitForText(cli.stdout, /MYFMT\|cluster_apps\|WARNING\|app logger says hello from \d+\n/)
  await waitForText(() => fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '', /\n/)
  assert.equal(fs.readFileSync(logFile, 'utf8'), `MYFMT|cluster_apps|WARNING|app logger says hello from ${pid}\n`)
  assert.doesNotMatch(cli.stderr(), /app logger says hello/, 'only the configured handlers print it')
  // the app's 50 long print() lines reach stdout whole, each on its own line
  const printed = cli.stdout().split('\n').filter((l) => l.startsWith('line '))
  assert.equal(printed.length, 50)
  printed.forEach((l, i) => assert.equal(l, `line ${i} from ${pid} ${'x'.repeat(3000)}`))
  await waitForText(cli.stdout, /"GET \/print HTTP\/1\.1" 200 OK/)
})

test('--log-config is applied before the app is imported: a root-only config does not disable the app\'s logger', async (t) => {
  // dictConfig disables the loggers that exist when it runs (disable_existing_loggers defaults to
  // true); the app module's logger is created by its import, so it must survive and reach root
  const config = path.join(tempDir(t), 'root_only.json')
  fs.writeFileSync(config, JSON.stringify({
    version: 1,
    formatters: { mine: { format: 'ROOTFMT %(name)s %(message)s' } },
    handlers: { out: { class: 'logging.StreamHandler', stream: 'ext://sys.stdout', formatter: 'mine' } },
    root: { handlers: ['out'], level: 'INFO' }
  }))
  const cli = await startCli([...APP, '--log-config', config], { track: children })
  t.after(() => cli.stop())
  const { pid } = (await request(`${cli.url}/print`)).json()
  await waitForText(cli.stdout, new RegExp(`^ROOTFMT cluster_apps app logger says hello from ${pid}$`, 'm'))
})

test('--log-config with an .ini file goes to fileConfig', async (t) => {
  const dir = tempDir(t)
  const config = path.join(dir, 'logging.ini')
  fs.writeFileSync(config, [
    '[loggers]', 'keys=root,cluster_apps',
    '[handlers]', 'keys=out',
    '[formatters]', 'keys=mine',
    '[logger_root]', 'level=WARNING', 'handlers=',
    '[logger_cluster_apps]', 'level=INFO', 'handlers=out', 'qualname=cluster_apps', 'propagate=0',
    '[handler_out]', 'class=StreamHandler', 'formatter=mine', 'args=(sys.stdout,)',
    '[formatter_mine]', 'format=INIFMT %(name)s %(levelname)s %(message)s', ''
  ].join('\n'))
  const cli = await startCli([...APP, '--log-config', config], { track: children })
  t.after(() => cli.stop())
  const { pid } = (await request(`${cli.url}/print`)).json()
  await waitForText(cli.stdout, new RegExp(`^INIFMT cluster_apps WARNING app logger says hello from ${pid}$`, 'm'))
})

test('--log-config naming a file that does not exist exits 2 naming --log-config and the path', async () => {
  const missing = path.join(os.tmpdir(), 'node-asgi-no-such-logging.json')
  const r = await runCli([...APP, '--log-config', missing])
  assert.equal(r.code, 2, r.stderr)
  assert.ok(usageError(r.stderr).includes(missing), r.stderr)
  assert.match(usageError(r.stderr), /'--log-config'/, 'the message names the flag, not the JS option')
  assert.doesNotMatch(r.stderr, /running on/)
})

test('--log-config with malformed JSON or an unusable dictConfig exits 3 with Python\'s reason', async (t) => {
  const dir = tempDir(t)
  const malformed = path.join(dir, 'malformed.json')
  fs.writeFileSync(malformed, '{not json')
  let r = await runCli([...APP, '--log-config', malformed])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /JSONDecodeError/)
  assert.ok(r.stderr.includes(malformed), `the error names the config file:\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /running on/)

  const badHandler = path.join(dir, 'bad_handler.json')
  fs.writeFileSync(badHandler, JSON.stringify({ version: 1, handlers: { h: { class: 'no.such.Handler' } }, root: { handlers: ['h'] } }))
  r = await runCli([...APP, '--log-config', badHandler])
  assert.equal(r.code, 3, r.stderr)
  assert.match(r.stderr, /Unable to configure handler 'h'/)
  assert.match(r.stderr, /Application startup failed\. Exiting\./)
})

test('--env-file: export, comments, quoted values and inline comments reach the app\'s os.environ', async (t) => {
  const dir = tempDir(t)
  const cases = [
    ['# a comment\n\nexport NODE_ASGI_TEST_ENV="hello world # not a comment"\n', 'hello world # not a comment'],
    ["NODE_ASGI_TEST_ENV='single $quoted'   \n", 'single $quoted'],
    ['NODE_ASGI_TEST_ENV=plain value # an inline comment\r\nOTHER=1\r\n', 'plain value'],
    ['NODE_ASGI_TEST_ENV = "tab\\there"\n', 'tab\there']
  ]
  for (const [i, [text, expected]] of cases.entries()) {
    const file = path.join(dir, `case${i}.env`)
    fs.writeFileSync(file, text)
    const cli = await startCli([...APP, '--env-file', file], { track: children, env: { NODE_ASGI_TEST_ENV: undefined } })
    try {
      assert.equal((await request(`${cli.url}/`)).json().env, expected, JSON.stringify(text))
    } finally {
      await cli.stop()
    }
  }
})

test('--env-file does not override a variable already in the environment', async (t) => {
  const file = path.join(tempDir(t), '.env')
  fs.writeFileSync(file, 'NODE_ASGI_TEST_ENV=from-file\n')
  const cli = await startCli([...APP, '--env-file', file], { track: children, env: { NODE_ASGI_TEST_ENV: 'from-environment' } })
  t.after(() => cli.stop())
  assert.equal((await request(`${cli.url}/`)).json().env, 'from-environment')
})

test('--env-file can set FORWARDED_ALLOW_IPS, the default of --forwarded-allow-ips', async (t) => {
  const file = path.join(tempDir(t), '.env')
  fs.writeFileSync(file, 'FORWARDED_ALLOW_IPS=10.0.0.1\n')
  const cli = await startCli([...APP, '--env-file', file], { track: children, env: { FORWARDED_ALLOW_IPS: undefined } })
  t.after(() => cli.stop())
  const scope = (await request(`${cli.url}/`, { headers: { 'x-forwarded-for': '1.2.3.4' } })).json()
  assert.equal(scope.client[0], '127.0.0.1', '127.0.0.1 is no longer a trusted proxy')
})

// Node 20 reads a script argument `--env-file FILE` as its own option and exits 9 with
// "node: FILE: not found" before any script runs when FILE is missing (nodejs/node#54232).
// (`--version` exits 0 before the CLI itself would read the file.)
const NODE_CHECKS_ENV_FILE = spawnSync(process.execPath, [BIN, '--version', '--env-file', '/nonexistent/node-asgi.env']).status === 9

test('--env-file naming a missing file, or with a malformed line, exits 2 naming --env-file', async (t) => {
  const dir = tempDir(t)
  const missing = path.join(dir, 'missing.env')
  let r = await runCli([...APP, '--env-file', missing])
  if (NODE_CHECKS_ENV_FILE) {
    assert.equal(r.code, 9, r.stderr)
    assert.ok(r.stderr.endsWith(`: ${missing}: not found\n`), r.stderr)
  } else {
    assert.equal(r.code, 2, r.stderr)
    assert.match(usageError(r.stderr), /^Error: Invalid value for '--env-file'/)
    assert.ok(usageError(r.stderr).includes(missing), r.stderr)
  }

  const malformed = path.join(dir, 'malformed.env')
  fs.writeFileSync(malformed, 'GOOD=1\nthis line has no equals sign\n')
  r = await runCli([...APP, '--env-file', malformed])
  assert.equal(r.code, 2, r.stderr)
  assert.match(usageError(r.stderr), /^Error: Invalid value for '--env-file'/)
  assert.ok(usageError(r.stderr).includes(`${malformed}:2`), `the error names the file and line:\n${r.stderr}`)
  assert.doesNotMatch(r.stderr, /running on/)
})
