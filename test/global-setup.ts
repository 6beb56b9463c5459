/**
 * Builds main, preload and renderer once before the suite: the browser tests serve the built UI, and the
 * packaging-facing tests read the built files.
 */
import { build } from 'electron-vite'

export default async function setup(): Promise<void> {
  await build({ logLevel: 'warn' })
}
