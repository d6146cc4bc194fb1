#include "model/topology.hpp"

#include <boost/graph/breadth_first_search.hpp>
#include <algorithm>

#include "kernels/input_error.hpp"

namespace bitscale {

Topology::Topology(const ClusterProfile& c, std::int64_t ranks) : ranks_(ranks) {
  BITSCALE_CHECK(ranks >= 1) << "ranks " << ranks;
  gpus_per_node_ = std::min(ranks, c.gpus_per_node);
  BITSCALE_CHECK(ranks % gpus_per_node_ == 0) << ranks << " ranks do not fill nodes of " << gpus_per_node_;
  nodes_ = ranks / gpus_per_node_;
  nics_ = std::min(c.nics_per_node, gpus_per_node_);
  nodes_per_leaf_ = c.nodes_per_leaf;
  rail_ = c.network_topology == "rail-optimized";
  const std::int64_t groups = (nodes_ + nodes_per_leaf_ - 1) / nodes_per_leaf_;
  leaves_ = groups * (rail_ ? nics_ : 1);
  const bool network = nodes_ > 1;
  const bool core = network && leaves_ > 1;
  // GPU j of a node shares NIC j*nics/g with gpus_per_node/nics GPUs: a NIC port carries that many GPUs' share
  // of the node's network bandwidth
  const double nic_scale = static_cast<double>(gpus_per_node_) / static_cast<double>(nics_);

  const auto g = static_cast<std::size_t>(gpus_per_node_);
  const auto n = static_cast<std::size_t>(nodes_);
  const auto nics = static_cast<std::size_t>(nics_);
  gpu_vertex_.resize(n * g);
  gpu_up_.resize(n * g);
  gpu_down_.resize(n * g);
  std::vector<std::size_t> nic_vertex;
  if (network) {
    gpu_to_nic_.resize(n * g);
    nic_to_gpu_.resize(n * g);
    nic_vertex.resize(n * nics);
    nic_up_.resize(n * nics);
    nic_down_.resize(n * nics);
  }
  std::vector<std::size_t> leaf_vertex;
  if (network) {
    for (std::int64_t l = 0; l < leaves_; ++l) leaf_vertex.push_back(boost::add_vertex({VertexKind::leaf, -1, l}, graph_));
  }
  std::size_t core_vertex = 0;
  if (core) core_vertex = boost::add_vertex({VertexKind::core, -1, 0}, graph_);

  for (std::size_t k = 0; k < n; ++k) {
    const auto node = static_cast<std::int64_t>(k);
    const auto sw = boost::add_vertex({VertexKind::node_switch, node, 0}, graph_);
    for (std::size_t i = 0; i < nics && network; ++i) {
      const auto v = boost::add_vertex({VertexKind::nic, node, static_cast<std::int64_t>(i)}, graph_);
      nic_vertex[k * nics + i] = v;
      const auto leaf = leaf_vertex[static_cast<std::size_t>(leaf_of(node, static_cast<std::int64_t>(i)))];
      nic_up_[k * nics + i] = add_link(v, leaf, LinkClass::network, nic_scale);
      nic_down_[k * nics + i] = add_link(leaf, v, LinkClass::network, nic_scale);
    }
    for (std::size_t j = 0; j < g; ++j) {
      const auto v = boost::add_vertex({VertexKind::gpu, node, static_cast<std::int64_t>(j)}, graph_);
      gpu_vertex_[k * g + j] = v;
      gpu_up_[k * g + j] = add_link(v, sw, LinkClass::intra, 1.0);
      gpu_down_[k * g + j] = add_link(sw, v, LinkClass::intra, 1.0);
      if (network) {
        const auto nic = nic_vertex[k * nics + static_cast<std::size_t>(nic_of(static_cast<std::int64_t>(j)))];
        gpu_to_nic_[k * g + j] = add_link(v, nic, LinkClass::network, nic_scale);
        nic_to_gpu_[k * g + j] = add_link(nic, v, LinkClass::network, nic_scale);
      }
    }
  }
  if (core) {
    // a leaf's uplinks carry what its ports bring in over the oversubscription factor
    std::vector<double> ports(leaf_vertex.size(), 0.0);
    for (std::int64_t k = 0; k < nodes_; ++k) {
      for (std::int64_t i = 0; i < nics_; ++i) ports[static_cast<std::size_t>(leaf_of(k, i))] += nic_scale;
    }
    for (std::size_t l = 0; l < leaf_vertex.size(); ++l) {
      leaf_up_.push_back(add_link(leaf_vertex[l], core_vertex, LinkClass::network, ports[l] / c.oversubscription));
      leaf_down_.push_back(add_link(core_vertex, leaf_vertex[l], LinkClass::network, ports[l] / c.oversubscription));
    }
  }
}

std::int64_t Topology::leaf_of(std::int64_t node, std::int64_t nic) const {
  const std::int64_t group = node / nodes_per_leaf_;
  return rail_ ? group * nics_ + nic : group;
}

std::int32_t Topology::add_link(std::size_t u, std::size_t v, LinkClass cls, double scale) {
  const auto id = static_cast<std::int32_t>(link_class_.size());
  boost::add_edge(u, v, TopologyEdge{id}, graph_);
  link_class_.push_back(cls);
  link_scale_.push_back(scale);
  return id;
}

std::vector<double> Topology::capacities(double intra_bytes_per_s, double network_bytes_per_s_per_gpu) const {
  std::vector<double> cap(link_class_.size());
  for (std::size_t i = 0; i < cap.size(); ++i) {
    cap[i] = link_scale_[i] * (link_class_[i] == LinkClass::intra ? intra_bytes_per_s : network_bytes_per_s_per_gpu);
  }
  return cap;
}

void Topology::route(std::int64_t a, std::int64_t b, std::vector<std::int32_t>& out) const {
  if (a == b) return;
  const auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
  const std::int64_t na = a / gpus_per_node_, nb = b / gpus_per_node_;
  if (na == nb) {
    out.push_back(gpu_up_[ua]);
    out.push_back(gpu_down_[ub]);
    return;
  }
  std::int64_t ia = nic_of(a % gpus_per_node_);
  const std::int64_t ib = nic_of(b % gpus_per_node_);
  if (rail_ && ia != ib && na / nodes_per_leaf_ == nb / nodes_per_leaf_) {
    // cross-rail inside one group of leaves: forward over the node switch to the GPU on b's rail and stay on one
    // rail leaf (NCCL's PXN) instead of climbing to the core; as short, and it keeps the core free
    const auto relay = static_cast<std::size_t>(na * gpus_per_node_ + b % gpus_per_node_);
    out.push_back(gpu_up_[ua]);
    out.push_back(gpu_down_[relay]);
    ia = ib;
    out.push_back(gpu_to_nic_[relay]);
  } else {
    out.push_back(gpu_to_nic_[ua]);
  }
  const auto nic_a = static_cast<std::size_t>(na * nics_ + ia), nic_b = static_cast<std::size_t>(nb * nics_ + ib);
  out.push_back(nic_up_[nic_a]);
  const auto la = leaf_of(na, ia), lb = leaf_of(nb, ib);
  if (la != lb) {
    out.push_back(leaf_up_[static_cast<std::size_t>(la)]);
    out.push_back(leaf_down_[static_cast<std::size_t>(lb)]);
  }
  out.push_back(nic_down_[nic_b]);
  out.push_back(nic_to_gpu_[ub]);
}

std::vector<std::int32_t> Topology::search_route(std::int64_t a, std::int64_t b) const {
  const auto nv = boost::num_vertices(graph_);
  std::vector<TopologyGraph::edge_descriptor> via(nv);
  struct Recorder : boost::default_bfs_visitor {
    std::vector<TopologyGraph::edge_descriptor>* via;
    void tree_edge(TopologyGraph::edge_descriptor e, const TopologyGraph& g) const { (*via)[boost::target(e, g)] = e; }
  };
  Recorder rec;
  rec.via = &via;
  const auto src = gpu_vertex(a);
  boost::breadth_first_search(graph_, src, boost::visitor(rec));
  std::vector<std::int32_t> path;
  for (auto v = gpu_vertex(b); v != src;) {
    const auto e = via[v];
    path.push_back(graph_[e].id);
    v = boost::source(e, graph_);
  }
  std::reverse(path.begin(), path.end());
  return path;
}

}  // namespace bitscale
