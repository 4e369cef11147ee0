// wgate's exit codes (documented in the README).
#pragma once

namespace wgate::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInvalid =
    1;  // invalid input: a config or setting is wrong, a file is missing
inline constexpr int kExitUsage = 2;       // the command line itself is wrong
inline constexpr int kExitFailure = 3;     // a system operation failed (netlink, nftables, sockets)
inline constexpr int kExitNotRunning = 4;  // no wgate daemon answers for this namespace

}  // namespace wgate::cli
