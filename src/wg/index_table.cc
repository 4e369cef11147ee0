#include "wg/index_table.h"

#include <mutex>

#include "crypto/random.h"

namespace wgate::wg {

uint32_t IndexTable::Allocate(Peer* peer) {
  std::unique_lock lock(mu_);
  for (;;) {
    uint32_t index = crypto::RandomU32();
    if (entries_.emplace(index, Entry{peer, nullptr}).second) return index;
  }
}

void IndexTable::SetKeypair(uint32_t index, std::shared_ptr<Keypair> keypair) {
  std::unique_lock lock(mu_);
  auto it = entries_.find(index);
  if (it != entries_.end()) it->second.keypair = std::move(keypair);
}

void IndexTable::Remove(uint32_t index) {
  std::unique_lock lock(mu_);
  entries_.erase(index);
}

void IndexTable::RemovePeer(const Peer* peer) {
  std::unique_lock lock(mu_);
  std::erase_if(entries_, [peer](const auto& kv) { return kv.second.peer == peer; });
}

std::optional<IndexTable::Entry> IndexTable::Lookup(uint32_t index) const {
  std::shared_lock lock(mu_);
  auto it = entries_.find(index);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

size_t IndexTable::size() const {
  std::shared_lock lock(mu_);
  return entries_.size();
}

}  // namespace wgate::wg
