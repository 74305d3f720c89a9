'use strict'
// PYTHONPATH in the environment is honoured by the embedded interpreter (checked in a child
// process, since Python starts once per process and reads the environment then).
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { childEnv, runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(ROOT, 'fixtures')

function runNode (script, { env, timeoutMs = 20000 } = {}) {
  return runNodeProcess(['-e', script], { env, timeoutMs })
}

const script = (app, appDir, url) => `
  const { PythonHandler } = require(${JSON.stringify(ROOT)})
  ;(async () => {
    const handler = new PythonHandler({ app: ${JSON.stringify(app)}, appDir: ${JSON.stringify(appDir)} })
    await handler.start()
    const res = await handler.handleRequest({ url: ${JSON.stringify(url)} })
    process.stdout.write('REPORT ' + res.status + ' ' + res.body.toString() + '\\n')
    await handler.close()
  })().catch((err) => { console.error('FAILED', err && err.message); process.exit(1) })
`

let tmp
test.before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-pythonpath-'))
  fs.mkdirSync(path.join(tmp, 'one'))
  fs.mkdirSync(path.join(tmp, 'two'))
  fs.writeFileSync(path.join(tmp, 'one', 'node_asgi_pythonpath_mod.py'), 'VALUE = "from PYTHONPATH"\n')
  // an app module found only through PYTHONPATH (appDir elsewhere)
  fs.writeFileSync(path.join(tmp, 'two', 'node_asgi_pythonpath_app.py'), [
    'async def app(scope, receive, send):',
    '    if scope["type"] != "http":',
    '        return',
    '    await send({"type": "http.response.start", "status": 200, "headers": []})',
    '    await send({"type": "http.response.body", "body": b"app from PYTHONPATH"})',
    ''
  ].join('\n'))
})
test.after(() => { if (tmp) fs.rmSync(tmp, { recursive: true, force: true }) })

test('a module on PYTHONPATH is importable by the app', async () => {
  const result = await runNode(script('test_env_report:app', FIXTURES, '/?import=node_asgi_pythonpath_mod'),
    { env: childEnv({ PYTHONPATH: path.join(tmp, 'one') }) })
  assert.equal(result.code, 0, result.stderr)
  const line = result.stdout.split('\n').find((l) => l.startsWith('REPORT 200 '))
  assert.ok(line, result.stdout + result.stderr)
  const report = JSON.parse(line.slice('REPORT 200 '.length))
  assert.equal(report.imported.node_asgi_pythonpath_mod.value, 'from PYTHONPATH', JSON.stringify(report.imported))
  assert.ok(report.path.includes(path.join(tmp, 'one')))
  assert.equal(report.environ.PYTHONPATH, path.join(tmp, 'one'))
  // appDir comes first on sys.path
  assert.equal(report.path[0], FIXTURES)
})

test('the app module itself can be found through PYTHONPATH (several entries)', async () => {
  const result = await runNode(script('node_asgi_pythonpath_app:app', os.tmpdir(), '/'),
    { env: childEnv({ PYTHONPATH: [path.join(tmp, 'one'), path.join(tmp, 'two')].join(path.delimiter) }) })
  assert.equal(result.code, 0, result.stderr)
  assert.match(result.stdout, /^REPORT 200 app from PYTHONPATH$/m)
})
