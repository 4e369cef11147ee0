// FakeNftBackend: an in-memory stand-in for the kernel's nftables, for tests of the applier, the
// verifier and the daemon that need no root.
//
// It understands the commands wgate's scripts use (`add table`, `delete table`, `flush table`,
// `table <name> { ... }` blocks, `#` comments) for any number of tables, applies a script
// all-or-nothing like the kernel, and lists a table in nft's layout. Tests can make the owner
// flag fail (an old kernel) or a table belong to another process (EPERM). Tests tamper with the
// "kernel" through table(), make the next Run() or listing fail, and can set a normaliser that
// rewrites rules as nft does, to prove the verifier does not depend on the listing echoing the
// script.
#pragma once

#include <algorithm>
#include <cerrno>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/strings.h"
#include "firewall/listing.h"
#include "firewall/nft_backend.h"

namespace wgate::firewall {

class FakeNftBackend final : public NftBackend {
 public:
  Status Run(std::string_view script) override {
    scripts_.emplace_back(script);
    if (run_error_) return *std::exchange(run_error_, std::nullopt);
    Tables next = tables_;  // all-or-nothing: work on a copy
    const std::vector<std::string_view> lines = SplitTrimmed(script, '\n');
    for (size_t i = 0; i < lines.size(); ++i) {
      const std::string_view line = lines[i];
      if (line.empty() || line[0] == '#') continue;
      if (owner_error_ && line.find("flags owner") != std::string_view::npos) return *owner_error_;
      if (Status s = Touch(line); !s) return s;
      if (Starts(line, "add table ")) {
        std::optional<TableListing>& t = next[Name(line.substr(10))];
        if (!t) {
          t.emplace();
          if (line.find("flags owner") != std::string_view::npos)
            t->attributes.push_back("flags owner");
        }
      } else if (Starts(line, "delete table ")) {
        std::optional<TableListing>& t = next[Name(line.substr(13))];
        if (!t) return Error("nft: Error: Could not process rule: No such file or directory");
        t.reset();
      } else if (Starts(line, "flush table ")) {
        std::optional<TableListing>& t = next[Name(line.substr(12))];
        if (!t) return Error("nft: Error: Could not process rule: No such file or directory");
        for (ListedObject& o : t->objects) o.lines.clear();
      } else if (Starts(line, "table ") && line.back() == '{') {
        const std::string name = Name(line.substr(6));
        // The block runs to the line that closes its brace.
        std::string block;
        int depth = 0;
        for (; i < lines.size(); ++i) {
          block += StrCat(lines[i], "\n");
          for (char c : lines[i]) depth += c == '{' ? 1 : c == '}' ? -1 : 0;
          if (depth == 0) break;
        }
        Result<TableListing> parsed = ParseTableListing(block, name);
        if (!parsed) return Error(StrCat("nft: Error: syntax error: ", parsed.error().message()));
        std::optional<TableListing>& t = next[name];
        if (!t) t.emplace();
        for (std::string& a : parsed->attributes) {
          if (!a.empty() && a.back() == ';') a.pop_back();  // nft lists `flags owner;` bare
          if (std::find(t->attributes.begin(), t->attributes.end(), a) == t->attributes.end())
            t->attributes.push_back(a);
        }
        for (ListedObject& o : parsed->objects) {
          for (std::string& rule : o.lines) {
            if (normaliser_) rule = normaliser_(rule);
          }
          t->objects.push_back(std::move(o));
        }
      } else {
        return Error(StrCat("nft: Error: fake does not understand `", line, "`"));
      }
    }
    tables_ = std::move(next);
    return Ok();
  }

  Result<std::optional<std::string>> ListTable(std::string_view table) override {
    ++list_calls_;
    if (list_error_) return *std::exchange(list_error_, std::nullopt);
    auto it = tables_.find(table);
    if (it == tables_.end() || !it->second) return std::optional<std::string>();
    return std::optional<std::string>(RenderTableListing(*it->second, table));
  }

  // The "kernel" state of one table ("inet wgate" unless named); tests edit it to tamper from
  // outside. nullopt: no such table.
  std::optional<TableListing>& table(std::string_view name = kTable) {
    return tables_[std::string(name)];
  }
  const std::vector<std::string>& scripts() const { return scripts_; }
  int list_calls() const { return list_calls_; }

  void FailNextRun(Error e) { run_error_ = std::move(e); }
  void FailNextList(Error e) { list_error_ = std::move(e); }
  // Every script that uses `flags owner` fails with `e`, as on a kernel without table ownership
  // (EOPNOTSUPP) or with a table of that name owned by another process (EPERM).
  void FailOwnerFlag(Error e) { owner_error_ = std::move(e); }
  // Every command that names `table` fails with EPERM: another process owns it.
  void OwnedByOther(std::string table) { foreign_.push_back(std::move(table)); }
  // Applied to every rule a script installs, as nft rewrites rules when it lists them.
  void SetNormaliser(std::function<std::string(const std::string&)> f) {
    normaliser_ = std::move(f);
  }

 private:
  using Tables = std::map<std::string, std::optional<TableListing>, std::less<>>;

  static bool Starts(std::string_view s, std::string_view prefix) {
    return s.substr(0, prefix.size()) == prefix;
  }
  // "inet wgate_owned { flags owner; }" -> "inet wgate_owned"
  static std::string Name(std::string_view rest) {
    return std::string(TrimSpace(rest.substr(0, rest.find('{'))));
  }
  Status Touch(std::string_view line) const {
    for (const std::string& t : foreign_) {
      if (line.find(StrCat(" ", t, " ")) != std::string_view::npos ||
          line.substr(line.size() - std::min(line.size(), t.size() + 1)) == StrCat(" ", t)) {
        return Error("nft: Error: Could not process rule: Operation not permitted", EPERM);
      }
    }
    return Ok();
  }

  Tables tables_;
  std::vector<std::string> scripts_;
  std::optional<Error> run_error_;
  std::optional<Error> list_error_;
  std::optional<Error> owner_error_;
  std::vector<std::string> foreign_;
  std::function<std::string(const std::string&)> normaliser_;
  int list_calls_ = 0;
};

}  // namespace wgate::firewall
