'use strict'
// `npm run bench` as a user runs it: a short run of the workloads that need no load generator
// (the app floor on three interpreters, in-process handleRequest) writes its tables as JSON and
// Markdown; the scale-out rows (the CLI with --workers 2, a rolling restart under load, socket.io
// broadcast through Redis) run with the bench's own HTTP client (wrk may be missing); bad flags exit
// 2 naming the flag. Nothing here judges speed: that is the bench's job.
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

test('the scale-out rows run the CLI with --workers 2 beside uvicorn, restart it under load, and broadcast through Redis', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'node-asgi-bench-'))
  try {
    const r = await runBench(['--only', 'fastapi2,rolling,sio2', '--duration', '2', '--rounds', '1', '--warmup', '0',
      '--connections', '4', '--broadcasts', '20', '--http-client', 'raw', '--results', dir], 300000)
    assert.equal(r.code, 0, r.stderr)
    const json = fs.readdirSync(dir).filter((f) => f.endsWith('.json'))
    const { results, targets } = JSON.parse(fs.readFileSync(path.join(dir, json[0]), 'utf8'))
    assert.deepEqual(Object.keys(results), ['fastapi2', 'rolling', 'sio2'])
    const rows = (name) => Object.fromEntries(results[name].rows.map((row) => [row.server, row]))

    const fastapi = rows('fastapi2')
    assert.deepEqual(Object.keys(fastapi), ['node-asgi --workers 2 --no-sticky', 'node-asgi --workers 2 --no-sticky --loop asyncio',
      'node-asgi CLI, 1 process', 'uvicorn --workers 2', 'uvicorn'])
    for (const row of Object.values(fastapi)) {
      assert.equal(row.skipped, undefined, `${row.server}: ${row.skipped}`)
      assert.ok(row.rps > 0 && row.requests > 0, `${row.server} measured req/s: ${row.rps}`)
      assert.equal(row.non2xx, 0, `${row.server} answered every request with 200`)
    }
    // RSS adds up the process tree: a primary and two workers, each worker with its own interpreter
    assert.ok(fastapi['node-asgi --workers 2 --no-sticky'].rss > 1.5 * fastapi['node-asgi CLI, 1 process'].rss,
      `--workers 2 RSS ${fastapi['node-asgi --workers 2 --no-sticky'].rss} vs 1 process ${fastapi['node-asgi CLI, 1 process'].rss}`)
    assert.ok(fastapi['uvicorn --workers 2'].rss > 1.5 * fastapi.uvicorn.rss, 'uvicorn --workers 2 counts its workers too')

    const rolling = rows('rolling')
    assert.deepEqual(Object.keys(rolling), ['node-asgi --workers 2 --no-sticky (native server)', 'node-asgi --workers 2 --no-sticky --http node'])
    for (const row of Object.values(rolling)) {
      assert.equal(row.skipped, undefined, `${row.server}: ${row.skipped}`)
      assert.ok(row.requests > 0, `${row.server} served requests: ${row.requests}`)
      assert.ok(row.sighups >= 1, `${row.server}: SIGHUP sent during the load`)
      assert.equal(row.failed, row.non2xx + row.connectErrors + row.readErrors + row.writeErrors + row.timeouts)
    }

    const sio = rows('sio2')
    assert.deepEqual(Object.keys(sio), ['node-asgi --workers 2 (sticky), Redis', 'node-asgi, 1 process, Redis'])
    for (const [server, workers] of [['node-asgi --workers 2 (sticky), Redis', 2], ['node-asgi, 1 process, Redis', 1]]) {
      const row = sio[server]
      assert.equal(row.skipped, undefined, `${server}: ${row.skipped}`)
      assert.equal(row.workers, workers, `${server}: the clients reached ${workers} hub process(es)`)
      assert.equal(row.clients, 4)
      assert.deepEqual([row.deliveries, row.lost, row.doubled], [80, 0, 0], `${server}: 20 broadcasts × 4 clients, each once`)
      assert.ok(row.rps > 0)
    }

    assert.deepEqual(targets.map((t) => t.check.split(':')[0]), ['fastapi2', 'fastapi2', 'rolling', 'rolling', 'rolling', 'rolling', 'sio2', 'sio2'])
    assert.match(r.stdout, /### fastapi2: .*\n\n\| server \| req\/s \| p50 ms \| p99 ms \| peak RSS MiB \| CPU cores \| × uvicorn --workers 2 \| × uvicorn \| × node-asgi CLI, 1 process \|/)
    assert.match(r.stdout, /\n\| node-asgi --workers 2 --no-sticky \(native server\) \| [\d,]+ \| [\d,]+ \| [\d.]+ \| 0 \| \d+ \/ \d+ \/ \d+ \/ \d+ \| \d+ \| [12] \| [012] \|\n/)
    assert.match(r.stdout, /\n\| node-asgi --workers 2 \(sticky\), Redis \| [\d,]+ \| [\d,]+ \| 4 \| 2 \| [\d,]+ \| [\d,]+ \| 80 \| 0 \| 0 \| [\d.]+ \|\n/)
    assert.match(r.stdout, /\| sio2: node-asgi --workers 2 \(sticky\), Redis: deliveries lost \(all rounds\) \| 0 \| of 80, at [\d,]+ deliveries\/s \| 0 \| yes \|/)
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
    [['--http-client', 'ab'], /^bench: --http-client must be one of wrk, raw, got 'ab'$/m],
    [['--broadcasts', '0'], /^bench: --broadcasts must be an integer >= 1, got '0'$/m],
    [['--turbo'], /^bench: Unknown option '--turbo'/m]
  ]
  for (const [args, message] of cases) {
    const r = await runBench(args)
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`)
    assert.match(r.stderr, message)
    assert.equal(r.stdout, '')
  }
})
