import { NodeHeader } from './components/NodeHeader.tsx'
import type { Transport } from './api-client.ts'

export function App({ transport }: { transport: Transport }) {
  return (
    <div className="app">
      <NodeHeader transport={transport} />
    </div>
  )
}
