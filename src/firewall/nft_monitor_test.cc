#include "firewall/nft_monitor.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <vector>

namespace wgate::firewall {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// Builds nf_tables event messages as the kernel sends them, back to back in one datagram.
class Events {
 public:
  // `table`: attribute 1, which names the table in every object message; nullptr for none.
  Events& Add(uint8_t type, uint8_t family, const char* table, uint32_t portid = 77,
              std::optional<uint32_t> table_flags = std::nullopt) {
    const size_t at = buf_.size();
    buf_.resize(at + MNL_SOCKET_BUFFER_SIZE);
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf_.data() + at);
    nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
    nlh->nlmsg_pid = portid;
    auto* gen = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg)));
    gen->nfgen_family = family;
    if (table != nullptr) mnl_attr_put_strz(nlh, 1, table);
    if (table_flags) mnl_attr_put_u32(nlh, NFTA_TABLE_FLAGS, htonl(*table_flags));
    buf_.resize(at + nlh->nlmsg_len);
    return *this;
  }
  // As a monitor of wgate's two tables whose own socket has port id 42 sees them.
  NftChanges Parsed() const {
    NftChanges out;
    ParseNftEvents(buf_.data(), buf_.size(), {"inet wgate", "inet wgate_owned"}, 42, &out);
    return out;
  }

 private:
  std::vector<uint8_t> buf_;
};

TEST(NftEventsTest, ReportsChangesToWatchedTablesOnly) {
  NftChanges c = Events()
                     .Add(NFT_MSG_DELRULE, NFPROTO_INET, "wgate")
                     .Add(NFT_MSG_DELCHAIN, NFPROTO_INET, "wgate")
                     .Add(NFT_MSG_DELTABLE, NFPROTO_INET, "wgate")
                     .Add(NFT_MSG_NEWRULE, NFPROTO_INET, "other")   // someone else's table
                     .Add(NFT_MSG_NEWTABLE, NFPROTO_IPV4, "wgate")  // same name, other family
                     .Add(NFT_MSG_NEWGEN, NFPROTO_UNSPEC, nullptr)  // end of the batch
                     .Parsed();
  EXPECT_TRUE(c.changed);
  EXPECT_THAT(c.descriptions,
              ElementsAre("NFT_MSG_DELRULE inet wgate", "NFT_MSG_DELCHAIN inet wgate",
                          "NFT_MSG_DELTABLE inet wgate"));
}

TEST(NftEventsTest, NamesTheDormantFlag) {
  NftChanges c = Events()
                     .Add(NFT_MSG_NEWTABLE, NFPROTO_INET, "wgate", 77, NFT_TABLE_F_DORMANT)
                     .Add(NFT_MSG_NEWTABLE, NFPROTO_INET, "wgate_owned", 77, NFT_TABLE_F_OWNER)
                     .Parsed();
  EXPECT_THAT(c.descriptions, ElementsAre("NFT_MSG_NEWTABLE inet wgate flags dormant",
                                          "NFT_MSG_NEWTABLE inet wgate_owned flags owner"));
}

TEST(NftEventsTest, IgnoresItsOwnProcessesTransactions) {
  NftChanges c = Events()
                     .Add(NFT_MSG_DELTABLE, NFPROTO_INET, "wgate", /*portid=*/42)
                     .Add(NFT_MSG_NEWTABLE, NFPROTO_INET, "wgate", /*portid=*/42)
                     .Parsed();
  EXPECT_FALSE(c.changed);
  EXPECT_THAT(c.descriptions, IsEmpty());
}

TEST(NftEventsTest, IgnoresOtherSubsystemsAndNamelessMessages) {
  Events e;
  e.Add(NFT_MSG_NEWRULE, NFPROTO_INET, nullptr);
  NftChanges c = e.Parsed();
  EXPECT_FALSE(c.changed);
}

TEST(NftEventsTest, DescribesABurstOncePerKindAndCapsTheLines) {
  Events e;
  for (int i = 0; i < 100; ++i) e.Add(NFT_MSG_DELRULE, NFPROTO_INET, "wgate");
  e.Add(NFT_MSG_DELTABLE, NFPROTO_INET, "wgate");
  EXPECT_THAT(e.Parsed().descriptions,
              ElementsAre("NFT_MSG_DELRULE inet wgate", "NFT_MSG_DELTABLE inet wgate"));
  Events many;
  for (uint8_t type :
       {NFT_MSG_NEWRULE, NFT_MSG_DELRULE, NFT_MSG_NEWCHAIN, NFT_MSG_DELCHAIN, NFT_MSG_NEWSET,
        NFT_MSG_DELSET, NFT_MSG_NEWSETELEM, NFT_MSG_DELSETELEM, NFT_MSG_NEWOBJ, NFT_MSG_DELOBJ}) {
    many.Add(type, NFPROTO_INET, "wgate");
  }
  NftChanges c = many.Parsed();
  EXPECT_TRUE(c.changed);
  ASSERT_EQ(c.descriptions.size(), NftChanges::kMaxDescriptions + 1);
  EXPECT_EQ(c.descriptions.back(), "...");
}

TEST(NftFamilyNameTest, SpellsFamiliesAsNftDoes) {
  EXPECT_EQ(NftFamilyName(NFPROTO_INET), "inet");
  EXPECT_EQ(NftFamilyName(NFPROTO_IPV6), "ip6");
  EXPECT_EQ(NftFamilyName(NFPROTO_NETDEV), "netdev");
  EXPECT_EQ(NftFamilyName(99), "family 99");
}

}  // namespace
}  // namespace wgate::firewall
