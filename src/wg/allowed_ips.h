// Cryptokey routing: the allowed-IPs table of the WireGuard paper (section 2). Outbound, the
// longest prefix containing a packet's destination names the peer to encrypt it for; inbound, a
// decrypted packet is accepted only if the longest prefix containing its source belongs to the
// peer that sent it.
//
// One path-compressed binary trie per address family (as the kernel's allowedips.c and
// wireguard-go's trie are): a node exists only where a prefix ends or where two prefixes diverge,
// so a lookup visits at most one node per distinct prefix length on its path and compares whole
// 64-bit words, never bytes.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/ip.h"

namespace wgate::wg {

namespace allowed_ips_internal {

// An address as a 128-bit big-endian bit string: bit 0 is the most significant bit of the first
// byte. An IPv4 address occupies bits 0..31 (the rest zero).
struct Key {
  uint64_t hi = 0;
  uint64_t lo = 0;

  static Key Of(const IpAddress& addr) {
    const uint8_t* b = addr.data();
    Key k;
    for (size_t i = 0; i < addr.size(); ++i) {
      uint64_t& word = i < 8 ? k.hi : k.lo;
      word |= uint64_t{b[i]} << (56 - 8 * (i % 8));
    }
    return k;
  }

  IpAddress ToAddress(IpAddress::Family family) const {
    uint8_t b[16];
    for (int i = 0; i < 16; ++i)
      b[i] = static_cast<uint8_t>((i < 8 ? hi : lo) >> (56 - 8 * (i % 8)));
    return family == IpAddress::Family::kV4 ? IpAddress::V4(b) : IpAddress::V6(b);
  }

  // Bit i (0 = most significant), for 0 <= i < 128.
  int Bit(int i) const {
    return static_cast<int>(i < 64 ? (hi >> (63 - i)) & 1 : (lo >> (127 - i)) & 1);
  }

  // The first `len` bits, the rest zero (0 <= len <= 128).
  Key Masked(int len) const {
    auto mask = [](int bits) {
      return bits <= 0 ? 0 : bits >= 64 ? ~uint64_t{0} : ~(~uint64_t{0} >> bits);
    };
    return Key{hi & mask(len), lo & mask(len - 64)};
  }

  // How many leading bits `a` and `b` share (128 if equal).
  static int CommonPrefixLength(const Key& a, const Key& b) {
    if (uint64_t x = a.hi ^ b.hi) return std::countl_zero(x);
    if (uint64_t x = a.lo ^ b.lo) return 64 + std::countl_zero(x);
    return 128;
  }

  bool operator==(const Key&) const = default;
};

}  // namespace allowed_ips_internal

// Longest-prefix-match table mapping IPv4 and IPv6 prefixes to peers (cryptokey routing).
// T is a small copyable, equality-comparable handle (a pointer or an index).
// Thread-safety: const methods may run concurrently with each other; mutations need external
// exclusion. Move-only (the nodes are owned).
template <typename T>
class AllowedIps {
 public:
  AllowedIps() = default;
  AllowedIps(AllowedIps&&) noexcept = default;
  AllowedIps& operator=(AllowedIps&&) noexcept = default;

  // Maps prefix.Network() to value, replacing any previous owner of exactly that prefix (as `wg`
  // does). prefix.len must be within 0..32 (v4) or 0..128 (v6), as IpPrefix::Parse guarantees.
  void Insert(const IpPrefix& prefix, T value) {
    WGATE_CHECK(prefix.len >= 0 && prefix.len <= prefix.addr.bit_length());
    const int len = prefix.len;
    const Key key = Key::Of(prefix.addr).Masked(len);
    std::unique_ptr<Node>* slot = &Root(prefix.addr.family());
    while (true) {
      Node* node = slot->get();
      if (node == nullptr) {
        *slot = std::make_unique<Node>(key, len, std::move(value));
        ++size_;
        return;
      }
      const int common =
          std::min({Key::CommonPrefixLength(node->key, key), static_cast<int>(node->len), len});
      if (common == node->len && common == len) {  // exactly this prefix
        if (!node->value) ++size_;
        node->value = std::move(value);
        return;
      }
      if (common == node->len) {  // `node` contains the new prefix: go down
        slot = &node->children[key.Bit(node->len)];
        continue;
      }
      // The new prefix contains `node` (common == len), or they diverge at bit `common`.
      std::unique_ptr<Node> old = std::move(*slot);
      if (common == len) {
        *slot = std::make_unique<Node>(key, len, std::move(value));
      } else {
        *slot = std::make_unique<Node>(key.Masked(common), common, std::nullopt);
        (*slot)->children[key.Bit(common)] = std::make_unique<Node>(key, len, std::move(value));
      }
      (*slot)->children[old->key.Bit(common)] = std::move(old);
      ++size_;
      return;
    }
  }

  // The value of the longest prefix containing addr, if any. Never allocates.
  std::optional<T> Lookup(const IpAddress& addr) const {
    const Key key = Key::Of(addr);
    const Node* best = nullptr;
    for (const Node* node = Root(addr.family()).get(); node != nullptr;) {
      if (Key::CommonPrefixLength(node->key, key) < node->len) break;
      if (node->value) best = node;
      if (node->len == addr.bit_length()) break;
      node = node->children[key.Bit(node->len)].get();
    }
    if (best == nullptr) return std::nullopt;
    return best->value;
  }

  // Removes exactly this prefix (host bits ignored) if it is owned by value; returns whether it
  // was.
  bool Remove(const IpPrefix& prefix, T value) {
    if (prefix.len < 0 || prefix.len > prefix.addr.bit_length()) return false;
    const Key key = Key::Of(prefix.addr).Masked(prefix.len);
    return RemoveFrom(Root(prefix.addr.family()), key, prefix.len, value);
  }

  // Removes every prefix owned by value.
  void RemoveAll(T value) {
    RemoveAllFrom(v4_, value);
    RemoveAllFrom(v6_, value);
  }

  // The prefixes (network form) owned by value, sorted (v4 before v6, then by address and length).
  std::vector<IpPrefix> PrefixesOf(T value) const {
    std::vector<IpPrefix> out;
    Collect(v4_.get(), IpAddress::Family::kV4, value, &out);
    Collect(v6_.get(), IpAddress::Family::kV6, value, &out);
    std::sort(out.begin(), out.end());
    return out;
  }

  size_t size() const { return size_; }  // number of prefixes

  void Clear() {
    v4_.reset();
    v6_.reset();
    size_ = 0;
  }

 private:
  using Key = allowed_ips_internal::Key;

  // A prefix that ends here (value set) or a branch point where two prefixes diverge (no value).
  // children[b] holds the longer prefixes whose bit `len` is b.
  struct Node {
    Node(const Key& k, int l, std::optional<T> v)
        : key(k), len(static_cast<uint8_t>(l)), value(std::move(v)) {}
    Key key;  // masked to len bits
    uint8_t len;
    std::optional<T> value;
    std::unique_ptr<Node> children[2];
  };

  std::unique_ptr<Node>& Root(IpAddress::Family family) {
    return family == IpAddress::Family::kV4 ? v4_ : v6_;
  }
  const std::unique_ptr<Node>& Root(IpAddress::Family family) const {
    return family == IpAddress::Family::kV4 ? v4_ : v6_;
  }

  // Restores the invariant after a value was cleared below or at *slot: a node without a value
  // must be a branch point, i.e. have two children.
  static void Compact(std::unique_ptr<Node>& slot) {
    Node* node = slot.get();
    if (node == nullptr || node->value) return;
    if (node->children[0] && node->children[1]) return;
    std::unique_ptr<Node> child = std::move(node->children[node->children[0] ? 0 : 1]);
    slot = std::move(child);  // frees `node`; a null child removes the slot entirely
  }

  bool RemoveFrom(std::unique_ptr<Node>& slot, const Key& key, int len, const T& value) {
    Node* node = slot.get();
    if (node == nullptr || node->len > len || Key::CommonPrefixLength(node->key, key) < node->len) {
      return false;
    }
    if (node->len == len) {
      if (!node->value || !(*node->value == value)) return false;
      node->value.reset();
      --size_;
    } else if (!RemoveFrom(node->children[key.Bit(node->len)], key, len, value)) {
      return false;
    }
    Compact(slot);
    return true;
  }

  void RemoveAllFrom(std::unique_ptr<Node>& slot, const T& value) {
    Node* node = slot.get();
    if (node == nullptr) return;
    RemoveAllFrom(node->children[0], value);
    RemoveAllFrom(node->children[1], value);
    if (node->value && *node->value == value) {
      node->value.reset();
      --size_;
    }
    Compact(slot);
  }

  static void Collect(const Node* node, IpAddress::Family family, const T& value,
                      std::vector<IpPrefix>* out) {
    if (node == nullptr) return;
    if (node->value && *node->value == value) {
      out->push_back(IpPrefix{node->key.ToAddress(family), node->len});
    }
    Collect(node->children[0].get(), family, value, out);
    Collect(node->children[1].get(), family, value, out);
  }

  std::unique_ptr<Node> v4_;
  std::unique_ptr<Node> v6_;
  size_t size_ = 0;
};

}  // namespace wgate::wg
