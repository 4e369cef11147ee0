#include "firewall/listing.h"

#include <algorithm>
#include <set>

#include "base/strings.h"

namespace wgate::firewall {
namespace {

// '{' minus '}' outside double-quoted strings (rule comments may contain braces).
int NetBraces(std::string_view line) {
  int net = 0;
  bool quoted = false;
  for (size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '{') {
      ++net;
    } else if (c == '}') {
      --net;
    }
  }
  return net;
}

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// `table inet wgate {`, or with a comment after the brace (`{ # progname wgate`).
bool IsOpening(std::string_view line, std::string_view opening) {
  if (!StartsWith(line, opening)) return false;
  std::string_view rest = TrimSpace(line.substr(opening.size()));
  return rest.empty() || rest[0] == '#';
}

std::string Describe(const ListedObject& o) { return StrCat(o.kind, " ", o.name); }

const ListedObject* Find(const TableListing& t, std::string_view kind, std::string_view name) {
  for (const ListedObject& o : t.objects) {
    if (o.kind == kind && o.name == name) return &o;
  }
  return nullptr;
}

// Longest common subsequence of two rule lists: marks which elements of each side are matched.
void MatchInOrder(const std::vector<std::string>& a, const std::vector<std::string>& b,
                  std::vector<bool>* a_matched, std::vector<bool>* b_matched) {
  const size_t n = a.size(), m = b.size();
  std::vector<std::vector<size_t>> lcs(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = n; i-- > 0;) {
    for (size_t j = m; j-- > 0;) {
      lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
    }
  }
  a_matched->assign(n, false);
  b_matched->assign(m, false);
  for (size_t i = 0, j = 0; i < n && j < m;) {
    if (a[i] == b[j]) {
      (*a_matched)[i++] = true;
      (*b_matched)[j++] = true;
    } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
      ++i;
    } else {
      ++j;
    }
  }
}

void CompareLines(std::string_view where, std::string_view noun,
                  const std::vector<std::string>& want, const std::vector<std::string>& got,
                  std::vector<std::string>* out) {
  std::vector<bool> want_matched, got_matched;
  MatchInOrder(want, got, &want_matched, &got_matched);
  std::multiset<std::string> missing, extra;
  for (size_t i = 0; i < want.size(); ++i) {
    if (!want_matched[i]) missing.insert(want[i]);
  }
  for (size_t j = 0; j < got.size(); ++j) {
    if (!got_matched[j]) extra.insert(got[j]);
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want_matched[i]) continue;
    if (extra.count(want[i]) > 0) {
      out->push_back(
          StrCat(where, ": ", noun, " ", i + 1, " of ", want.size(), " moved: `", want[i], "`"));
    } else {
      out->push_back(
          StrCat(where, ": ", noun, " ", i + 1, " of ", want.size(), " missing: `", want[i], "`"));
    }
  }
  for (size_t j = 0; j < got.size(); ++j) {
    if (got_matched[j] || missing.count(got[j]) > 0) continue;
    out->push_back(
        StrCat(where, ": unexpected ", noun, " at position ", j + 1, ": `", got[j], "`"));
  }
}

}  // namespace

const ListedObject* TableListing::FindChain(std::string_view name) const {
  return Find(*this, "chain", name);
}

size_t TableListing::RuleCount() const {
  size_t n = 0;
  for (const ListedObject& o : objects) {
    if (o.kind == "chain") n += o.lines.size();
  }
  return n;
}

Result<TableListing> ParseTableListing(std::string_view text, std::string_view table_name) {
  const std::string opening = StrCat("table ", table_name, " {");
  std::vector<std::string_view> lines = SplitTrimmed(text, '\n');
  size_t i = 0;
  while (i < lines.size() && !IsOpening(lines[i], opening)) ++i;
  if (i == lines.size()) {
    return Error(StrCat("firewall: nft listing has no `", opening, "` line"));
  }
  ++i;

  TableListing table;
  ListedObject* object = nullptr;  // the object whose body is being read
  std::string pending;             // a logical line whose braces are not closed yet
  int pending_depth = 0;
  for (; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (!pending.empty()) {
      pending += StrCat(" ", line);
      pending_depth += NetBraces(line);
      if (pending_depth > 0) continue;
      line = pending;
    } else if (line.empty()) {
      continue;
    } else if (object != nullptr && line != "}" && NetBraces(line) > 0) {
      pending = std::string(line);
      pending_depth = NetBraces(line);
      continue;
    }
    const std::string logical(line);
    pending.clear();

    if (object == nullptr) {
      if (logical == "}") return table;  // end of the table
      if (EndsWith(logical, "{")) {
        std::vector<std::string_view> words = SplitTrimmed(logical, ' ');
        if (words.size() != 3) {
          return Error(
              StrCat("firewall: nft listing line ", i + 1, ": cannot parse `", logical, "`"));
        }
        table.objects.push_back(ListedObject{std::string(words[0]), std::string(words[1]), "", {}});
        object = &table.objects.back();
      } else {
        table.attributes.push_back(logical);
      }
      continue;
    }
    if (logical == "}") {
      object = nullptr;
      continue;
    }
    if (object->kind == "chain" && object->header.empty() && object->lines.empty() &&
        StartsWith(logical, "type ") && logical.find(" hook ") != std::string::npos) {
      object->header = logical;
    } else {
      object->lines.push_back(logical);
    }
  }
  return Error(
      StrCat("firewall: nft listing of table ", table_name, " ends before its closing `}`"));
}

std::string RenderTableListing(const TableListing& listing, std::string_view table_name) {
  std::string out = StrCat("table ", table_name, " {\n");
  for (const std::string& a : listing.attributes) out += StrCat("\t", a, "\n");
  for (size_t i = 0; i < listing.objects.size(); ++i) {
    const ListedObject& o = listing.objects[i];
    if (i > 0) out += "\n";
    out += StrCat("\t", o.kind, " ", o.name, " {\n");
    if (!o.header.empty()) out += StrCat("\t\t", o.header, "\n");
    for (const std::string& l : o.lines) out += StrCat("\t\t", l, "\n");
    out += "\t}\n";
  }
  out += "}\n";
  return out;
}

std::vector<std::string> CheckInvariants(const TableListing& got) {
  std::vector<std::string> out;
  for (const BaseChain& base : kBaseChains) {
    const ListedObject* chain = got.FindChain(base.name);
    if (chain == nullptr) {
      out.push_back(StrCat("chain ", base.name, " is missing"));
    } else if (chain->header != base.header) {
      out.push_back(StrCat("chain ", base.name, ": header changed: expected `", base.header,
                           "`, found `", chain->header, "`"));
    }
  }
  return out;
}

std::vector<std::string> CheckFailClosedShape(const TableListing& got) {
  std::vector<std::string> out = CheckInvariants(got);
  for (const std::string& a : got.attributes) {
    out.push_back(StrCat("table ", kTable, " has an attribute wgate never sets: `", a, "`"));
  }
  std::set<std::string_view> chains = {"refuse", kRerouteChain.name};
  for (const BaseChain& base : kBaseChains) chains.insert(base.name);
  const std::set<std::string_view> sets(std::begin(kPublishedUdpSets), std::end(kPublishedUdpSets));
  for (const ListedObject& o : got.objects) {
    if (o.kind == "set" && sets.count(o.name)) continue;  // only ever narrows a hole
    if (o.kind != "chain" || !chains.count(o.name)) {
      out.push_back(StrCat("unexpected ", o.kind, " ", o.name));
      continue;
    }
    if (o.name == kRerouteChain.name && o.header != kRerouteChain.header) {
      out.push_back(StrCat("chain ", o.name, ": header changed: expected `", kRerouteChain.header,
                           "`, found `", o.header, "`"));
    }
    for (const std::string& rule : o.lines) {
      std::string_view r = rule;
      if (o.name == "refuse") {
        bool rejects = StartsWith(r, "reject") || r.find(" reject") != std::string_view::npos;
        if (!rejects || r.find("accept") != r.npos)
          out.push_back(StrCat("chain refuse: a rule that is not a reject: `", rule, "`"));
        continue;
      }
      std::string_view bare = StartsWith(r, "counter ") ? r.substr(8) : r;
      if (bare == "accept") {
        out.push_back(StrCat("chain ", o.name, ": a rule that matches everything: `", rule, "`"));
      }
      for (std::string_view verdict : {"jump ", "goto "}) {
        size_t at = r.find(verdict);
        if (at != std::string_view::npos && !StartsWith(r.substr(at + 5), "refuse")) {
          out.push_back(StrCat("chain ", o.name, ": a jump out of wgate's chains: `", rule, "`"));
        }
      }
    }
  }
  return out;
}

std::optional<Mode> ListedMode(const TableListing& got) {
  const ListedObject* output = got.FindChain("output");
  if (output == nullptr || output->lines.empty()) return std::nullopt;
  const std::string& last = output->lines.back();
  for (Mode m : {Mode::kLockdown, Mode::kConnected}) {
    if (last.find(StrCat("\"wgate kill switch (", ModeName(m), ")\"")) != std::string::npos)
      return m;
  }
  return std::nullopt;
}

std::vector<std::string> OutputInterfaces(const TableListing& got) {
  std::vector<std::string> out;
  const ListedObject* output = got.FindChain("output");
  if (output == nullptr) return out;
  constexpr std::string_view kKey = "oifname \"";
  for (const std::string& rule : output->lines) {
    size_t at = rule.find(kKey);
    if (at == std::string::npos) continue;
    size_t end = rule.find('"', at + kKey.size());
    if (end == std::string::npos) continue;
    std::string name = rule.substr(at + kKey.size(), end - at - kKey.size());
    if (name != "lo" && std::find(out.begin(), out.end(), name) == out.end()) out.push_back(name);
  }
  return out;
}

std::vector<std::string> CompareWithRuleset(const Ruleset& applied, const TableListing& got) {
  std::vector<std::string> out;
  for (const Chain& want : applied.chains) {
    const ListedObject* chain = got.FindChain(want.name);
    if (chain == nullptr) {
      out.push_back(StrCat("chain ", want.name, " is missing"));
      continue;
    }
    if (chain->header != want.header) {
      out.push_back(StrCat("chain ", want.name, ": header changed: expected `", want.header,
                           "`, found `", chain->header, "`"));
    }
    if (chain->lines.size() != want.rules.size()) {
      out.push_back(StrCat("chain ", want.name, ": applied ", want.rules.size(),
                           " rules, the kernel lists ", chain->lines.size()));
    }
  }
  for (const Set& want : applied.sets) {
    const ListedObject* set = Find(got, "set", want.name);
    if (set == nullptr) {
      out.push_back(StrCat("set ", want.name, " is missing"));
    } else if (set->lines != want.lines) {
      out.push_back(StrCat("set ", want.name, ": applied `", Join(want.lines, "; "),
                           "`, the kernel lists `", Join(set->lines, "; "), "`"));
    }
  }
  for (const ListedObject& o : got.objects) {
    const bool known =
        (o.kind == "chain" && std::any_of(applied.chains.begin(), applied.chains.end(),
                                          [&](const Chain& c) { return c.name == o.name; })) ||
        (o.kind == "set" && std::any_of(applied.sets.begin(), applied.sets.end(),
                                        [&](const Set& c) { return c.name == o.name; }));
    if (!known) out.push_back(StrCat("unexpected ", Describe(o)));
  }
  return out;
}

std::vector<std::string> CompareListings(const TableListing& want, const TableListing& got,
                                         std::string_view table_name) {
  std::vector<std::string> out;
  const size_t want_rules = want.RuleCount();
  const bool flushed = want_rules > 0 && got.RuleCount() == 0;
  if (flushed) {
    out.push_back(StrCat("table ", table_name, " was flushed: all ", want_rules,
                         " rules are gone (the chains that remain keep policy drop)"));
  }
  CompareLines(StrCat("table ", table_name), "attribute", want.attributes, got.attributes, &out);
  for (const ListedObject& w : want.objects) {
    const ListedObject* g = Find(got, w.kind, w.name);
    if (g == nullptr) {
      out.push_back(StrCat(Describe(w), " is missing"));
      continue;
    }
    if (g->header != w.header) {
      out.push_back(StrCat(Describe(w), ": header changed: expected `", w.header, "`, found `",
                           g->header, "`"));
    }
    if (!flushed)
      CompareLines(Describe(w), w.kind == "chain" ? "rule" : "line", w.lines, g->lines, &out);
  }
  for (const ListedObject& g : got.objects) {
    if (Find(want, g.kind, g.name) == nullptr) out.push_back(StrCat("unexpected ", Describe(g)));
  }
  return out;
}

}  // namespace wgate::firewall
