'use strict'
// `npm run bench` as a user runs it: a short run of the workloads that need no load generator
// (the app floor on three interpreters, in-process handleRequest) writes its tables as JSON and
// Markdown, and bad flags exit 2 naming the flag. Nothing here judges speed: that is the bench's job.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { childEnv, runNodeProcess } = require('./helpers')

const BENCH = path.resolve(__dirname, '..', 'bench', 'run.js')
const SHARED_LIB = JSON.parse(fs.readFileSync(path.resolve(__dirname, '..', 'build', 'python.json'), 'utf8')).ldlibrary

function runBench (args, timeoutMs = 15000) {
  return runNodeProcess([BENCH, ...args], { env: childEnv(), timeoutMs })
}

test('a short bench run measures every row and writes JSON and Markdown results', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-bench-'))
  try {
    const r = await runBench(['--only', 'floor,inprocess1', '--duration', '1', '--rounds', '1', '--warmup', '0', '--results', dir], 90000)
    assert.equal(r.code, 0, r.stderr)
    const json = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    assert.equal(json.length, 1, `one JSON result in ${fs.readdirSync(dir)}`)
    const { meta, results } = JSON.parse(fs.readFileSync(path.join(dir, json[0]), 'utf8'))
    assert.deepEqual(Object.keys(results), ['floor', 'inprocess1'])
    assert.equal(meta.rounds, 1)
    assert.deepEqual(results.floor.rows.map((row) => row.server),
      ['python3', `python3 on ${SHARED_LIB}`, `node-asgi (embedded ${SHARED_LIB})`])
    assert.deepEqual(results.inprocess1.rows.map((row) => row.server), ['node-asgi asyncio', 'node-asgi uvloop'])
    for (const row of [...results.floor.rows, ...results.inprocess1.rows]) {
      assert.equal(row.skipped, undefined, `${row.server}: ${row.skipped}`)
      assert.ok(row.rps > 0, `${row.server} measured calls/s: ${row.rps}`)
      assert.ok(row.cpu > 0, `${row.server} measured CPU: ${row.cpu}`)
    }
    const md = fs.readFileSync(path.join(dir, json[0].replace(/\.json$/, '.md')), 'utf8')
    assert.match(md, /### floor: .*\n\n\| server \| req\/s \| p50 ms \| p99 ms \| peak RSS MiB \| CPU cores \| × python3 \|/)
    assert.match(md, /\n\| python3 \| [\d,]+ \| – \| – \| – \| [\d.]+ \| 1\.00 \|\n/)
    assert.equal(fs.readFileSync(path.join(dir, 'latest.md'), 'utf8'), md)
    assert.match(r.stdout, /### inprocess1: in-process handleRequest\(\), 1 in flight/)
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('bad bench flags exit 2 with a message that names the flag', async () => {
  const cases = [
    [['--duration', 'soon'], /^bench: --duration must be a number >= 0\.5, got 'soon'$/m],
    [['--rounds', '0'], /^bench: --rounds must be an integer >= 1, got '0'$/m],
    [['--connections', '2.5'], /^bench: --connections must be an integer >= 1, got '2\.5'$/m],
    [['--only', 'hello,nope'], /^bench: --only: unknown workload 'nope' \(choose from hello, fastapi, /m],
    [['--ws-client', 'curl'], /^bench: --ws-client must be one of frames, ws, got 'curl'$/m],
    [['--turbo'], /^bench: Unknown option '--turbo'/m]
  ]
  for (const [args, message] of cases) {
    const r = await runBench(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stdout, '')
  }
})
