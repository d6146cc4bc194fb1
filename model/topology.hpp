// Cluster topology as a directed Boost.Graph: per node, its GPUs joined through one node switch (NVSwitch or a
// PCIe switch: a star whose GPU ports carry the intra-node bandwidth per GPU), its NICs (GPU j uses NIC
// j * nics / gpus_per_node, over PCIe), leaf switches and one core vertex standing for the spine layer
// (with equal-cost multipath spreading flows over spines, a spine layer acts as one switch whose capacity is
// that of the leaf uplinks). Every link is a pair of directed edges, one per direction.
//
//   fat-tree        a node's NICs all go to the leaf of its group of nodes_per_leaf nodes
//   rail-optimized  NIC i of every node in a group goes to rail leaf (group, i): same-rail traffic stays on one
//                   leaf, cross-rail and cross-group traffic climbs to the core (NVIDIA DGX SuperPOD designs)
//   leaf uplinks    (bandwidth of the NIC ports on the leaf) / oversubscription
//
// Capacities are in two classes scaled by the fabric's rates: intra-node links carry the per-GPU intra-node
// bandwidth; network links carry a multiple of the network bandwidth per GPU (a NIC port: gpus_per_node / nics;
// a leaf uplink: the sum of its ports over the oversubscription), so that piecewise link regimes and
// --bandwidth-gbps rescale one graph. Routes are shortest paths: in a node through the switch; across nodes
// from the GPU's NIC up to the leaf, through the core when the leaves differ, down to the peer's NIC; on a
// rail-optimized fabric a cross-rail flow within one group first crosses the node switch to the GPU on the
// peer's rail (NCCL's PXN) and so never climbs to the core.
#pragma once
#include <boost/graph/adjacency_list.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "model/cluster.hpp"

namespace bitscale {

enum class VertexKind { gpu, node_switch, nic, leaf, core };
enum class LinkClass { intra, network };

struct TopologyVertex {
  VertexKind kind = VertexKind::gpu;
  std::int64_t node = -1;   // the node a GPU, switch or NIC belongs to
  std::int64_t index = -1;  // local index (GPU, NIC) or leaf number
};

struct TopologyEdge {
  std::int32_t id = 0;  // index into Topology::link_class / link_scale
};

using TopologyGraph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS, TopologyVertex, TopologyEdge>;

class Topology {
 public:
  // `ranks` GPUs of the cluster filling nodes (make_fabric's rule: at most one partial node, alone).
  Topology(const ClusterProfile& c, std::int64_t ranks);

  std::int64_t ranks() const { return ranks_; }
  std::int64_t nodes() const { return nodes_; }
  std::int64_t gpus_per_node() const { return gpus_per_node_; }
  std::int64_t leaves() const { return leaves_; }
  const TopologyGraph& graph() const { return graph_; }
  std::size_t links() const { return link_class_.size(); }
  LinkClass link_class(std::int32_t id) const { return link_class_[static_cast<std::size_t>(id)]; }
  double link_scale(std::int32_t id) const { return link_scale_[static_cast<std::size_t>(id)]; }
  // capacity of every link in bytes/s for the given per-GPU rates
  std::vector<double> capacities(double intra_bytes_per_s, double network_bytes_per_s_per_gpu) const;

  // The links (edge ids) a flow from GPU rank a to GPU rank b crosses, appended to `out`; rank = node * g + local.
  void route(std::int64_t a, std::int64_t b, std::vector<std::int32_t>& out) const;
  // A shortest path found by breadth-first search on the graph (slow; for tests of route()).
  std::vector<std::int32_t> search_route(std::int64_t a, std::int64_t b) const;

  std::size_t gpu_vertex(std::int64_t rank) const { return gpu_vertex_[static_cast<std::size_t>(rank)]; }

 private:
  std::int32_t add_link(std::size_t u, std::size_t v, LinkClass cls, double scale);
  std::int64_t nic_of(std::int64_t local) const { return local * nics_ / gpus_per_node_; }
  std::int64_t leaf_of(std::int64_t node, std::int64_t nic) const;

  TopologyGraph graph_;
  std::int64_t ranks_ = 0, nodes_ = 0, gpus_per_node_ = 0, nics_ = 0, nodes_per_leaf_ = 0, leaves_ = 0;
  bool rail_ = false;
  std::vector<LinkClass> link_class_;
  std::vector<double> link_scale_;
  std::vector<std::size_t> gpu_vertex_;
  // edge ids by position: GPU <-> node switch, GPU <-> its NIC, NIC <-> its leaf, leaf <-> core
  std::vector<std::int32_t> gpu_up_, gpu_down_, gpu_to_nic_, nic_to_gpu_, nic_up_, nic_down_, leaf_up_, leaf_down_;
};

}  // namespace bitscale
