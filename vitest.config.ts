import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    globalSetup: ['test/global-setup.ts'],
    environment: 'node',
    // Swarm tests start real libp2p nodes and processes: give them room, and run files one at a time so two
    // cores are not shared between several swarms.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false
  }
})
