/**
 * Two vantage points, end to end in Chromium: two `serve` peers in different partitions of the swarm; the UI of one
 * runs the same lookup on both and shows that one finds the record and the other does not ("my laptop sees it, the
 * robot doesn't").
 */
import { mkdir, rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, test } from 'vitest'
import type { BrowserContext } from 'playwright-core'
import { launchChromium } from '../helpers/browser.ts'
import { cli, startServe, type ServeProcess } from '../helpers/processes.ts'
import { tempDir } from '../helpers/swarm.ts'

let laptop: ServeProcess
let laptopsNeighbour: ServeProcess
let robot: ServeProcess
let browser: BrowserContext
const dirs: string[] = []

beforeAll(async () => {
  for (let i = 0; i < 3; i++) dirs.push(await tempDir())
  laptop = await startServe(dirs[0]!)
  laptopsNeighbour = await startServe(dirs[1]!, ['--bootstrap', laptop.addresses[0]!])
  robot = await startServe(dirs[2]!) // another partition: it knows nobody
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await Promise.all([laptop, laptopsNeighbour, robot].map((p) => p?.stop()))
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })))
})

test('the laptop finds the record and the robot does not, side by side with their traces', async () => {
  expect((await cli(['put', 'charging_pause', 'robot-3', '2h', '--api', laptopsNeighbour.url])).code).toBe(0)
  const page = await browser.newPage()
  await page.goto(`${laptop.url}/`)
  await page.getByTestId('link-status').filter({ hasText: /^live/ }).waitFor()
  await page.getByRole('tab', { name: 'Lookups' }).click()
  const form = page.getByRole('form', { name: 'Compare two vantage points' })
  await form.getByLabel("Other peer's API").fill(robot.url)
  await form.getByLabel('Topic').fill('charging_pause')
  await form.getByLabel('Key').fill('robot-3')
  await form.getByRole('button', { name: 'Compare' }).click()
  await page.getByTestId('vantage-result').waitFor()
  const here = await page.getByTestId('vantage-here').textContent()
  const there = await page.getByTestId('vantage-there').textContent()
  expect(here).toContain('2h')
  expect(here).toContain('Trace: get charging_pause/robot-3')
  expect(there).toContain('Not found from here')
  expect(there).toContain(robot.peerId.slice(-6))
  await mkdir('test-results/ui', { recursive: true })
  await page.screenshot({ path: 'test-results/ui/11-two-vantage-points.png', fullPage: true })

  // A wrong URL is an inline error for that side, not a failure of the whole comparison.
  await form.getByLabel("Other peer's API").fill('http://127.0.0.1:9')
  await form.getByRole('button', { name: 'Compare' }).click()
  await page
    .getByTestId('vantage-there')
    .filter({ hasText: /cannot reach/ })
    .waitFor()
})
