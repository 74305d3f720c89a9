'use strict'
// Several handlers started at the same moment in a fresh process (e.g. Promise.all of start(), or
// several servers whose first requests arrive together) all come up and serve. Each attempt runs
// in its own Node process, since the embedded runtime is loaded once per process.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const path = require('node:path')
const { FIXTURES } = require('./helpers')

const ROOT = path.resolve(__dirname, '..')
const ATTEMPTS = 8

const script = `
const { PythonHandler } = require(${JSON.stringify(ROOT)})
const logger = { error () {}, warn () {}, info () {} }
;(async () => {
  const names = ['hello', 'echo', 'scope_json', 'headers_app']
  const handlers = names.map((n) => new PythonHandler({ app: 'raw_apps:' + n, appDir: ${JSON.stringify(FIXTURES)}, logger }))
  await Promise.all(handlers.map((h) => h.start()))
  const statuses = await Promise.all(handlers.map(async (h) => (await h.handleRequest({ url: '/' })).status))
  await Promise.all(handlers.map((h) => h.close()))
  process.stdout.write(JSON.stringify(statuses))
})().catch((err) => { process.stdout.write('error: ' + err.stack); process.exitCode = 1 })
`

function runOnce () {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => { stdout += d })
    child.stderr.on('data', (d) => { stderr += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), 20000)
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr })
    })
  })
}

test(`four handlers started with Promise.all in a fresh process all serve (${ATTEMPTS} processes)`, { timeout: 60000 }, async () => {
  const failures = []
  for (let i = 0; i < ATTEMPTS; i++) {
    const { code, signal, stdout, stderr } = await runOnce()
    if (code !== 0 || stdout !== '[200,200,200,200]') {
      failures.push(`attempt ${i + 1}: exit ${code} signal ${signal} stdout ${JSON.stringify(stdout)} stderr ${JSON.stringify(stderr.slice(-300))}`)
    }
  }
  assert.deepEqual(failures, [], `${failures.length} of ${ATTEMPTS} processes failed:\n${failures.join('\n')}`)
})
