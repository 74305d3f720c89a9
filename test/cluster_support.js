'use strict'
// Client source addresses for tests and benchmarks of the CLI's --workers N (lib/cluster.js), whose
// primary keeps each client address on one worker (sticky sessions): pick addresses that land apart.
const { slotOf } = require('../lib/cluster')

/** Two loopback source addresses (127.0.0.x) that the primary's sticky hash sends to different slots of 2. */
function twoSourcesOnDifferentWorkers () {
  const found = {}
  for (let i = 1; Object.keys(found).length < 2; i++) {
    const address = `127.0.0.${i}`
    found[slotOf(address, 2)] ??= address
  }
  return [found[0], found[1]]
}

module.exports = { twoSourcesOnDifferentWorkers }
