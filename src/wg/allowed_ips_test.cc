#include "wg/allowed_ips.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>

namespace wgate::wg {
namespace {

IpPrefix P(const std::string& text) {
  std::optional<IpPrefix> p = IpPrefix::Parse(text);
  WGATE_CHECK(p.has_value());
  return *p;
}

IpAddress A(const std::string& text) {
  std::optional<IpAddress> a = IpAddress::Parse(text);
  WGATE_CHECK(a.has_value());
  return *a;
}

std::optional<int> Find(const AllowedIps<int>& table, const std::string& addr) {
  return table.Lookup(A(addr));
}

TEST(AllowedIpsTest, EmptyTableMatchesNothing) {
  AllowedIps<int> table;
  EXPECT_EQ(Find(table, "10.0.0.1"), std::nullopt);
  EXPECT_EQ(Find(table, "fd00::1"), std::nullopt);
  EXPECT_EQ(table.size(), 0u);
}

TEST(AllowedIpsTest, LongestMatchWins) {
  AllowedIps<int> table;
  // Inserted out of order, so that later prefixes split and wrap earlier ones.
  table.Insert(P("10.1.2.0/24"), 3);
  table.Insert(P("10.0.0.0/8"), 1);
  table.Insert(P("10.1.2.3/32"), 4);
  table.Insert(P("10.1.0.0/16"), 2);
  table.Insert(P("10.1.128.0/17"), 5);
  EXPECT_EQ(table.size(), 5u);
  EXPECT_EQ(Find(table, "10.1.2.3"), 4);
  EXPECT_EQ(Find(table, "10.1.2.4"), 3);
  EXPECT_EQ(Find(table, "10.1.3.4"), 2);
  EXPECT_EQ(Find(table, "10.1.200.1"), 5);
  EXPECT_EQ(Find(table, "10.2.0.0"), 1);
  EXPECT_EQ(Find(table, "10.255.255.255"), 1);
  EXPECT_EQ(Find(table, "11.0.0.0"), std::nullopt);
  EXPECT_EQ(Find(table, "9.255.255.255"), std::nullopt);
}

TEST(AllowedIpsTest, DefaultRoutesPerFamily) {
  AllowedIps<int> table;
  table.Insert(P("0.0.0.0/0"), 1);
  EXPECT_EQ(Find(table, "0.0.0.0"), 1);
  EXPECT_EQ(Find(table, "255.255.255.255"), 1);
  EXPECT_EQ(Find(table, "::"), std::nullopt);
  EXPECT_EQ(Find(table, "2001:db8::1"), std::nullopt);
  table.Insert(P("::/0"), 2);
  table.Insert(P("192.0.2.0/24"), 3);
  EXPECT_EQ(Find(table, "2001:db8::1"), 2);
  EXPECT_EQ(Find(table, "192.0.2.77"), 3);
  EXPECT_EQ(Find(table, "198.51.100.1"), 1);
}

TEST(AllowedIpsTest, FamiliesAreSeparate) {
  AllowedIps<int> table;
  table.Insert(P("10.0.0.0/8"), 1);
  // 2001:db8::/32 starts with the same 32 bits as 32.1.13.184.
  table.Insert(P("2001:db8::/32"), 2);
  EXPECT_EQ(Find(table, "32.1.13.184"), std::nullopt);
  EXPECT_EQ(Find(table, "::ffff:10.0.0.1"), std::nullopt);  // v4-mapped is v6
  EXPECT_EQ(Find(table, "a00::"), std::nullopt);            // 0a00:: = 10.0.0.0's bits
  EXPECT_EQ(Find(table, "2001:db8:1::1"), 2);
  EXPECT_EQ(Find(table, "10.9.8.7"), 1);
}

TEST(AllowedIpsTest, FullLengthV6Prefixes) {
  AllowedIps<int> table;
  table.Insert(P("fd00::1/128"), 1);
  table.Insert(P("fd00::/127"), 2);
  table.Insert(P("fd00::8000:0:0:0/65"), 3);
  EXPECT_EQ(Find(table, "fd00::1"), 1);
  EXPECT_EQ(Find(table, "fd00::"), 2);
  EXPECT_EQ(Find(table, "fd00::2"), std::nullopt);
  EXPECT_EQ(Find(table, "fd00::8000:0:0:1"), 3);
  EXPECT_EQ(Find(table, "fd00::7fff:0:0:1"), std::nullopt);
}

TEST(AllowedIpsTest, InsertReplacesTheOwnerOfTheSamePrefix) {
  AllowedIps<int> table;
  table.Insert(P("192.0.2.0/24"), 1);
  table.Insert(P("192.0.2.0/24"), 2);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_EQ(Find(table, "192.0.2.1"), 2);
  EXPECT_TRUE(table.PrefixesOf(1).empty());
  EXPECT_EQ(table.PrefixesOf(2), std::vector<IpPrefix>{P("192.0.2.0/24")});
}

TEST(AllowedIpsTest, HostBitsAreMasked) {
  AllowedIps<int> table;
  table.Insert(P("10.64.3.2/10"), 1);  // an interface-style address
  EXPECT_EQ(table.PrefixesOf(1), std::vector<IpPrefix>{P("10.64.0.0/10")});
  EXPECT_EQ(Find(table, "10.127.255.255"), 1);
  EXPECT_EQ(Find(table, "10.128.0.0"), std::nullopt);
  table.Insert(P("10.64.0.0/10"), 2);  // the same prefix once masked
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.Remove(P("10.99.99.99/10"), 2));
  EXPECT_EQ(table.size(), 0u);
}

TEST(AllowedIpsTest, RemoveNeedsTheExactPrefixAndOwner) {
  AllowedIps<int> table;
  table.Insert(P("10.0.0.0/8"), 1);
  table.Insert(P("10.1.0.0/16"), 2);
  table.Insert(P("10.2.0.0/16"), 3);  // 10.0.0.0/14 becomes a branch point without an owner
  EXPECT_FALSE(table.Remove(P("10.1.0.0/16"), 1));  // wrong owner
  EXPECT_FALSE(table.Remove(P("10.1.0.0/17"), 2));  // not a stored prefix
  EXPECT_FALSE(table.Remove(P("10.0.0.0/14"), 2));  // a branch point, not a prefix
  EXPECT_FALSE(table.Remove(P("::/0"), 1));
  EXPECT_EQ(table.size(), 3u);

  EXPECT_TRUE(table.Remove(P("10.1.0.0/16"), 2));
  EXPECT_FALSE(table.Remove(P("10.1.0.0/16"), 2));  // already gone
  EXPECT_EQ(table.size(), 2u);
  EXPECT_EQ(Find(table, "10.1.0.1"), 1);  // falls back to the shorter prefix
  EXPECT_EQ(Find(table, "10.2.0.1"), 3);

  EXPECT_TRUE(table.Remove(P("10.0.0.0/8"), 1));  // an inner node with a child
  EXPECT_EQ(Find(table, "10.1.0.1"), std::nullopt);
  EXPECT_EQ(Find(table, "10.2.0.1"), 3);
  EXPECT_TRUE(table.Remove(P("10.2.0.0/16"), 3));
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(Find(table, "10.2.0.1"), std::nullopt);
}

TEST(AllowedIpsTest, RemoveAllAndPrefixesOf) {
  AllowedIps<int> table;
  table.Insert(P("fd00::/64"), 1);
  table.Insert(P("10.0.0.0/8"), 1);
  table.Insert(P("10.0.0.0/24"), 2);
  table.Insert(P("10.0.0.1/32"), 1);
  table.Insert(P("192.0.2.0/24"), 1);
  table.Insert(P("fd00::1/128"), 2);
  table.Insert(P("::/0"), 1);
  EXPECT_EQ(table.PrefixesOf(1),
            (std::vector<IpPrefix>{P("10.0.0.0/8"), P("10.0.0.1/32"), P("192.0.2.0/24"), P("::/0"),
                                   P("fd00::/64")}));
  EXPECT_EQ(table.PrefixesOf(2), (std::vector<IpPrefix>{P("10.0.0.0/24"), P("fd00::1/128")}));
  EXPECT_TRUE(table.PrefixesOf(3).empty());

  table.RemoveAll(1);
  EXPECT_EQ(table.size(), 2u);
  EXPECT_TRUE(table.PrefixesOf(1).empty());
  EXPECT_EQ(Find(table, "10.0.0.1"), 2);
  EXPECT_EQ(Find(table, "10.0.1.1"), std::nullopt);
  EXPECT_EQ(Find(table, "fd00::1"), 2);
  EXPECT_EQ(Find(table, "fd00::2"), std::nullopt);

  table.Clear();
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(Find(table, "10.0.0.1"), std::nullopt);
  table.Insert(P("10.0.0.0/8"), 5);  // usable after Clear
  EXPECT_EQ(Find(table, "10.0.0.1"), 5);
}

TEST(AllowedIpsTest, PointerHandles) {
  struct Peer {
    int id;
  } a{1}, b{2};
  AllowedIps<const Peer*> table;
  table.Insert(P("0.0.0.0/0"), &a);
  table.Insert(P("192.0.2.0/24"), &b);
  EXPECT_EQ(table.Lookup(A("192.0.2.9")), &b);
  EXPECT_EQ(table.Lookup(A("203.0.113.9")), &a);
  table.RemoveAll(&b);
  EXPECT_EQ(table.Lookup(A("192.0.2.9")), &a);
}

// The prefix's address with every host bit set.
IpAddress LastAddress(const IpPrefix& p) {
  uint8_t b[16];
  std::copy(p.addr.data(), p.addr.data() + p.addr.size(), b);
  for (int bit = p.len; bit < p.addr.bit_length(); ++bit) {
    b[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  return p.addr.is_v4() ? IpAddress::V4(b) : IpAddress::V6(b);
}

// A brute-force reference: the stored prefixes and their owners, searched linearly.
class Reference {
 public:
  void Insert(const IpPrefix& p, int v) { owners_[p.Network()] = v; }
  bool Remove(const IpPrefix& p, int v) {
    auto it = owners_.find(p.Network());
    if (it == owners_.end() || it->second != v) return false;
    owners_.erase(it);
    return true;
  }
  std::optional<int> OwnerOf(const IpPrefix& p) const {
    auto it = owners_.find(p.Network());
    if (it == owners_.end()) return std::nullopt;
    return it->second;
  }
  void RemoveAll(int v) {
    std::erase_if(owners_, [v](const auto& e) { return e.second == v; });
  }
  std::optional<int> Lookup(const IpAddress& a) const {
    std::optional<int> best;
    int best_len = -1;
    for (const auto& [p, v] : owners_) {
      if (p.len > best_len && p.Contains(a)) {
        best = v;
        best_len = p.len;
      }
    }
    return best;
  }
  std::vector<IpPrefix> PrefixesOf(int v) const {
    std::vector<IpPrefix> out;
    for (const auto& [p, owner] : owners_) {
      if (owner == v) out.push_back(p);
    }
    return out;  // std::map order is IpPrefix's operator<
  }
  size_t size() const { return owners_.size(); }

 private:
  std::map<IpPrefix, int> owners_;
};

// Random addresses drawn near a few bases, so prefixes nest and share long common prefixes (deep
// tries with branch points), plus fully random ones.
class AddressSource {
 public:
  explicit AddressSource(uint32_t seed) : rng_(seed) {
    for (int i = 0; i < 4; ++i) {
      bases_v4_.push_back(Random(IpAddress::Family::kV4));
      bases_v6_.push_back(Random(IpAddress::Family::kV6));
    }
  }

  IpAddress Next(IpAddress::Family family) {
    if (rng_() % 4 == 0) return Random(family);
    const auto& bases = family == IpAddress::Family::kV4 ? bases_v4_ : bases_v6_;
    const IpAddress& base = bases[rng_() % bases.size()];
    uint8_t b[16];
    std::copy(base.data(), base.data() + base.size(), b);
    // Flip a few bits, mostly late in the address.
    const int bits = base.bit_length();
    for (int flips = rng_() % 4; flips > 0; --flips) {
      int bit = bits - 1 - static_cast<int>(rng_() % std::min(bits, 24));
      if (rng_() % 8 == 0) bit = static_cast<int>(rng_() % bits);
      b[bit / 8] ^= static_cast<uint8_t>(0x80 >> (bit % 8));
    }
    return family == IpAddress::Family::kV4 ? IpAddress::V4(b) : IpAddress::V6(b);
  }

  IpPrefix NextPrefix(IpAddress::Family family) {
    IpAddress addr = Next(family);
    const int bits = addr.bit_length();
    // Favour long prefixes (host routes and subnets), keep a few short ones.
    int len = rng_() % 3 == 0 ? static_cast<int>(rng_() % (bits + 1))
                              : bits - static_cast<int>(rng_() % 17);
    return IpPrefix{addr, len};
  }

  uint32_t operator()() { return rng_(); }

 private:
  IpAddress Random(IpAddress::Family family) {
    uint8_t b[16];
    for (uint8_t& x : b) x = static_cast<uint8_t>(rng_());
    return family == IpAddress::Family::kV4 ? IpAddress::V4(b) : IpAddress::V6(b);
  }

  std::mt19937 rng_;
  std::vector<IpAddress> bases_v4_, bases_v6_;
};

TEST(AllowedIpsTest, MatchesABruteForceReference) {
  for (uint32_t seed : {1u, 2u}) {
    SCOPED_TRACE(seed);
    AddressSource source(seed);
    AllowedIps<int> table;
    Reference reference;
    constexpr int kPeers = 40;
    auto family = [&] { return source() % 2 ? IpAddress::Family::kV4 : IpAddress::Family::kV6; };
    auto check_lookups = [&](int n) {
      for (int i = 0; i < n; ++i) {
        IpAddress a = source.Next(family());
        ASSERT_EQ(table.Lookup(a), reference.Lookup(a)) << a.ToString();
      }
    };

    std::vector<IpPrefix> inserted;
    for (int step = 0; step < 3000; ++step) {
      const uint32_t op = source() % 100;
      if (op < 75 || inserted.empty()) {
        IpPrefix p = source.NextPrefix(family());
        int v = static_cast<int>(source() % kPeers);
        table.Insert(p, v);
        reference.Insert(p, v);
        inserted.push_back(p);
      } else if (op < 97) {
        // Remove a stored prefix, with its owner or (to test refusal) another value.
        IpPrefix p = inserted[source() % inserted.size()];
        int v = static_cast<int>(source() % kPeers);
        std::optional<int> owner = reference.OwnerOf(p);
        if (source() % 2 && owner) v = *owner;
        ASSERT_EQ(table.Remove(p, v), reference.Remove(p, v)) << p.ToString();
      } else {
        int v = static_cast<int>(source() % kPeers);
        table.RemoveAll(v);
        reference.RemoveAll(v);
      }
      ASSERT_EQ(table.size(), reference.size());
      if (step % 250 == 0) check_lookups(250);
    }
    check_lookups(3000);
    for (int v = 0; v < kPeers; ++v) {
      ASSERT_EQ(table.PrefixesOf(v), reference.PrefixesOf(v)) << v;
    }
    // Every stored prefix's own network address and last address resolve like the reference.
    for (const IpPrefix& p : inserted) {
      const IpAddress first = p.Network().addr, last = LastAddress(p);
      ASSERT_EQ(table.Lookup(first), reference.Lookup(first)) << first.ToString();
      ASSERT_EQ(table.Lookup(last), reference.Lookup(last)) << last.ToString();
    }
  }
}

}  // namespace
}  // namespace wgate::wg
