// The status view moved to src/status/; this name stays for the importers not yet moved over.
export { ClusterView, type ViewListener } from '../status/cluster-view.js';
export type { GroupView, NodeView, StatusSnapshot, Transition } from '../status/snapshot.js';
