// No-op enqueue and drain rates of pg-boss and BullMQ, printed as one JSON line.
//
// Run by bench/peers/compare.py from the scratch folder where it installed both packages, with
// PEERS_DATABASE_URL (a scratch PostgreSQL database), PEERS_REDIS_URL (a free Redis database),
// PEERS_JOBS, PEERS_CONCURRENCY and PEERS_DRAIN_SECONDS (a cap on each drain) in the environment.
//
// Enqueue: PEERS_JOBS jobs sent one at a time, each awaited, as our service creates them.
// Drain: workers started on the full queue; completed jobs per second from the first handler
// call to the last completion (or to the cap, counting what completed by then).

import PgBoss from 'pg-boss'
import { Queue, Worker } from 'bullmq'
import IORedis from 'ioredis'

const jobs = Number(process.env.PEERS_JOBS)
const concurrency = Number(process.env.PEERS_CONCURRENCY)
const drainCap = Number(process.env.PEERS_DRAIN_SECONDS) * 1000
const now = () => performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

async function enqueue (send) {
  const started = now()
  for (let i = 0; i < jobs; i++) await send(i)
  return jobs / ((now() - started) / 1000)
}

// Polls `completed()` until every job is done or the cap passes; `firstStart()` is when the first
// handler ran. Returns completed jobs per second over that span.
async function drain (completed, firstStart) {
  const started = now()
  let done = 0
  while (now() - started < drainCap) {
    done = await completed()
    if (done >= jobs) break
    await sleep(10)
  }
  const first = firstStart() ?? started
  return { perSecond: done / ((now() - first) / 1000), completed: done }
}

async function pgBoss () {
  // The minimum polling interval pg-boss accepts (its default is 2 s): its workers fetch once per
  // interval, so this is its fastest drain at `concurrency` jobs in flight.
  const pollingIntervalSeconds = 0.5
  const boss = new PgBoss({ connectionString: process.env.PEERS_DATABASE_URL })
  boss.on('error', (error) => console.error('pg-boss:', error.message))
  await boss.start()
  const queue = 'bench-noop'
  await boss.createQueue(queue)
  const enqueuePerSecond = await enqueue(() => boss.send(queue, {}))
  let firstStart = null
  for (let i = 0; i < concurrency; i++) {
    await boss.work(queue, { batchSize: 1, pollingIntervalSeconds }, async () => {
      firstStart ??= now()
    })
  }
  const db = boss.getDb()
  const completed = async () => {
    const { rows } = await db.executeSql(
      "SELECT count(*)::int AS n FROM pgboss.job WHERE name = $1 AND state = 'completed'", [queue])
    return rows[0].n
  }
  const result = await drain(completed, () => firstStart)
  await boss.stop({ graceful: false, wait: true })
  return {
    enqueuePerSecond,
    drainPerSecond: result.perSecond,
    completed: result.completed,
    how: `${concurrency} work() x batchSize 1, polls every ${pollingIntervalSeconds} s`
  }
}

async function bullMq () {
  const options = { maxRetriesPerRequest: null }
  const connection = new IORedis(process.env.PEERS_REDIS_URL, options)
  const queue = new Queue('bench-noop', { connection })
  const enqueuePerSecond = await enqueue(() => queue.add('noop', {}))
  let firstStart = null
  let done = 0
  const worker = new Worker('bench-noop', async () => { firstStart ??= now() }, {
    connection: new IORedis(process.env.PEERS_REDIS_URL, options),
    concurrency
  })
  worker.on('completed', () => { done++ })
  const result = await drain(async () => done, () => firstStart)
  await worker.close(true)
  await queue.close()
  await connection.quit()
  return {
    enqueuePerSecond,
    drainPerSecond: result.perSecond,
    completed: result.completed,
    how: `Worker concurrency ${concurrency}`
  }
}

const results = { pgBoss: await pgBoss(), bullMq: await bullMq() }
console.log(JSON.stringify(results))
process.exit(0)
