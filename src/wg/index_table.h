// The device's receiver-index table: the 32-bit index every handshake and transport message is
// addressed to, mapped to the peer and (once a session exists) the keypair it names.
//
// Indices are random and unique among live entries, so that they reveal nothing and a stale
// index cannot address a new session. Thread-safe: lookups take a shared lock (the data path),
// changes an exclusive one (handshakes, rare).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <unordered_map>

#include "wg/keypair.h"

namespace wgate::wg {

class Peer;

class IndexTable {
 public:
  struct Entry {
    Peer* peer = nullptr;
    std::shared_ptr<Keypair> keypair;  // null while the index names a handshake
  };

  // A fresh random index for `peer`'s handshake.
  uint32_t Allocate(Peer* peer);
  // Points an allocated index at the session it now names. No-op if the index is gone.
  void SetKeypair(uint32_t index, std::shared_ptr<Keypair> keypair);
  void Remove(uint32_t index);
  void RemovePeer(const Peer* peer);
  // A copy of the entry (the keypair stays alive while the caller holds it).
  std::optional<Entry> Lookup(uint32_t index) const;
  size_t size() const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<uint32_t, Entry> entries_;
};

}  // namespace wgate::wg
