'use strict'
// The 'virtualenv' option (default $VIRTUAL_ENV): the app runs with the venv's sys.prefix, its
// site-packages and .pth files. One interpreter per process, so each case runs in a child process.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const os = require('node:os')
const fs = require('node:fs')
const { execFileSync } = require('node:child_process')
const { runNodeProcess } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const FIXTURES = path.join(ROOT, 'fixtures')

// Runs `script` with `node -e` and resolves { code, signal, stdout, stderr }; killed after timeoutMs.
function runNode (script, { env = process.env, timeoutMs = 20000, cwd = ROOT } = {}) {
  return runNodeProcess(['-e', script], { env, timeoutMs, cwd })
}

// A child script: serves test_env_report with `options`, prints the JSON report for ?import=...
function reportScript (options, imports) {
  return `
    const { PythonHandler } = require(${JSON.stringify(ROOT)})
    ;(async () => {
      const handler = new PythonHandler(Object.assign({ app: 'test_env_report:app', appDir: ${JSON.stringify(FIXTURES)} }, ${JSON.stringify(options)}))
      await handler.start()
      const res = await handler.handleRequest({ url: '/?import=' + ${JSON.stringify(imports.join(','))} })
      process.stdout.write('REPORT ' + res.body.toString() + '\\n')
      await handler.close()
    })().catch((err) => { console.error('FAILED', err && err.stack, err && err.traceback); process.exit(1) })
  `
}

function parseReport (result) {
  assert.equal(result.code, 0, `child failed (code ${result.code}, signal ${result.signal}):\n${result.stderr}\n${result.stdout}`)
  const line = result.stdout.split('\n').find((l) => l.startsWith('REPORT '))
  assert.ok(line, `no report in child output:\n${result.stdout}\n${result.stderr}`)
  return JSON.parse(line.slice('REPORT '.length))
}

let tmp
let venv
let extraDir
let isolated

test.before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-venv-'))
  venv = path.join(tmp, 'venv')
  execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', '--system-site-packages', venv], { timeout: 60000 })
  const site = path.join(venv, 'lib', `python${execFileSync('/usr/bin/python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])']).toString().trim()}`, 'site-packages')
  assert.ok(fs.existsSync(site), `venv site-packages at ${site}`)
  fs.writeFileSync(path.join(site, 'node_asgi_venv_only_mod.py'), 'VALUE = "from the venv"\n')
  extraDir = path.join(tmp, 'pth-target')
  fs.mkdirSync(extraDir)
  fs.writeFileSync(path.join(extraDir, 'node_asgi_pth_mod.py'), 'VALUE = "via a .pth file"\n')
  fs.writeFileSync(path.join(site, 'node_asgi_test.pth'), `${extraDir}\n`)
  isolated = path.join(tmp, 'isolated')
  execFileSync('/usr/bin/python3', ['-m', 'venv', '--without-pip', isolated], { timeout: 60000 })
})

test.after(() => {
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true })
})

const childEnv = (extra = {}) => {
  const env = { ...process.env, ...extra }
  if (!('VIRTUAL_ENV' in extra)) delete env.VIRTUAL_ENV
  delete env.PYTHONPATH
  delete env.PYTHONHOME
  return env
}

test('with the virtualenv option the app sees sys.prefix == the venv and imports its modules and .pth paths', async () => {
  const report = parseReport(await runNode(reportScript({ virtualenv: venv }, ['node_asgi_venv_only_mod', 'node_asgi_pth_mod', 'fastapi']), { env: childEnv() }))
  assert.equal(report.prefix, venv)
  assert.equal(report.base_prefix, '/usr')
  assert.deepEqual(report.version.slice(0, 2), [3, 11])
  assert.equal(report.imported.node_asgi_venv_only_mod.value, 'from the venv', JSON.stringify(report.imported))
  assert.ok(report.imported.node_asgi_venv_only_mod.file.startsWith(venv))
  assert.equal(report.imported.node_asgi_pth_mod.value, 'via a .pth file', JSON.stringify(report.imported))
  assert.ok(report.path.includes(extraDir), `sys.path has the .pth directory: ${report.path}`)
  // --system-site-packages: Debian's dist-packages stay visible
  assert.ok(report.imported.fastapi.file, `fastapi importable from a --system-site-packages venv: ${JSON.stringify(report.imported.fastapi)}`)
})

test('VIRTUAL_ENV in the environment is the default virtualenv', async () => {
  const report = parseReport(await runNode(reportScript({}, ['node_asgi_venv_only_mod']), { env: childEnv({ VIRTUAL_ENV: venv }) }))
  assert.equal(report.prefix, venv)
  assert.equal(report.imported.node_asgi_venv_only_mod.value, 'from the venv')
})

test('without a virtualenv the app runs on the system interpreter and the venv module is not importable', async () => {
  const report = parseReport(await runNode(reportScript({}, ['node_asgi_venv_only_mod']), { env: childEnv() }))
  assert.equal(report.prefix, '/usr')
  assert.match(report.imported.node_asgi_venv_only_mod.error, /ModuleNotFoundError/)
})

test('an isolated venv (no system site-packages) hides Debian dist-packages', async () => {
  const report = parseReport(await runNode(reportScript({ virtualenv: isolated }, ['fastapi']), { env: childEnv() }))
  assert.equal(report.prefix, isolated)
  assert.match(report.imported.fastapi.error || '', /ModuleNotFoundError/, JSON.stringify(report.imported.fastapi))
})

test('a directory that is not a venv is an Error naming the virtualenv option', async () => {
  const { PythonHandler } = require('..')
  assert.throws(() => new PythonHandler({ app: 'test_env_report:app', appDir: FIXTURES, virtualenv: extraDir }),
    (err) => err instanceof Error && /'virtualenv'/.test(err.message) && err.message.includes(extraDir) && /pyvenv\.cfg/.test(err.message))
})

test('a VIRTUAL_ENV that is not a venv is an Error naming the virtualenv option', async () => {
  const result = await runNode(`
    try {
      new (require(${JSON.stringify(ROOT)}).PythonHandler)({ app: 'test_env_report:app', appDir: ${JSON.stringify(FIXTURES)} })
      console.log('NO ERROR')
    } catch (err) { console.log('ERROR ' + err.message) }
  `, { env: childEnv({ VIRTUAL_ENV: extraDir }) })
  assert.match(result.stdout, /^ERROR .*'virtualenv'.*pyvenv\.cfg/m, result.stdout + result.stderr)
})
