'use strict'
// Several handlers started at the same moment in a fresh process (e.g. Promise.all of start(), or
// several servers whose first requests arrive together) all come up and serve. Each attempt runs
// in its own Node process, since the embedded runtime is loaded once per process.
const { test } = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const { FIXTURES, runNodeProcess } = require('./helpers')

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
  return runNodeProcess(['-e', script])
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
