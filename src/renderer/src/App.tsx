import { NodeHeader } from './components/NodeHeader.tsx'
import { SnapshotBar } from './components/SnapshotBar.tsx'
import { Tabs } from './components/Tabs.tsx'
import type { Transport } from './api-client.ts'
import { useInspector } from './store/index.ts'
import { LookupsView } from './views/LookupsView.tsx'
import { OverviewView } from './views/OverviewView.tsx'
import { ProvidersView } from './views/ProvidersView.tsx'
import { RecordsView } from './views/RecordsView.tsx'
import { RoutingView } from './views/RoutingView.tsx'

const VIEWS = {
  overview: OverviewView,
  routing: RoutingView,
  records: RecordsView,
  providers: ProvidersView,
  lookups: LookupsView
}

export function App({ transport }: { transport: Transport }) {
  const tab = useInspector((s) => s.tab)
  const View = VIEWS[tab]
  return (
    <div className="app">
      <NodeHeader transport={transport} />
      <SnapshotBar />
      <Tabs />
      <main role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`}>
        <View />
      </main>
    </div>
  )
}
