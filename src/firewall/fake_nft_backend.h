// FakeNftBackend: an in-memory stand-in for the kernel's nftables, for tests of the applier, the
// verifier and the daemon that need no root.
//
// It understands the commands wgate's scripts use (`add table`, `delete table`, `flush table`,
// one trailing `table inet wgate { ... }` block, `#` comments), applies a script all-or-nothing
// like the kernel, and lists the table in nft's layout. Tests tamper with the "kernel" through
// table(), make the next Run() or listing fail, and can set a normaliser that rewrites rules as
// nft does, to prove the verifier does not depend on the listing echoing the script.
#pragma once

#include <functional>
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
    std::optional<TableListing> next = table_;  // all-or-nothing: work on a copy
    const std::string table_line = StrCat("table ", kTable, " {");
    for (std::string_view line : SplitTrimmed(script, '\n')) {
      if (line.empty() || line[0] == '#') continue;
      if (line == StrCat("add table ", kTable)) {
        if (!next) next.emplace();
      } else if (line == StrCat("delete table ", kTable)) {
        if (!next) return Error("nft: Error: Could not process rule: No such file or directory");
        next.reset();
      } else if (line == StrCat("flush table ", kTable)) {
        if (!next) return Error("nft: Error: Could not process rule: No such file or directory");
        for (ListedObject& o : next->objects) o.lines.clear();
      } else if (line == table_line) {
        Result<TableListing> block = ParseTableListing(script.substr(script.find(table_line)));
        if (!block) return Error(StrCat("nft: Error: syntax error: ", block.error().message()));
        if (!next) next.emplace();
        for (ListedObject& o : block->objects) {
          for (std::string& rule : o.lines) {
            if (normaliser_) rule = normaliser_(rule);
          }
          next->objects.push_back(std::move(o));
        }
        break;  // the block is the end of the script
      } else {
        return Error(StrCat("nft: Error: fake does not understand `", line, "`"));
      }
    }
    table_ = std::move(next);
    return Ok();
  }

  Result<std::optional<std::string>> ListTable(std::string_view table) override {
    ++list_calls_;
    if (list_error_) return *std::exchange(list_error_, std::nullopt);
    if (table != kTable || !table_) return std::optional<std::string>();
    return std::optional<std::string>(RenderTableListing(*table_));
  }

  // The "kernel" state; tests edit it to tamper from outside. nullopt: no table.
  std::optional<TableListing>& table() { return table_; }
  const std::vector<std::string>& scripts() const { return scripts_; }
  int list_calls() const { return list_calls_; }

  void FailNextRun(Error e) { run_error_ = std::move(e); }
  void FailNextList(Error e) { list_error_ = std::move(e); }
  // Applied to every rule a script installs, as nft rewrites rules when it lists them.
  void SetNormaliser(std::function<std::string(const std::string&)> f) {
    normaliser_ = std::move(f);
  }

 private:
  std::optional<TableListing> table_;
  std::vector<std::string> scripts_;
  std::optional<Error> run_error_;
  std::optional<Error> list_error_;
  std::function<std::string(const std::string&)> normaliser_;
  int list_calls_ = 0;
};

}  // namespace wgate::firewall
