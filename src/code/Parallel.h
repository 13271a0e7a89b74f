// Internal: a parallel for over [0, n) with dynamic scheduling.
#pragma once
#include <atomic>
#include <thread>
#include <vector>

namespace sb::code {

template <typename Fn>
void parallelFor(size_t n, unsigned threads, Fn &&fn) {
  if (threads == 0)
    threads = std::max(1u, std::thread::hardware_concurrency());
  if (n < 64 || threads == 1) {
    for (size_t i = 0; i < n; ++i)
      fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (;;) {
      size_t begin = next.fetch_add(32);
      if (begin >= n)
        return;
      size_t end = std::min(n, begin + 32);
      for (size_t i = begin; i < end; ++i)
        fn(i);
    }
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(worker);
  worker();
  for (auto &t : pool)
    t.join();
}

} // namespace sb::code
