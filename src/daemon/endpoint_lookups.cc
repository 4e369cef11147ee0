#include "daemon/endpoint_lookups.h"

#include <algorithm>
#include <random>

namespace wgate::daemon {

EndpointLookups::EndpointLookups(const Clock* clock, std::function<double()> jitter)
    : clock_(clock), jitter_(std::move(jitter)) {}

double EndpointLookups::RandomJitter() {
  static std::minstd_rand engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

std::optional<SocketAddress> EndpointLookups::Cached(const std::string& endpoint_text) const {
  if (!good_ || endpoint_text != good_text_) return std::nullopt;
  return good_;
}

Duration EndpointLookups::WaitBeforeLookup(const std::string& endpoint_text) const {
  if (failures_ == 0 || endpoint_text != failed_text_) return Duration::zero();
  return std::max(Duration::zero(), next_try_ - clock_->Now());
}

std::string EndpointLookups::LastError(const std::string& endpoint_text) const {
  return failures_ > 0 && endpoint_text == failed_text_ ? failed_error_ : std::string();
}

void EndpointLookups::Succeeded(const std::string& endpoint_text, const SocketAddress& address) {
  good_text_ = endpoint_text;
  good_ = address;
  failures_ = 0;
  failed_text_.clear();
  failed_error_.clear();
}

void EndpointLookups::Failed(const std::string& endpoint_text, const std::string& error) {
  if (endpoint_text != failed_text_) failures_ = 0;
  failed_text_ = endpoint_text;
  failed_error_ = error;
  ++failures_;
  // 1 s, 2 s, 4 s ... 60 s; the shift stops growing long before it could overflow.
  Duration nominal = std::min<Duration>(kLookupBackoffFirst * (1LL << std::min(failures_ - 1, 16)),
                                        kLookupBackoffMax);
  double factor = 0.9 + 0.1 * std::clamp(jitter_(), 0.0, 1.0);
  next_try_ = clock_->Now() + std::chrono::duration_cast<Duration>(nominal * factor);
}

}  // namespace wgate::daemon
